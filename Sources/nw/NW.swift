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
            let message = (error as? CommandLineError)?.description ?? oneLine(NW.message(for: error))
            StandardError.writeLine("nw: \(message)")
            exit(code.rawValue == 0 ? 1 : code.rawValue)
        }
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
