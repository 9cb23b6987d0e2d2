import Foundation
import Testing
@testable import NWCommandLine

/// The tool's conventions for scripts: exit statuses, notes, escaped messages, stdout output,
/// shell completion and clean interruption.
/// (Foundation has an ExitStatus too.)
typealias Status = NWCommandLine.ExitStatus

@Suite("Command-line conventions")
struct ConventionsCommandTests {
    static let train = "x,y\n0,1\n1,3\n2,2\n3,5\n4,4\n"

    @Test("exit statuses: 64 bad option, 65 bad data, 66 missing input, 73 unwritable output")
    func exitStatuses() throws {
        let scratch = try Scratch()
        let train = try scratch.write("train.csv", Self.train)
        let bad = try scratch.write("bad.csv", "x,y\n0,1\n1,zz\n")
        let cases: [([String], Status)] = [
            (["predict", "--train", train, "--query", train, "--kernel", "nope", "--bandwidth", "1"], .usage),
            (["predict", "--train", train, "--query", train, "--bandwidth", "1"], .usage),
            (["predict", "--train", train, "--query", train, "--kernel", "gaussian", "--bandwidth", "1,2,3"], .usage),
            (["predict", "--train", bad, "--query", train, "--kernel", "gaussian", "--bandwidth", "1"], .dataError),
            (["predict", "--train", scratch.path("missing.csv"), "--query", train, "--kernel", "gaussian", "--bandwidth", "1"],
             .noInput),
            (["predict", "--train", train, "--query", train, "--kernel", "gaussian", "--bandwidth", "1",
              "--output", scratch.path("no/such/dir/out.csv")], .cannotCreate),
        ]
        for (arguments, status) in cases {
            let result = try NW.run(arguments)
            #expect(result.status == status.rawValue, "\(arguments): \(result.status) \(result.stderr)")
            #expect(result.stderrLines.count == 1 && result.stderr.hasPrefix("nw: ") && !result.stderr.hasPrefix("nw: note:"))
        }
    }

    @Test("notes on success start with nw: note:")
    func notes() throws {
        let scratch = try Scratch()
        let train = try scratch.write("train.csv", Self.train)
        let result = try NW.run(["bandwidth", "--train", train, "--method", "cv"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(!result.stderrLines.isEmpty && result.stderrLines.allSatisfy { $0.hasPrefix("nw: note: cv: ") }, "\(result.stderr)")
    }

    @Test("control characters in a cell are escaped in the error, not sent to the terminal")
    func escapedControls() throws {
        let scratch = try Scratch()
        let train = try scratch.write("train.csv", "x,y\n0,1\n1,\u{1B}[31mred\u{7}\n")
        let result = try NW.run(["predict", "--train", train, "--query", train, "--kernel", "gaussian", "--bandwidth", "1"])
        #expect(result.status == Status.dataError.rawValue)
        #expect(!result.stderr.unicodeScalars.contains { $0.properties.generalCategory == .control && $0 != "\n" }, "\(result.stderr)")
        #expect(result.stderr.contains("\\u{1B}[31mred\\u{7}"), "\(result.stderr)")
        #expect(CommandLineError("a\u{1B}b\nc\td").description == "a\\u{1B}b c\\u{9}d")
    }

    @Test("nw plot --output - writes the SVG to standard output")
    func plotToStandardOutput() throws {
        let train = NW.fixture("mcycle.csv")
        let result = try NW.run(["plot", "--train", train, "--query", train, "--kernel", "gaussian", "--bandwidth", "2",
                                 "--output", "-"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("<svg") || result.stdout.hasPrefix("<?xml"))
        #expect(result.stdout.hasSuffix("</svg>\n") || result.stdout.hasSuffix("</svg>"))
    }

    @Test("shell completion lists the kernels, forms and policies")
    func completion() throws {
        for shell in ["bash", "zsh", "fish"] {
            let result = try NW.run(["--generate-completion-script", shell])
            #expect(result.status == 0)
            for word in ["epanechnikov", "laplacian", "product", "nearest"] {
                #expect(result.stdout.contains(word), "\(shell) completion lacks \(word)")
            }
        }
    }

    @Test("SIGTERM during a long predict removes the temporary output and exits 128 + 15", arguments: [SIGTERM, SIGINT])
    func interrupted(_ signal: Int32) throws {
        let scratch = try Scratch()
        let n = 40_000
        var text = "x,y\n"
        for i in 0..<n { text += "\(Double(i) / Double(n)),\(i % 7)\n" }
        let train = try scratch.write("train.csv", text)
        let process = Process()
        process.executableURL = NW.binary
        process.arguments = ["predict", "--train", train, "--query", train, "--kernel", "gaussian", "--bandwidth", "0.5",
                             "--threads", "1", "--output", scratch.path("out.csv")]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Wait for the temporary file (created before any work), then interrupt.
        let deadline = Date().addingTimeInterval(30)
        while !scratch.listing().contains(where: { $0.hasSuffix(".tmp") }) && process.isRunning && Date() < deadline {
            usleep(2_000)
        }
        #expect(process.isRunning, "the predict finished before it could be interrupted")
        kill(process.processIdentifier, signal)
        process.waitUntilExit()
        #expect(process.terminationReason == .exit && process.terminationStatus == Status.signal(signal))
        #expect(scratch.listing() == ["train.csv"], "\(scratch.listing())")
    }
}
