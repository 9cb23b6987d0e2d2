import NWCommands

// The thin executable: everything, parsing included, lives in NWCommands (which the tests and
// the fuzzing harness reach).
CommandLineMain.main()
