import NadarayaWatson

/// The columns a job computes for each QUERY row, and the one writer of job results.
///
/// As CSV (standard output, or an `--output` path not ending in `.npy`): QUERY's own columns
/// copied through byte for byte, then these columns, numbers in shortest round-trip form. As
/// .npy (an `--output` path ending in `.npy`): the numeric columns only, as an m × p float64
/// array in C order (a label column, `--classify`'s `prediction`, is the most probable of the
/// `p_` columns and is left out).
struct ResultTable {
    enum Column {
        case labels(String, [String])
        case numbers(String, [Double])
    }

    var columns: [Column] = []

    mutating func add(_ name: String, _ values: [Double]) { columns.append(.numbers(name, values)) }
    mutating func add(labels name: String, _ values: [String]) { columns.append(.labels(name, values)) }

    /// Each column of `matrix` under `name(c)`.
    mutating func add(_ matrix: Matrix, name: (Int) -> String) {
        for c in 0..<matrix.columns { add(name(c), (0..<matrix.rows).map { matrix[$0, c] }) }
    }

    /// Writes the table beside `query`'s rows: atomically to `output`, or to standard output.
    ///
    /// - Parameters:
    ///   - query: the QUERY whose rows these are (its columns are copied through in CSV).
    ///   - output: the claimed output file (nil: standard output, always CSV).
    /// - Complexity: O(m · (copied columns + p)).
    func write(beside query: QueryData, to output: AtomicFile?) throws {
        let bytes = output.map { NPYFile.isNPY($0.path) } == true ? npyBytes(rows: query.rowCount) : csvBytes(beside: query)
        if let output {
            try output.commit(bytes)
        } else {
            try FileIO.writeStandardOutput(bytes)
        }
    }

    func csvBytes(beside query: QueryData) -> [UInt8] {
        let copied = query.copiedHeader.count
        var writer = CSVWriter(capacity: query.rowCount * (copied + columns.count) * 12)
        for name in query.copiedHeader { writer.field(name) }
        for column in columns {
            switch column {
            case let .labels(name, _), let .numbers(name, _): writer.field(name)
            }
        }
        writer.endRow()
        let table = query.table, columns = self.columns
        writer.append(rows: CSVWriter.rows(count: query.rowCount) { row, i in
            if let table { for c in 0..<copied { row.field(bytes: table.bytes(row: i, column: c)) } }
            for column in columns {
                switch column {
                case let .labels(_, values): row.field(values[i])
                case let .numbers(_, values): row.number(values[i])
                }
            }
        })
        return writer.bytes
    }

    func npyBytes(rows: Int) -> [UInt8] {
        let numeric = columns.compactMap { column -> [Double]? in
            if case let .numbers(_, values) = column { return values }
            return nil
        }
        var matrix = Matrix(rows: rows, columns: numeric.count, repeating: 0)
        for (c, values) in numeric.enumerated() { for i in 0..<rows { matrix[i, c] = values[i] } }
        return NPYFile.encode(matrix)
    }
}

/// An m × n matrix (`--weights`): CSV with columns w1 … wn, or .npy for a path ending in `.npy`.
enum MatrixFile {
    static func bytes(_ matrix: Matrix, path: String) -> [UInt8] {
        if NPYFile.isNPY(path) { return NPYFile.encode(matrix) }
        var w = CSVWriter(capacity: matrix.elements.count * 20)
        for k in 0..<matrix.columns { w.field("w\(k + 1)") }
        w.endRow()
        w.append(rows: CSVWriter.rows(count: matrix.rows) { row, i in
            for k in 0..<matrix.columns { row.number(matrix[i, k]) }
        })
        return w.bytes
    }
}
