/// A dense, row-major matrix of `Double`: one row per key, query or prediction.
///
/// The library's data exchange type. Rows are observations, columns are features (or value
/// components). Kept deliberately small: the engines copy what they need into their own layouts.
public struct Matrix: Equatable, Sendable, Codable {
    /// Number of rows.
    public let rows: Int
    /// Number of columns.
    public let columns: Int
    /// Row-major storage: element (i, j) is at `i * columns + j`.
    public var elements: [Double]

    /// Creates a matrix from row-major elements.
    ///
    /// - Precondition: `elements.count` should be `rows * columns`.
    /// - Complexity: O(1).
    public init(rows: Int, columns: Int, elements: [Double]) {
        precondition(rows >= 0 && columns >= 0, "matrix dimensions should be non-negative, but are \(rows)×\(columns)")
        precondition(elements.count == rows * columns,
                     "elements.count should be rows × columns = \(rows * columns), but is \(elements.count)")
        self.rows = rows
        self.columns = columns
        self.elements = elements
    }

    /// Creates a matrix filled with `value`.
    ///
    /// - Complexity: O(rows · columns).
    public init(rows: Int, columns: Int, repeating value: Double = 0) {
        self.init(rows: rows, columns: columns, elements: Array(repeating: value, count: rows * columns))
    }

    /// Creates a matrix from an array of equally long rows.
    ///
    /// - Precondition: every row should have the same length.
    /// - Complexity: O(rows · columns).
    public init(_ rowArrays: [[Double]]) {
        let columns = rowArrays.first?.count ?? 0
        var elements: [Double] = []
        elements.reserveCapacity(rowArrays.count * columns)
        for (i, row) in rowArrays.enumerated() {
            precondition(row.count == columns, "row \(i) should have \(columns) elements, but has \(row.count)")
            elements.append(contentsOf: row)
        }
        self.init(rows: rowArrays.count, columns: columns, elements: elements)
    }

    /// A single-column matrix (a column vector), e.g. one scalar feature or target.
    ///
    /// - Complexity: O(values.count).
    public init(column values: [Double]) {
        self.init(rows: values.count, columns: 1, elements: values)
    }

    /// Element at row `i`, column `j`.
    ///
    /// - Complexity: O(1).
    @inlinable
    public subscript(i: Int, j: Int) -> Double {
        get { elements[i * columns + j] }
        set { elements[i * columns + j] = newValue }
    }

    /// Row `i` as an array.
    ///
    /// - Complexity: O(columns).
    public func row(_ i: Int) -> [Double] {
        Array(elements[i * columns ..< (i + 1) * columns])
    }

    /// Column `j` as an array.
    ///
    /// - Complexity: O(rows).
    public func column(_ j: Int) -> [Double] {
        (0..<rows).map { elements[$0 * columns + j] }
    }
}
