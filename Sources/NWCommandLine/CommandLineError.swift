/// An error the `nw` tool reports as exactly one line on stderr, with a non-zero exit.
///
/// File errors read `FILE:LINE: message` or `FILE:LINE:COLUMN: message` (1-based; line 1 is the
/// header), like a compiler's, so editors can jump to them.
public struct CommandLineError: Error, CustomStringConvertible, Equatable, Sendable {
    public let message: String

    public init(_ message: String) {
        self.message = message
    }

    /// An error about a whole file.
    public static func file(_ file: String, _ message: String) -> CommandLineError {
        CommandLineError("\(file): \(message)")
    }

    /// An error about a line of a file.
    public static func line(_ file: String, _ line: Int, _ message: String) -> CommandLineError {
        CommandLineError("\(file):\(line): \(message)")
    }

    /// An error about one cell: names the line, the column's 1-based index and its name.
    public static func cell(_ file: String, line: Int, column: Int, name: String, _ message: String) -> CommandLineError {
        CommandLineError("\(file):\(line):\(column + 1): column '\(name)' \(message)")
    }

    /// An error about a command-line option's value.
    public static func option(_ option: String, _ message: String) -> CommandLineError {
        CommandLineError("\(option): \(message)")
    }

    /// The single line printed on stderr: newlines in the message are folded into spaces.
    public var description: String {
        message.split(whereSeparator: \.isNewline).joined(separator: " ")
    }
}
