/// The classes of a classification problem, in their canonical order, and each training label's
/// class index.
///
/// Order: **numeric** when every label parses as a decimal number (`2 < 10`; equal numbers
/// written differently, like `1` and `1.0`, stay distinct classes and are ordered by their text),
/// otherwise **code-point order** of the label text (UTF-8 byte order, which is the same; not
/// Swift's `String <`, which compares canonical equivalence).
public struct ClassLabels: Equatable, Sendable {
    /// The distinct labels, in class order, exactly as written.
    public let classes: [String]
    /// For each training label, the index of its class in ``classes``.
    public let indices: [Int]

    /// Collects the classes of `labels` and maps each label to its class.
    ///
    /// - Complexity: O(n log n) for n labels.
    public init(_ labels: [String]) {
        // Keyed by bytes: Swift's String equality merges canonically equivalent spellings
        // ("é" and "e\u{301}"), but labels are distinct exactly as written.
        var firstIndex: [[UInt8]: Int] = [:]
        var distinct: [String] = []
        for label in labels where firstIndex[Array(label.utf8)] == nil {
            firstIndex[Array(label.utf8)] = distinct.count
            distinct.append(label)
        }
        let numbers = distinct.map(ClassLabels.decimalValue)
        let order: [Int]
        if numbers.allSatisfy({ $0 != nil }) {
            order = distinct.indices.sorted { a, b in
                let x = numbers[a]!, y = numbers[b]!
                return x != y ? x < y : distinct[a].utf8.lexicographicallyPrecedes(distinct[b].utf8)
            }
        } else {
            order = distinct.indices.sorted { distinct[$0].utf8.lexicographicallyPrecedes(distinct[$1].utf8) }
        }
        classes = order.map { distinct[$0] }
        var position: [[UInt8]: Int] = [:]
        for (rank, label) in classes.enumerated() { position[Array(label.utf8)] = rank }
        indices = labels.map { position[Array($0.utf8)]! }
    }

    /// The value of a plain decimal number (`-1`, `2.50`, `.5`, `1e3`, surrounding spaces allowed),
    /// or nil for anything else, including `nan`, `inf` and hexadecimal.
    public static func decimalValue(_ text: String) -> Double? {
        var bytes = Substring(text).utf8[...]
        while let first = bytes.first, first == UInt8(ascii: " ") { bytes = bytes.dropFirst() }
        while let last = bytes.last, last == UInt8(ascii: " ") { bytes = bytes.dropLast() }
        guard DecimalSyntax.isDecimal(bytes) else { return nil }
        return Double(Substring(bytes))
    }
}

/// The grammar of a plain decimal number: `[+-]? (digits [. digits?] | . digits) ([eE] [+-]? digits)?`.
public enum DecimalSyntax {
    /// Whether `bytes` (ASCII) is a plain decimal number.
    ///
    /// - Complexity: O(bytes.count).
    @inlinable
    public static func isDecimal<C: Collection<UInt8>>(_ bytes: C) -> Bool {
        var i = bytes.startIndex
        let end = bytes.endIndex
        func digit(_ b: UInt8) -> Bool { b &- UInt8(ascii: "0") < 10 }
        if i != end, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i = bytes.index(after: i) }
        var mantissaDigits = 0
        while i != end, digit(bytes[i]) { mantissaDigits += 1; i = bytes.index(after: i) }
        if i != end, bytes[i] == UInt8(ascii: ".") {
            i = bytes.index(after: i)
            while i != end, digit(bytes[i]) { mantissaDigits += 1; i = bytes.index(after: i) }
        }
        guard mantissaDigits > 0 else { return false }
        if i != end, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
            i = bytes.index(after: i)
            if i != end, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i = bytes.index(after: i) }
            var exponentDigits = 0
            while i != end, digit(bytes[i]) { exponentDigits += 1; i = bytes.index(after: i) }
            guard exponentDigits > 0 else { return false }
        }
        return i == end
    }
}
