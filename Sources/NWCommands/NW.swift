import ArgumentParser
import NWCommandLine
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `nw`: Nadaraya–Watson kernel regression ("attention pooling") from the command line.
public struct NW: ParsableCommand {
    public init() {}

    public static let configuration = CommandConfiguration(
        commandName: "nw",
        abstract: "Nadaraya–Watson kernel regression and classification (attention pooling).",
        discussion: """
        f(q) = Σᵢ vᵢ α(q, kᵢ) / Σⱼ α(q, kⱼ): each prediction is a weighted average of the training \
        values, weighted by a kernel of the query's distance to each training key.

        Errors are one line on stderr, `nw: FILE:LINE:COLUMN: message` where a file is at fault; \
        notes on success start with `nw: note:`. Exit status: 0 success, 64 bad option or option \
        value, 65 bad data (a row, a cell, data an estimator cannot fit), 66 an input file cannot \
        be read, 73 an output cannot be created or written, 128 + s when signal s (SIGINT, \
        SIGTERM, SIGHUP) stopped the run (its temporary output removed), 1 anything else.
        """,
        version: "0.1.0",
        subcommands: [Demo.self, Predict.self, BandwidthCommand.self, Train.self, Density.self, Plot.self]
    )
}

/// Parsing and running, with every error as exactly one line: the `nw` executable's whole body.
public enum CommandLineMain {
    /// Parses `arguments` (nil: the process's) and runs; prints any error as one line on stderr
    /// and exits non-zero.
    public static func main(_ arguments: [String]? = nil) -> Never {
        var command: ParsableCommand
        do {
            command = try NW.parseAsRoot(arguments)
        } catch {
            // Parsing includes every validate(): whatever fails there is a usage error.
            fail(error, status: ExitStatus.usage.rawValue)
        }
        do {
            try command.run()
            Cluster.started?.finalize()
            exit(0)
        } catch let error as CommandLineError {
            // Under mpirun every rank fails together (the jobs agree on failures); rank 0 prints.
            if Cluster.launchRank == 0 && !error.isSilent { StandardError.writeLine("nw: \(error.description)") }
            Cluster.started?.finalize()
            exit(error.status.rawValue)
        } catch {
            fail(error, status: nil)
        }
    }

    /// The one line `nw` prints for a parsing error (help and version requests: nil, they print
    /// and exit 0).
    public static func parsingErrorLine(_ error: Error) -> String? {
        guard NW.exitCode(for: error) != .success else { return nil }
        return "nw: \(CommandLineError.oneLine(oneLine(NW.message(for: error))))"
    }

    /// Help and version requests print and exit 0; errors print one line and exit with
    /// `status` (or the parser's code, 1 when it has none).
    static func fail(_ error: Error, status: Int32?) -> Never {
        let code = NW.exitCode(for: error)
        if let cluster = Cluster.started {
            // Outside the jobs' agreed failures: no other rank can be waited for.
            if cluster.rank == 0, let line = parsingErrorLine(error) { StandardError.writeLine(line) }
            cluster.abort(status ?? ExitStatus.failure.rawValue)
        }
        if Cluster.launchRank != 0 { exit(status ?? (code.rawValue == 0 ? ExitStatus.failure.rawValue : code.rawValue)) }
        guard let line = parsingErrorLine(error) else {
            print(NW.fullMessage(for: error))
            exit(0)
        }
        StandardError.writeLine(line)
        exit(status ?? (code.rawValue == 0 ? ExitStatus.failure.rawValue : code.rawValue))
    }
}

/// The argument parser's message on one line: lines joined by spaces, a bulleted list of
/// values ("- gaussian", "- boxcar", …) as one comma list.
func oneLine(_ message: String) -> String {
    var text = "", inList = false
    for line in message.split(whereSeparator: \.isNewline) {
        let trimmed = line.drop { $0 == " " }
        if trimmed.hasPrefix("- ") {
            text += (inList ? ", " : " ") + trimmed.dropFirst(2)
            inList = true
        } else if !trimmed.isEmpty {
            text += (text.isEmpty ? "" : " ") + trimmed
            inList = false
        }
    }
    return text
}
