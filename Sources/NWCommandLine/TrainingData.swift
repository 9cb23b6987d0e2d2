import NadarayaWatson

/// TRAIN.csv split into features and a target, as the spec reads it: `--target` names the value
/// column (default: the last); every other column is a feature, in file order.
struct TrainingData {
    let table: CSVTable
    let featureColumns: [Int]
    let targetColumn: Int
    var featureNames: [String] { featureColumns.map { table.header[$0] } }
    var file: String { table.file }

    init(path: String, target: String?) throws {
        let table = try CSVTable(bytes: FileIO.read(path), file: path)
        try table.requireUniqueColumnNames()
        guard table.rowCount > 0 else {
            throw CommandLineError.line(path, 2, "no data rows after the header: training needs at least one row")
        }
        if let target {
            guard let index = table.header.firstIndex(of: target) else {
                let names = table.header.map { quoted($0) }.joined(separator: ", ")
                throw CommandLineError.line(path, 1, "no column named \(quoted(target)) for --target (columns: \(names))")
            }
            targetColumn = index
        } else {
            targetColumn = table.columnCount - 1
        }
        let target = targetColumn
        featureColumns = (0..<table.columnCount).filter { $0 != target }
        guard !featureColumns.isEmpty else {
            throw CommandLineError.line(path, 1, "has only the target column \(quoted(table.header[targetColumn])); every other column is a feature, and there are none")
        }
        self.table = table
    }

    /// The n × d keys.
    func keys() throws -> Matrix { try table.numbers(columns: featureColumns) }

    /// The n × 1 regression targets.
    func targets() throws -> Matrix { try table.numbers(columns: [targetColumn]) }

    /// The class labels, as written.
    func labels() throws -> [String] {
        try (0..<table.rowCount).map { row in
            let label = table.string(row: row, column: targetColumn)
            guard !label.isEmpty else {
                throw CommandLineError.cell(file, line: table.line(ofRow: row), column: targetColumn,
                                            name: table.header[targetColumn], "is empty; it should hold a class label")
            }
            return label
        }
    }
}

/// QUERY.csv: must hold every feature of TRAIN by name, in any order; other columns copy through.
struct QueryData {
    let table: CSVTable
    let featureColumns: [Int]

    init(path: String, features: [String], trainFile: String) throws {
        let table = try CSVTable(bytes: FileIO.read(path), file: path)
        try table.requireUniqueColumnNames()
        featureColumns = try features.map { name in
            guard let index = table.header.firstIndex(of: name) else {
                throw CommandLineError.line(path, 1, "has no column \(quoted(name)), a feature of \(trainFile)")
            }
            return index
        }
        self.table = table
    }

    /// The m × d queries, features in TRAIN's order.
    func queries() throws -> Matrix { try table.numbers(columns: featureColumns) }
}
