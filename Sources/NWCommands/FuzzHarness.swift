import ArgumentParser
import NWCommandLine

/// The fuzzing entry point (libFuzzer's `LLVMFuzzerTestOneInput` in `NWFuzz`, and the test
/// suite's mutation loop): byte 0 chooses the reader, byte 1 its flags, the rest is the input.
///
/// - 0: TRAIN as CSV (``InputFuzzing/readTraining(_:flags:)``);
/// - 1: one decimal cell against `Double(String)` (``InputFuzzing/readNumber(_:)``);
/// - 2: the command line: NUL-separated arguments after a subcommand byte 1 chooses, parsed
///   with every `validate()`; a parse error must fold to one line starting `nw: `.
///
/// A property that fails stops the process (`preconditionFailure`).
public enum FuzzHarness {
    static let subcommands = ["predict", "bandwidth", "density", "plot", "train", "demo", ""]

    public static func run(_ data: [UInt8]) {
        // Millions of inputs: no note lines (`--missing drop` writes one), restored after.
        let notes = StandardError.notesEnabled
        StandardError.notesEnabled = false
        defer { StandardError.notesEnabled = notes }
        guard data.count >= 2 else { return }
        let payload = Array(data[2...])
        switch data[0] % 3 {
        case 0: InputFuzzing.readTraining(payload, flags: data[1])
        case 1: InputFuzzing.readNumber(payload)
        default: parseArguments(payload, subcommand: subcommands[Int(data[1]) % subcommands.count])
        }
    }

    static func parseArguments(_ payload: [UInt8], subcommand: String) {
        var arguments = payload.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        if !subcommand.isEmpty { arguments.insert(subcommand, at: 0) }
        do {
            _ = try NW.parseAsRoot(arguments)
        } catch {
            guard let line = CommandLineMain.parsingErrorLine(error) else { return }
            precondition(line.hasPrefix("nw: ") && !line.contains(where: \.isNewline), "a multi-line error: \(line)")
        }
    }
}
