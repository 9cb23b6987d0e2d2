import NadarayaWatson

/// Which TRAIN columns play which part: `--target`, `--features`, `--sample-weight`.
public struct ColumnSelection: Sendable, Equatable {
    /// The value column (default: the last column that is not the weight).
    public var target: String?
    /// The feature columns in this order (default: every column but the target and the weight).
    public var features: [String]?
    /// A column of observation (frequency) weights, each finite and ≥ 0.
    public var sampleWeight: String?

    public init(target: String? = nil, features: [String]? = nil, sampleWeight: String? = nil) {
        self.target = target
        self.features = features
        self.sampleWeight = sampleWeight
    }
}

/// The options of every job that fits a regression (predict, bandwidth, plot), so the command
/// line fills them in one place.
public protocol SmootherJobOptions {
    var columns: ColumnSelection { get set }
    var degree: Int { get set }
    var form: KernelForm { get set }
    var empty: EmptyNeighbourhoodPolicy { get set }
    var threads: Int? { get set }
}

extension PredictOptions: SmootherJobOptions {}
extension BandwidthOptions: SmootherJobOptions {}
extension PlotOptions: SmootherJobOptions {}

/// TRAIN.csv split into features, a target and optional sample weights, as the contract reads
/// it: `--target` names the value column (default: the last); `--features` lists the features in
/// their order (default: every other column, in file order); `--sample-weight` names a weight
/// column, which is never a feature. Columns outside the selection are ignored and may hold text.
/// A density's TRAIN (`hasTarget: false`) has no target: every selected column is a coordinate.
struct TrainingData {
    let table: CSVTable
    let featureColumns: [Int]
    /// −1 when the file has no target (densities).
    let targetColumn: Int
    let weightColumn: Int?
    var featureNames: [String] { featureColumns.map { table.header[$0] } }
    var file: String { table.file }

    init(path: String, target: String?) throws {
        try self.init(path: path, selection: ColumnSelection(target: target))
    }

    init(path: String, selection: ColumnSelection, hasTarget: Bool = true) throws {
        let table = try CSVTable(bytes: FileIO.read(path), file: path)
        try table.requireUniqueColumnNames()
        guard table.rowCount > 0 else {
            throw CommandLineError.line(path, 2, "no data rows after the header: training needs at least one row")
        }
        func column(_ name: String, for option: String) throws -> Int {
            guard let index = table.header.firstIndex(of: name) else {
                let names = table.header.map { quoted($0) }.joined(separator: ", ")
                throw CommandLineError.line(path, 1, "no column named \(quoted(name)) for \(option) (columns: \(names))")
            }
            return index
        }
        let weightColumn = try selection.sampleWeight.map { try column($0, for: "--sample-weight") }
        var listed: [Int]? = nil
        if let features = selection.features {
            var seen = Set<Int>()
            listed = try features.map { name in
                let index = try column(name, for: "--features")
                guard seen.insert(index).inserted else {
                    throw CommandLineError.option("--features", "should name each column once, but names \(quoted(name)) twice")
                }
                guard index != weightColumn else {
                    throw CommandLineError.option("--features", "should not include the --sample-weight column \(quoted(name))")
                }
                return index
            }
        }
        var targetColumn = -1
        if hasTarget {
            if let target = selection.target {
                targetColumn = try column(target, for: "--target")
            } else {
                // The last column that is not the weight.
                let candidates = (0..<table.columnCount).filter { $0 != weightColumn }
                guard let last = candidates.last else {
                    throw CommandLineError.line(path, 1, "has no column left for the target: name it with --target")
                }
                targetColumn = last
            }
            guard targetColumn != weightColumn else {
                throw CommandLineError.option("--sample-weight", "should be another column than the target \(quoted(table.header[targetColumn]))")
            }
            if let listed, listed.contains(targetColumn) {
                throw CommandLineError.option("--features", "should not include the target column \(quoted(table.header[targetColumn]))")
            }
        }
        let target = targetColumn
        featureColumns = listed ?? (0..<table.columnCount).filter { $0 != target && $0 != weightColumn }
        guard !featureColumns.isEmpty else {
            throw CommandLineError.line(path, 1, hasTarget
                ? "has only the target column \(quoted(table.header[targetColumn])); every other column is a feature, and there are none"
                : "has no coordinate column")
        }
        self.table = table
        self.targetColumn = targetColumn
        self.weightColumn = weightColumn
    }

    /// The n × d keys.
    func keys() throws -> Matrix { try table.numbers(columns: featureColumns) }

    /// The n × 1 regression targets.
    func targets() throws -> Matrix { try table.numbers(columns: [targetColumn]) }

    /// The sample weights, each finite and ≥ 0, or nil without `--sample-weight`.
    ///
    /// - Throws: ``CommandLineError`` naming the line and column of an empty, non-numeric,
    ///   negative or non-finite weight, or when every weight is 0.
    func sampleWeights() throws -> [Double]? {
        guard let weightColumn else { return nil }
        let name = table.header[weightColumn]
        let weights = try table.numbers(columns: [weightColumn]).elements
        for (row, w) in weights.enumerated() where w < 0 {
            throw CommandLineError.cell(file, line: table.line(ofRow: row), column: weightColumn, name: name,
                                        "should hold a sample weight of at least 0, but is \(quoted(table.string(row: row, column: weightColumn)))")
        }
        guard weights.contains(where: { $0 > 0 }) else {
            throw CommandLineError.cell(file, line: 1, column: weightColumn, name: name, "has only zero weights: no row is left")
        }
        return weights
    }

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
