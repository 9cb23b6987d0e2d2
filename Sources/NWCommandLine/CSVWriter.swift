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
