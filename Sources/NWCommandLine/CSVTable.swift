#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Dispatch
import NadarayaWatson

/// A parsed CSV file (RFC 4180): a header row and equally long data rows, with the physical
/// line on which each row starts, for error messages. The delimiter is a comma by default, any
/// one ASCII byte on request (a tab, a semicolon).
///
/// Fields are stored unescaped and NUL-terminated in one byte buffer, so numbers parse straight
/// from it and text copies through byte for byte. Accepts LF or CRLF line ends, a UTF-8 byte
/// order mark, and trailing empty lines; quoted fields may hold commas, quotes (`""`) and line
/// breaks.
///
/// Why not a CSV package: error messages need each row's line, and the numeric path of a
/// 10⁵ × 17 file must cost a small fraction of the computation; parsing is ~150 lines.
struct CSVTable {
    /// The name used in error messages.
    let file: String
    let header: [String]
    /// Data rows (the header excluded; after ``keepingRows(_:)``, the rows kept).
    var rowCount: Int { rowMap?.count ?? physicalRowCount }
    private let physicalRowCount: Int
    /// The parsed rows this table shows, in order (nil: all).
    private var rowMap: [Int]? = nil
    var columnCount: Int { header.count }
    /// Unescaped fields, each followed by a NUL byte.
    private let text: [UInt8]
    /// Start of each field in `text`, row-major over data rows, plus one past the end.
    private let starts: [Int]
    /// Physical line (1-based) of each data row's first byte.
    private let lines: [Int]

    /// Parses `bytes`, naming `file` in errors.
    ///
    /// - Throws: ``CommandLineError`` for an empty file, an unterminated quote, text after a
    ///   closing quote, or a row whose field count differs from the header's.
    /// - Complexity: O(bytes.count).
    /// - Parameters:
    ///   - lineOffset: added to every data row's line (a shard of a file: its first row's line
    ///     in the whole file minus its line here).
    ///   - stripsTrailingLineBreaks: whether line breaks at the end are empty lines to ignore (a
    ///     whole file), or part of the rows (a shard, which ends where the next one begins).
    init(bytes input: [UInt8], file: String, delimiter: UInt8 = UInt8(ascii: ","), lineOffset: Int = 0,
         stripsTrailingLineBreaks: Bool = true) throws {
        self.file = file
        var text: [UInt8] = []
        text.reserveCapacity(input.count + input.count / 4 + 16)
        var starts: [Int] = []
        var lines: [Int] = []
        var rowFieldCounts: [Int] = []
        let quote = UInt8(ascii: "\""), comma = delimiter, lf = UInt8(ascii: "\n"), cr = UInt8(ascii: "\r")
        var i = input.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        let end = input.count
        var line = 1
        // Trailing empty lines are not rows.
        var last = end
        while stripsTrailingLineBreaks, last > i, input[last - 1] == lf || input[last - 1] == cr { last -= 1 }

        while i < last {
            // One record.
            lines.append(line)
            var fields = 0
            while true {
                starts.append(text.count)
                fields += 1
                if i < last, input[i] == quote {
                    let openLine = line, openColumn = fields
                    i += 1
                    while true {
                        guard i < last else {
                            throw CommandLineError.line(file, lines.count > 1 ? openLine + lineOffset : openLine,
                                                        "field \(openColumn) has an opening quote that is never closed")
                        }
                        let b = input[i]
                        if b == quote {
                            if i + 1 < last, input[i + 1] == quote {
                                text.append(quote)
                                i += 2
                                continue
                            }
                            i += 1
                            break
                        }
                        if b == lf { line += 1 }
                        text.append(b)
                        i += 1
                    }
                    if i < last, input[i] != comma, input[i] != lf, input[i] != cr {
                        throw CommandLineError.line(file, lines.count > 1 ? line + lineOffset : line,
                                                    "field \(fields) has text after its closing quote")
                    }
                } else {
                    let fieldStart = i
                    while i < last, input[i] != comma, input[i] != lf, input[i] != cr { i += 1 }
                    text.append(contentsOf: input[fieldStart..<i])
                }
                text.append(0)
                if i < last, input[i] == comma {
                    i += 1
                    continue
                }
                // End of record: CRLF, LF, lone CR, or end of input.
                if i < last, input[i] == cr { i += 1 }
                if i < last, input[i] == lf { i += 1 }
                line += 1
                break
            }
            rowFieldCounts.append(fields)
        }
        guard let headerFields = rowFieldCounts.first else {
            throw CommandLineError.line(file, 1, "the file is empty: expected a header row")
        }
        starts.append(text.count)
        self.text = text
        self.starts = starts

        var header: [String] = []
        for f in 0..<headerFields {
            header.append(String(decoding: text[starts[f]..<(starts[f + 1] - 1)], as: UTF8.self))
        }
        self.header = header
        for (row, count) in rowFieldCounts.enumerated().dropFirst() where count != headerFields {
            throw CommandLineError.line(file, lines[row] + lineOffset, "has \(count) field\(count == 1 ? "" : "s"), but the header has \(headerFields)")
        }
        self.physicalRowCount = rowFieldCounts.count - 1
        self.lines = lines.dropFirst().map { $0 + lineOffset }
    }

    /// The same file showing only the data rows `rows` (indices into this table's rows, in
    /// order): line numbers and bytes as read.
    func keepingRows(_ rows: [Int]) -> CSVTable {
        var copy = self
        copy.rowMap = rows.map { physical($0) }
        return copy
    }

    @inline(__always)
    private func physical(_ row: Int) -> Int { rowMap?[row] ?? row }

    /// The physical line of data row `row` (0-based), for messages.
    func line(ofRow row: Int) -> Int { lines[physical(row)] }

    /// Whether a data cell is missing: empty (after spaces), `NA`, `nan` or `NaN`, as R, pandas
    /// and NumPy write missing values.
    func isMissing(row: Int, column: Int) -> Bool {
        var cell = bytes(row: row, column: column)
        while cell.first == UInt8(ascii: " ") { cell = cell.dropFirst() }
        while cell.last == UInt8(ascii: " ") { cell = cell.dropLast() }
        return cell.isEmpty || Self.missingTokens.contains { $0.elementsEqual(cell) }
    }

    static let missingTokens: [[UInt8]] = ["NA", "nan", "NaN"].map { Array($0.utf8) }

    /// The text of a data cell.
    func string(row: Int, column: Int) -> String {
        let f = (physical(row) + 1) * columnCount + column
        return String(decoding: text[starts[f]..<(starts[f + 1] - 1)], as: UTF8.self)
    }

    /// The raw bytes of a data cell (no NUL).
    func bytes(row: Int, column: Int) -> ArraySlice<UInt8> {
        let f = (physical(row) + 1) * columnCount + column
        return text[starts[f]..<(starts[f + 1] - 1)]
    }

    /// The cell as a finite number: a plain decimal (surrounding spaces allowed).
    ///
    /// - Throws: ``CommandLineError`` naming the line and column for an empty cell, text that is
    ///   not a number, or `nan`/`inf`.
    func number(row: Int, column: Int) throws -> Double {
        let f = (physical(row) + 1) * columnCount + column
        var a = starts[f], b = starts[f + 1] - 1
        while a < b, text[a] == UInt8(ascii: " ") { a += 1 }
        while b > a, text[b - 1] == UInt8(ascii: " ") { b -= 1 }
        let value: Double? = text.withUnsafeBufferPointer { buffer in
            let field = UnsafeBufferPointer(rebasing: buffer[a..<b])
            guard DecimalSyntax.isDecimal(field) else { return nil }
            return strtod(UnsafeRawPointer(buffer.baseAddress! + a).assumingMemoryBound(to: CChar.self), nil)
        }
        if let value, value.isFinite { return value }
        let cell = string(row: row, column: column)
        let problem: String
        if a == b {
            problem = "is empty; it should be a number"
        } else if value != nil {
            problem = "should be a finite number, but \(quoted(cell)) overflows"
        } else if cell.trimmingSpaces == "NA" {
            problem = "is missing (\"NA\"); it should be a number (--missing drop leaves such rows out)"
        } else if ["nan", "inf", "infinity", "+inf", "-inf", "+infinity", "-infinity"].contains(cell.lowercased().trimmingSpaces) {
            problem = "should be a finite number, but is \(quoted(cell))"
        } else {
            problem = "should be a number, but is \(quoted(cell))"
        }
        throw CommandLineError.cell(file, line: line(ofRow: row), column: column, name: header[column], problem)
    }

    /// All data rows of `columns` as an n × columns.count matrix, parsed on all cores.
    ///
    /// - Throws: the error of the first bad cell in file order, whatever the thread count.
    func numbers(columns: [Int]) throws -> Matrix {
        let width = columns.count, rows = rowCount
        var elements = [Double](repeating: 0, count: rows * width)
        let blockSize = 4096
        let blocks = (rows + blockSize - 1) / blockSize
        var firstError = [CommandLineError?](repeating: nil, count: blocks)
        elements.withUnsafeMutableBufferPointer { out in
            firstError.withUnsafeMutableBufferPointer { errors in
                let output = SendablePointer(out.baseAddress), failures = SendablePointer(errors.baseAddress)
                ParallelRows.forEachBlock(count: rows, blockSize: blockSize) { range in
                    for row in range {
                        for (c, column) in columns.enumerated() {
                            do {
                                output.base![row * width + c] = try number(row: row, column: column)
                            } catch {
                                failures.base![row / blockSize] = error as? CommandLineError
                                return
                            }
                        }
                    }
                }
            }
        }
        if let error = firstError.first(where: { $0 != nil }) { throw error! }
        return Matrix(rows: rows, columns: width, elements: elements)
    }

    /// Throws for a column name used twice, naming the second occurrence.
    func requireUniqueColumnNames() throws {
        var seen: [String: Int] = [:]
        for (index, name) in header.enumerated() {
            if let first = seen[name] {
                throw CommandLineError.line(file, 1, "column \(index + 1) repeats the name \(quoted(name)) of column \(first + 1)")
            }
            seen[name] = index
        }
    }
}

/// A value quoted for a message, with control characters escaped so it stays on one line.
func quoted(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        case "\"": out += "\\\""
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out + "\""
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while s.first == " " { s = s.dropFirst() }
        while s.last == " " { s = s.dropLast() }
        return String(s)
    }
}

/// A pointer handed to concurrent workers that write disjoint elements.
struct SendablePointer<Element>: @unchecked Sendable {
    let base: UnsafeMutablePointer<Element>?
    init(_ base: UnsafeMutablePointer<Element>?) { self.base = base }
}

/// Row blocks on all cores (the tool's own I/O work: parsing and formatting).
enum ParallelRows {
    static func forEachBlock(count: Int, blockSize: Int, _ body: @Sendable (Range<Int>) -> Void) {
        let blocks = (count + blockSize - 1) / blockSize
        guard blocks > 1 else {
            if count > 0 { body(0..<count) }
            return
        }
        DispatchQueue.concurrentPerform(iterations: blocks) { block in
            body(block * blockSize ..< min(count, (block + 1) * blockSize))
        }
    }
}
