/// Builds CSV output in memory (RFC 4180: fields quoted only when they hold a comma, a quote or a
/// line break), so nothing is written until the whole result is ready.
struct CSVWriter {
    private(set) var bytes: [UInt8] = []
    private var fieldsInRow = 0

    init(capacity: Int = 0) {
        bytes.reserveCapacity(capacity)
    }

    mutating func field<C: Collection<UInt8>>(bytes text: C) {
        if fieldsInRow > 0 { bytes.append(UInt8(ascii: ",")) }
        fieldsInRow += 1
        let needsQuotes = text.contains { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\n") || $0 == UInt8(ascii: "\r") }
        if needsQuotes {
            bytes.append(UInt8(ascii: "\""))
            for b in text {
                if b == UInt8(ascii: "\"") { bytes.append(b) }
                bytes.append(b)
            }
            bytes.append(UInt8(ascii: "\""))
        } else {
            bytes.append(contentsOf: text)
        }
    }

    mutating func field(_ text: String) {
        field(bytes: text.utf8)
    }

    /// A number in round-trip form: the shortest text that parses back to the same Double
    /// (Swift's `description`), `nan` for NaN.
    mutating func number(_ value: Double) {
        field(bytes: NumberFormat.roundTrip(value).utf8)
    }

    mutating func endRow() {
        bytes.append(UInt8(ascii: "\n"))
        fieldsInRow = 0
    }
}

/// Number formatting shared by every output.
enum NumberFormat {
    /// The shortest text that parses back to `value` (`0.1`, `2.0`, `1e-05`, `nan`).
    static func roundTrip(_ value: Double) -> String {
        value.isNaN ? "nan" : value.description
    }
}

extension CSVWriter {
    /// Formats `count` rows on all cores, in blocks, and returns their bytes in row order.
    /// `row(&writer, i)` writes row i's fields (without ending the row).
    static func rows(count: Int, _ row: @Sendable (inout CSVWriter, Int) -> Void) -> [UInt8] {
        let blockSize = 2048
        let blocks = (count + blockSize - 1) / blockSize
        var parts = [[UInt8]](repeating: [], count: blocks)
        parts.withUnsafeMutableBufferPointer { buffer in
            let output = SendablePointer(buffer.baseAddress)
            ParallelRows.forEachBlock(count: count, blockSize: blockSize) { range in
                var writer = CSVWriter(capacity: range.count * 32)
                for i in range {
                    row(&writer, i)
                    writer.endRow()
                }
                output.base![range.lowerBound / blockSize] = writer.bytes
            }
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(parts.reduce(0) { $0 + $1.count })
        for part in parts { bytes.append(contentsOf: part) }
        return bytes
    }

    /// Appends pre-formatted bytes (whole rows).
    mutating func append(rows: [UInt8]) {
        bytes.append(contentsOf: rows)
    }
}
