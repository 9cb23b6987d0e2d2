import Foundation
import NWCommands

// Built with libFuzzer (scripts/fuzz.sh: -sanitize=fuzzer -DNW_LIBFUZZER), main hands the
// process to libFuzzer's driver; otherwise it replays every file given through the harness (a
// crash names the input).

/// libFuzzer's per-input callback.
func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    FuzzHarness.run(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}

#if NW_LIBFUZZER
@_silgen_name("LLVMFuzzerRunDriver")
func runDriver(_ argc: UnsafeMutablePointer<CInt>,
               _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
               _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt
#endif

@main
enum FuzzMain {
    static func main() {
        #if NW_LIBFUZZER
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        exit(runDriver(&argc, &argv) { fuzzOne($0, $1) })
        #else
        var count = 0
        for path in CommandLine.arguments.dropFirst() {
            guard let data = FileManager.default.contents(atPath: path) else { continue }
            _ = fuzzOne(Array(data), data.count)
            count += 1
        }
        print("replayed \(count) inputs")
        #endif
    }
}
