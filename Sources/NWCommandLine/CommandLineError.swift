/// The exit status of a failed run, after BSD's sysexits.h, so that scripts can tell a bad
/// option from bad data from a missing file.
public enum ExitStatus: Int32, Sendable, CaseIterable {
    /// Anything else.
    case failure = 1
    /// A bad option or option value (EX_USAGE).
    case usage = 64
    /// Input that cannot be used as given: a bad row or cell, data an estimator cannot fit
    /// (EX_DATAERR).
    case dataError = 65
    /// An input file that cannot be opened or read (EX_NOINPUT).
    case noInput = 66
    /// An output that cannot be created or written (EX_CANTCREAT).
    case cannotCreate = 73
    /// Interrupted by signal s: 128 + s, as a shell reports it (SIGINT 130, SIGTERM 143).
    public static func signal(_ s: Int32) -> Int32 { 128 + s }
}

/// An error the `nw` tool reports as exactly one line on stderr, with a non-zero exit.
///
/// File errors read `FILE:LINE: message` or `FILE:LINE:COLUMN: message` (1-based; line 1 is the
/// header), like a compiler's, so editors can jump to them.
public struct CommandLineError: Error, CustomStringConvertible, Equatable, Sendable {
    public let message: String
    /// The process's exit status for this error.
    public let status: ExitStatus

    public init(_ message: String, status: ExitStatus = .failure) {
        self.message = message
        self.status = status
    }

    /// An error about a whole file (by default its contents: a data error).
    public static func file(_ file: String, _ message: String, status: ExitStatus = .dataError) -> CommandLineError {
        CommandLineError("\(file): \(message)", status: status)
    }

    /// An error about a line of a file.
    public static func line(_ file: String, _ line: Int, _ message: String) -> CommandLineError {
        CommandLineError("\(file):\(line): \(message)", status: .dataError)
    }

    /// An error about one cell: names the line, the column's 1-based index and its name.
    public static func cell(_ file: String, line: Int, column: Int, name: String, _ message: String) -> CommandLineError {
        CommandLineError("\(file):\(line):\(column + 1): column '\(name)' \(message)", status: .dataError)
    }

    /// An error about a command-line option's value.
    public static func option(_ option: String, _ message: String) -> CommandLineError {
        CommandLineError("\(option): \(message)", status: .usage)
    }

    /// The single line printed on stderr: newlines folded into spaces, and every other control
    /// character (a cell may hold ESC[31m) escaped as `\u{1B}`, so that no message can recolour
    /// or rewrite the user's terminal.
    public var description: String { Self.oneLine(message) }

    /// `text` on one line with its control characters escaped (see ``description``).
    public static func oneLine(_ text: String) -> String {
        var result = "", pendingSpace = false
        for scalar in text.unicodeScalars {
            if scalar == "\n" || scalar == "\r" || scalar == "\u{2028}" || scalar == "\u{2029}" || scalar == "\u{0B}"
                || scalar == "\u{0C}" || scalar == "\u{85}" {
                pendingSpace = !result.isEmpty
                continue
            }
            if pendingSpace { result += " "; pendingSpace = false }
            if scalar.properties.generalCategory == .control {
                result += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
            } else {
                result.unicodeScalars.append(scalar)
            }
        }
        return result
    }
}
