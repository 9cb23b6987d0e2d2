import NadarayaWatson

/// Which TRAIN columns play which part: `--target`, `--features`, `--sample-weight`.
public struct ColumnSelection: Sendable, Equatable {
    /// The value column (default: the last column that is not the weight).
    public var target: String?
    /// The feature columns in this order (default: every column but the target and the weight).
    public var features: [String]?
    /// A column of observation (frequency) weights, each finite and ≥ 0.
    public var sampleWeight: String?
    /// Features holding unordered categories (any text, compared exactly) and ordered ones
    /// (numbers): the Aitchison–Aitken and Wang–van Ryzin kernels.
    public var categorical: [String] = []
    public var ordered: [String] = []
    /// How TRAIN and QUERY are read: delimiter and missing cells.
    public var format = InputFormat()
    /// The targets of a .npy TRAIN (`--values V.npy`).
    public var values: String?
    /// `--normalize`: keys and queries scaled to unit Euclidean length (cosine similarity).
    public var normalize = false

    public init(target: String? = nil, features: [String]? = nil, sampleWeight: String? = nil) {
        self.target = target
        self.features = features
        self.sampleWeight = sampleWeight
    }

    /// Whether some feature is categorical or ordered.
    public var hasDiscrete: Bool { !categorical.isEmpty || !ordered.isEmpty }
}

/// What a missing cell (empty, `NA`, `nan`, `NaN`) does.
public enum MissingPolicy: String, Sendable, CaseIterable {
    /// The one-line error of the common rules.
    case error
    /// TRAIN rows with a missing cell in a used column are left out (a note counts them); QUERY
    /// rows with a missing feature are kept and get `nan` results.
    case drop
}

/// How the input files are read.
public struct InputFormat: Sendable, Equatable {
    /// The field delimiter; nil: a tab for `.tsv` and `.tab` files, else a comma.
    public var delimiter: UInt8?
    public var missing = MissingPolicy.error

    public init(delimiter: UInt8? = nil, missing: MissingPolicy = .error) {
        self.delimiter = delimiter
        self.missing = missing
    }

    /// The delimiter for `path`.
    public func delimiter(for path: String) -> UInt8 {
        if let delimiter { return delimiter }
        let lower = path.lowercased()
        return lower.hasSuffix(".tsv") || lower.hasSuffix(".tab") ? UInt8(ascii: "\t") : UInt8(ascii: ",")
    }

    /// Parses `--delimiter`: one ASCII character other than a quote or a line break, or `tab`.
    public static func parseDelimiter(_ text: String) throws -> UInt8 {
        if text == "tab" || text == "\\t" { return UInt8(ascii: "\t") }
        let bytes = Array(text.utf8)
        guard bytes.count == 1, bytes[0] < 0x80, ![UInt8(ascii: "\""), UInt8(ascii: "\n"), UInt8(ascii: "\r")].contains(bytes[0]) else {
            throw CommandLineError.option("--delimiter", "should be one ASCII character (or tab) other than a quote or a line break, but is \(quoted(text))")
        }
        return bytes[0]
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
    /// What each feature holds (all continuous without `--categorical`/`--ordered`).
    let kinds: [FeatureKind]
    /// Each categorical feature's categories (text → code, codes in code-point order).
    let categories: [Int: [String: Double]]
    /// −1 when the file has no target (densities).
    let targetColumn: Int
    let weightColumn: Int?
    /// TRAIN's arrays when it is a .npy file (`table` then holds only the names x1 … xd, y).
    let arrays: ArrayTrainingData?
    /// `--normalize`: ``keys()`` and QUERY's rows scaled to unit length.
    let normalize: Bool
    /// Rows `--missing drop` left out (a shard under mpirun leaves the note and the all-dropped
    /// error to the whole job).
    var droppedRows = 0
    var featureNames: [String] { featureColumns.map { table.header[$0] } }
    var file: String { table.file }
    /// The number of training rows.
    var rowCount: Int { arrays?.keys.rows ?? table.rowCount }

    init(path: String, target: String?) throws {
        try self.init(path: path, selection: ColumnSelection(target: target))
    }

    init(path: String, selection: ColumnSelection, hasTarget: Bool = true) throws {
        if NPYFile.isNPY(path) {
            try self.init(arrays: ArrayTrainingData(keysFile: path, selection: selection, hasTarget: hasTarget),
                          hasTarget: hasTarget, normalize: selection.normalize)
            return
        }
        if selection.values != nil {
            throw CommandLineError.option("--values", "applies to a .npy TRAIN; \(path) is CSV (name its target with --target)")
        }
        let table = try CSVTable(bytes: FileIO.read(path), file: path, delimiter: selection.format.delimiter(for: path))
        try self.init(table: table, selection: selection, hasTarget: hasTarget)
    }

    /// TRAIN from .npy arrays: continuous features named x1 … xd, the target y.
    init(arrays: ArrayTrainingData, hasTarget: Bool, normalize: Bool) throws {
        let d = arrays.keys.columns
        let names = ArrayTrainingData.featureNames(d) + (hasTarget ? ["y"] : [])
        table = try CSVTable(bytes: Array((names.joined(separator: ",") + "\n").utf8), file: arrays.keysFile)
        featureColumns = Array(0..<d)
        kinds = Array(repeating: .continuous, count: d)
        categories = [:]
        targetColumn = hasTarget ? d : -1
        weightColumn = nil
        self.arrays = arrays
        self.normalize = normalize
    }

    /// TRAIN from a parsed table (named in errors by its file).
    ///
    /// - Parameters:
    ///   - allowsEmpty: a table with no data rows is a shard (under mpirun), not an error.
    init(table: CSVTable, selection: ColumnSelection, hasTarget: Bool = true, allowsEmpty: Bool = false) throws {
        let path = table.file
        try table.requireUniqueColumnNames()
        guard table.rowCount > 0 || allowsEmpty else {
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
        let features = listed ?? (0..<table.columnCount).filter { $0 != target && $0 != weightColumn }
        guard !features.isEmpty else {
            throw CommandLineError.line(path, 1, hasTarget
                ? "has only the target column \(quoted(table.header[targetColumn])); every other column is a feature, and there are none"
                : "has no coordinate column")
        }
        var kinds = [FeatureKind](repeating: .continuous, count: features.count)
        for (names, kind, option) in [(selection.categorical, FeatureKind.categorical, "--categorical"),
                                      (selection.ordered, .ordered, "--ordered")] {
            for name in names {
                let index = try column(name, for: option)
                guard let position = features.firstIndex(of: index) else {
                    throw CommandLineError.option(option, "names \(quoted(name)), which is not a feature (features: \(features.map { quoted(table.header[$0]) }.joined(separator: ", ")))")
                }
                guard kinds[position] == .continuous else {
                    throw CommandLineError.option(option, "names \(quoted(name)), which is already \(kinds[position].rawValue)")
                }
                kinds[position] = kind
            }
        }
        var kept = table, droppedRows = 0
        if selection.format.missing == .drop {
            // TRAIN rows with a missing cell in a used column are left out.
            let used = features + (target >= 0 ? [target] : []) + (weightColumn.map { [$0] } ?? [])
            let complete = (0..<kept.rowCount).filter { row in !used.contains { kept.isMissing(row: row, column: $0) } }
            if complete.count < kept.rowCount {
                droppedRows = kept.rowCount - complete.count
                if !allowsEmpty { try Self.reportDropped(droppedRows, leaving: complete.count, path: path) }
                kept = kept.keepingRows(complete)
            }
        }
        var categories: [Int: [String: Double]] = [:]
        for (position, column) in features.enumerated() where kinds[position] == .categorical {
            var texts = Set<String>()
            // Missing cells are never a category (``matrix(_:columns:rows:)`` reports them in file order).
            for row in 0..<kept.rowCount where !kept.isMissing(row: row, column: column) {
                texts.insert(kept.string(row: row, column: column))
            }
            let sorted = texts.sorted { $0.unicodeScalars.lexicographicallyPrecedes($1.unicodeScalars) }
            categories[position] = Dictionary(uniqueKeysWithValues: sorted.enumerated().map { ($1, Double($0)) })
        }
        self.table = kept
        self.featureColumns = features
        self.kinds = kinds
        self.categories = categories
        self.targetColumn = targetColumn
        self.weightColumn = weightColumn
        arrays = nil
        normalize = selection.normalize
        self.droppedRows = droppedRows
        if normalize && kinds.contains(where: \.isDiscrete) {
            throw CommandLineError.option("--normalize", "applies to continuous features only, not with --categorical or --ordered")
        }
    }

    /// `--missing drop`'s note, or its error when no row is left.
    static func reportDropped(_ dropped: Int, leaving left: Int, path: String) throws {
        guard left > 0 else {
            throw CommandLineError.line(path, 2, "every data row has a missing cell in a used column: --missing drop leaves none")
        }
        StandardError.note("\(path): left out \(dropped) row\(dropped == 1 ? "" : "s") with a missing cell (--missing drop)")
    }

    /// Whether some feature is categorical or ordered.
    var hasDiscrete: Bool { kinds.contains(where: \.isDiscrete) }

    /// The kinds for an estimator: empty when every feature is continuous.
    var featureKinds: [FeatureKind] { hasDiscrete ? kinds : [] }

    /// Rows of `table` as an m × d matrix over `columns` (in feature order): numbers, and the
    /// codes of categorical features (−1 for a category TRAIN does not have).
    func matrix(_ table: CSVTable, columns: [Int], rows: [Int]? = nil) throws -> Matrix {
        let numeric = columns.indices.filter { categories[$0] == nil }
        let view = rows.map { table.keepingRows($0) } ?? table
        let numbers = try view.numbers(columns: numeric.map { columns[$0] })
        var elements = [Double](repeating: 0, count: view.rowCount * columns.count)
        for i in 0..<view.rowCount {
            for (k, position) in numeric.enumerated() { elements[i * columns.count + position] = numbers[i, k] }
            for (position, codes) in categories {
                let column = columns[position]
                guard !view.isMissing(row: i, column: column) else {
                    throw CommandLineError.cell(view.file, line: view.line(ofRow: i), column: column, name: view.header[column],
                                                "is missing (\(quoted(view.string(row: i, column: column)))); it should hold a category (--missing drop leaves such rows out)")
                }
                elements[i * columns.count + position] = codes[view.string(row: i, column: column)] ?? -1
            }
        }
        return Matrix(rows: view.rowCount, columns: columns.count, elements: elements)
    }

    /// The n × d keys (categorical features as codes), of unit length with `--normalize`.
    func keys() throws -> Matrix {
        let keys = try arrays?.keys ?? matrix(table, columns: featureColumns)
        return try normalized(keys, file: file, line: arrays == nil ? { table.line(ofRow: $0) } : nil)
    }

    /// `rows` scaled to unit length under `--normalize` (else as they are); a zero row is a
    /// one-line error naming its line (CSV) or row (.npy).
    func normalized(_ rows: Matrix, file: String, line: ((Int) -> Int)?) throws -> Matrix {
        guard normalize else { return rows }
        return try RowNormalization.normalized(rows) { i in
            guard let line else { return CommandLineError.file(file, "row \(i + 1) \(RowNormalization.zeroRowMessage)") }
            return CommandLineError.line(file, line(i), "the row's features \(RowNormalization.zeroRowMessage)")
        }
    }

    /// The regression targets: n × 1 (CSV), or n × p (.npy values).
    func targets() throws -> Matrix { try arrays?.targets() ?? table.numbers(columns: [targetColumn]) }

    /// The sample weights, each finite and ≥ 0, or nil without `--sample-weight`.
    ///
    /// - Throws: ``CommandLineError`` naming the line and column of an empty, non-numeric,
    ///   negative or non-finite weight, or when every weight is 0.
    func sampleWeights(requiringPositive: Bool = true) throws -> [Double]? {
        guard let weightColumn else { return nil }
        let name = table.header[weightColumn]
        let weights = try table.numbers(columns: [weightColumn]).elements
        for (row, w) in weights.enumerated() where w < 0 {
            throw CommandLineError.cell(file, line: table.line(ofRow: row), column: weightColumn, name: name,
                                        "should hold a sample weight of at least 0, but is \(quoted(table.string(row: row, column: weightColumn)))")
        }
        guard weights.contains(where: { $0 > 0 }) || !requiringPositive else {
            throw CommandLineError.cell(file, line: 1, column: weightColumn, name: name, "has only zero weights: no row is left")
        }
        return weights
    }

    /// The regression targets when there must be one per key (a local polynomial, CV, training,
    /// figures).
    ///
    /// - Throws: a one-line error naming the values file when it has several columns.
    func targetValues() throws -> [Double] {
        let targets = try self.targets()
        guard targets.columns == 1 else {
            throw CommandLineError.file(arrays?.valuesFile ?? file, "has \(targets.columns) value columns; this needs one (shape (n,) or (n, 1))")
        }
        return targets.elements
    }

    /// The class labels, as written.
    func labels() throws -> [String] {
        if let arrays { return try arrays.labels() }
        return try (0..<table.rowCount).map { row in
            let label = table.string(row: row, column: targetColumn)
            guard !label.isEmpty else {
                throw CommandLineError.cell(file, line: table.line(ofRow: row), column: targetColumn,
                                            name: table.header[targetColumn], "is empty; it should hold a class label")
            }
            guard !table.isMissing(row: row, column: targetColumn) else {
                throw CommandLineError.cell(file, line: table.line(ofRow: row), column: targetColumn, name: table.header[targetColumn],
                                            "is missing (\(quoted(label))); it should hold a class label (--missing drop leaves such rows out)")
            }
            return label
        }
    }
}

/// QUERY: a CSV file holding every feature of TRAIN by name, in any order (other columns copy
/// through), or a .npy array of m × d features in TRAIN's order (nothing to copy through).
/// Under `--missing drop`, CSV rows with a missing feature are kept in the output with `nan`
/// results: ``complete`` lists the rows computed.
struct QueryData {
    /// The CSV table (nil for a .npy QUERY).
    let table: CSVTable?
    /// The queries of a .npy QUERY.
    let array: Matrix?
    let file: String
    let featureColumns: [Int]
    /// The rows with every feature present (nil: all).
    let complete: [Int]?

    init(path: String, features: [String], trainFile: String, format: InputFormat = InputFormat()) throws {
        file = path
        if NPYFile.isNPY(path) {
            let array = try NPYFile.read(path).matrix(file: path)
            guard array.columns == features.count else {
                throw CommandLineError.file(path, "has \(array.columns) column\(array.columns == 1 ? "" : "s"), but \(trainFile) has \(features.count) feature\(features.count == 1 ? "" : "s"): one column per feature, in TRAIN's order")
            }
            (table, self.array, featureColumns, complete) = (nil, array, Array(0..<features.count), nil)
            return
        }
        let table = try CSVTable(bytes: FileIO.read(path), file: path, delimiter: format.delimiter(for: path))
        try table.requireUniqueColumnNames()
        let featureColumns = try features.map { name in
            guard let index = table.header.firstIndex(of: name) else {
                throw CommandLineError.line(path, 1, "has no column \(quoted(name)), a feature of \(trainFile)")
            }
            return index
        }
        var complete: [Int]?
        if format.missing == .drop {
            let rows = (0..<table.rowCount).filter { row in !featureColumns.contains { table.isMissing(row: row, column: $0) } }
            complete = rows.count == table.rowCount ? nil : rows
        }
        self.table = table
        array = nil
        self.featureColumns = featureColumns
        self.complete = complete
    }

    /// Output rows: every QUERY row.
    var rowCount: Int { array?.rows ?? table!.rowCount }

    /// The columns copied through to the output: QUERY's own (none for a .npy QUERY).
    var copiedHeader: [String] { table?.header ?? [] }

    /// The m × d queries, features in TRAIN's order (without `training`: all numeric), of unit
    /// length under TRAIN's `--normalize`.
    func queries(_ training: TrainingData? = nil) throws -> Matrix {
        if let array {
            if let training, training.hasDiscrete {
                throw CommandLineError.file(file, "is a .npy array of numbers, but TRAIN has categorical or ordered features: give QUERY as CSV")
            }
            return try training?.normalized(array, file: file, line: nil) ?? array
        }
        let table = table!
        guard let training else { return try (complete.map { table.keepingRows($0) } ?? table).numbers(columns: featureColumns) }
        let rows = try training.matrix(table, columns: featureColumns, rows: complete)
        return try training.normalized(rows, file: file) { table.line(ofRow: row(ofQuery: $0)) }
    }

    /// Where query `i` is, for an error message: `FILE:LINE` (CSV) or `FILE: row r` (.npy).
    func location(ofQuery i: Int) -> (file: String, line: Int?) {
        guard let table else { return (file, nil) }
        return (file, table.line(ofRow: row(ofQuery: i)))
    }

    /// The table row of computed query `i`.
    func row(ofQuery i: Int) -> Int { complete?[i] ?? i }

    /// Computed results (one per complete row) spread over every row, `nan` for the others.
    func expand(_ values: [Double]) -> [Double] {
        guard let complete else { return values }
        var all = [Double](repeating: .nan, count: rowCount)
        for (k, row) in complete.enumerated() { all[row] = values[k] }
        return all
    }

    func expand(_ matrix: Matrix) -> Matrix {
        guard let complete else { return matrix }
        var all = Matrix(rows: rowCount, columns: matrix.columns, repeating: .nan)
        for (k, row) in complete.enumerated() { for c in 0..<matrix.columns { all[row, c] = matrix[k, c] } }
        return all
    }
}
