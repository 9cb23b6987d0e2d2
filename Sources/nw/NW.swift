import ArgumentParser
import NWCommandLine
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `nw`: Nadaraya–Watson kernel regression ("attention pooling") from the command line.
struct NW: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nw",
        abstract: "Nadaraya–Watson kernel regression and classification (attention pooling).",
        discussion: """
        f(q) = Σᵢ vᵢ α(q, kᵢ) / Σⱼ α(q, kⱼ): each prediction is a weighted average of the training \
        values, weighted by a kernel of the query's distance to each training key.
        """,
        version: "0.1.0",
        subcommands: [Demo.self, Predict.self, BandwidthCommand.self, Train.self, Density.self, Plot.self]
    )
}

/// Parses and runs; prints any error as exactly one line on stderr and exits non-zero.
@main
enum Main {
    static func main() {
        do {
            var command = try NW.parseAsRoot()
            try command.run()
        } catch {
            let code = NW.exitCode(for: error)
            if code == .success {
                print(NW.fullMessage(for: error))
                exit(0)
            }
            let message = (error as? CommandLineError)?.description
                ?? NW.message(for: error).split(whereSeparator: \.isNewline).joined(separator: " ")
            StandardError.writeLine("nw: \(message)")
            exit(code.rawValue == 0 ? 1 : code.rawValue)
        }
    }
}
