/// The properties a fuzzer checks on the input readers, over arbitrary bytes: TRAIN parsed and
/// read as keys, targets, labels and weights (every delimiter, missing policy and feature kind),
/// and one decimal cell against the standard library's parser. Every failure must be a
/// ``CommandLineError`` whose message is one line naming the file (or the option); anything else
/// — another error, a multi-line message, a number that differs — stops the process
/// (`preconditionFailure`), which is what the fuzzer looks for.
public enum InputFuzzing {
    /// The file name errors must name.
    static let file = "fuzz.csv"
    static let delimiters: [UInt8] = [UInt8(ascii: ","), UInt8(ascii: ";"), UInt8(ascii: "\t"), UInt8(ascii: "|")]

    /// TRAIN from `bytes`, `flags` choosing the delimiter (bits 0–1), `--missing drop` (2), a
    /// categorical first column (3), an ordered last feature (4), a density (5), the last
    /// column as sample weight (6).
    ///
    /// - Complexity: O(bytes.count).
    public static func readTraining(_ bytes: [UInt8], flags: UInt8) {
        var selection = ColumnSelection()
        selection.format = InputFormat(delimiter: delimiters[Int(flags & 3)], missing: flags & 4 != 0 ? .drop : .error)
        let density = flags & 32 != 0
        check {
            let table = try CSVTable(bytes: bytes, file: file, delimiter: delimiters[Int(flags & 3)])
            if flags & 8 != 0, let first = table.header.first { selection.categorical = [first] }
            if flags & 16 != 0, table.columnCount > 2 { selection.ordered = [table.header[table.columnCount - 2]] }
            if flags & 64 != 0, table.columnCount > 2, let last = table.header.last { selection.sampleWeight = last }
            let training = try TrainingData(table: table, selection: selection, hasTarget: !density)
            let keys = try training.keys()
            precondition(keys.rows == training.table.rowCount && keys.columns == training.featureColumns.count)
            _ = try training.sampleWeights()
            if !density {
                check { _ = try training.targets() }
                check { _ = try training.labels() }
            }
        }
    }

    /// One cell: when the reader accepts it, the value equals `Double(String)` of its trimmed
    /// text bit for bit.
    public static func readNumber(_ bytes: [UInt8]) {
        guard !bytes.contains(where: { $0 == UInt8(ascii: "\n") || $0 == UInt8(ascii: "\r") || $0 == UInt8(ascii: ",")
            || $0 == UInt8(ascii: "\"") || $0 == 0 }) else { return }
        check {
            let table = try CSVTable(bytes: Array("x\n".utf8) + bytes, file: file)
            guard table.rowCount == 1 else { return }
            let value = try table.number(row: 0, column: 0)
            let text = table.string(row: 0, column: 0).trimmingSpaces
            guard let expected = Double(text) else { preconditionFailure("accepted \(quoted(text)), which Double(String) rejects") }
            precondition(value.bitPattern == expected.bitPattern, "read \(quoted(text)) as \(value), Double(String) as \(expected)")
        }
    }

    /// Runs `body`; a ``CommandLineError`` must be one line naming the file or an option.
    static func check(_ body: () throws -> Void) {
        do {
            try body()
        } catch let error as CommandLineError {
            let line = error.description
            precondition(!line.contains(where: \.isNewline), "a multi-line error: \(line)")
            precondition(line.hasPrefix(file + ":") || line.hasPrefix("--"), "an error naming neither the file nor an option: \(line)")
        } catch {
            preconditionFailure("an error that is not a CommandLineError: \(error)")
        }
    }
}
