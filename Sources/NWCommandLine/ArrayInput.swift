import NadarayaWatson

/// TRAIN as NumPy arrays: `--train K.npy` (n × d features, or n features of one column) with
/// `--values V.npy` (shape (n,) or (n, p): numbers, or class labels for `--classify`), the
/// contract's input for embeddings, so that nobody writes 768-column CSV files.
///
/// A .npy TRAIN has no header: its features are named `x1` … `xd` (a CSV QUERY names them so)
/// and its target `y`.
struct ArrayTrainingData {
    let keysFile: String
    let keys: Matrix
    /// The targets' array and file (nil for a density).
    let values: NPYArray?
    let valuesFile: String?

    /// The feature names a .npy TRAIN's columns get: `x1` … `xd`.
    static func featureNames(_ d: Int) -> [String] { (0..<d).map { "x\($0 + 1)" } }

    /// Reads and checks the arrays.
    ///
    /// - Throws: ``CommandLineError``: an option error for a CSV-only option (`--target`,
    ///   `--features`, `--sample-weight`, `--categorical`, `--ordered`) or a missing `--values`;
    ///   a one-line file error for a malformed file, no rows or features, or row counts that
    ///   differ.
    init(keysFile: String, selection: ColumnSelection, hasTarget: Bool) throws {
        try Self.requireOptions(keysFile: keysFile, selection: selection, hasTarget: hasTarget)
        keys = try NPYFile.read(keysFile).matrix(file: keysFile)
        guard keys.rows > 0 else { throw CommandLineError.file(keysFile, "has no rows: training needs at least one") }
        guard keys.columns > 0 else { throw CommandLineError.file(keysFile, "has shape (\(keys.rows), 0): no feature columns") }
        self.keysFile = keysFile
        valuesFile = hasTarget ? selection.values : nil
        if let valuesFile {
            let values = try NPYFile.read(valuesFile)
            try Self.requireValues(values.shape, of: valuesFile, rows: keys.rows, keysFile: keysFile)
            self.values = values
        } else {
            values = nil
        }
    }

    /// A shard of the rows (under mpirun), read and checked by the caller.
    init(keysFile: String, keys: Matrix, values: NPYArray?, valuesFile: String?) {
        (self.keysFile, self.keys, self.values, self.valuesFile) = (keysFile, keys, values, valuesFile)
    }

    /// The option errors of a .npy TRAIN (before any file is read).
    static func requireOptions(keysFile: String, selection: ColumnSelection, hasTarget: Bool) throws {
        let csvOnly: [(Bool, String)] = [
            (selection.target != nil, "--target"), (selection.features != nil, "--features"),
            (selection.sampleWeight != nil, "--sample-weight"), (!selection.categorical.isEmpty, "--categorical"),
            (!selection.ordered.isEmpty, "--ordered"),
        ]
        for (given, option) in csvOnly where given {
            throw CommandLineError.option(option, "applies to a CSV TRAIN; \(keysFile) is a .npy array of features only (targets in --values)")
        }
        if hasTarget && selection.values == nil {
            throw CommandLineError.option("--values", "is required with a .npy TRAIN (\(keysFile) holds the features only)")
        }
        if !hasTarget, selection.values != nil {
            throw CommandLineError.option("--values", "does not apply to a density: every column of \(keysFile) is a coordinate")
        }
    }

    /// The checks of the values' shape against the keys' row count.
    static func requireValues(_ shape: [Int], of valuesFile: String, rows: Int, keysFile: String) throws {
        guard (1...2).contains(shape.count) else {
            throw CommandLineError.file(valuesFile, "should have shape (n,) or (n, p), but has shape \(NPYFile.tupleText(shape))")
        }
        guard shape[0] == rows else {
            throw CommandLineError.file(valuesFile, "has \(shape[0]) row\(shape[0] == 1 ? "" : "s"), but \(keysFile) has \(rows): one value per key")
        }
        guard shape.count == 1 || shape[1] > 0 else {
            throw CommandLineError.file(valuesFile, "has shape \(NPYFile.tupleText(shape)): no value columns")
        }
    }

    /// The n × p numeric targets.
    func targets() throws -> Matrix {
        guard let values, let valuesFile else { preconditionFailure("a density has no targets") }
        guard case .numbers = values.elements else {
            throw CommandLineError.file(valuesFile, "holds text labels, but a regression needs numbers (use --classify for labels)")
        }
        return try values.matrix(file: valuesFile)
    }

    /// The n class labels: text as stored, integral numbers without a decimal point (3, not 3.0).
    func labels() throws -> [String] {
        guard let values, let valuesFile else { preconditionFailure("a density has no labels") }
        guard values.shape.count == 1 || values.shape[1] == 1 else {
            throw CommandLineError.file(valuesFile, "should have shape (n,) for --classify (one label per key), but has shape \(NPYFile.tupleText(values.shape))")
        }
        switch values.elements {
        case let .labels(texts):
            if let k = texts.firstIndex(of: "") {
                throw CommandLineError.file(valuesFile, "element \(k) (row \(k + 1)) is empty; it should hold a class label")
            }
            return texts
        case let .numbers(numbers):
            return numbers.map { x in
                x == x.rounded() && x.magnitude < 0x1p53 ? String(Int64(x)) : NumberFormat.roundTrip(x)
            }
        }
    }
}

/// The dot kernel's width is a temperature: the normal-reference rules do not size it.
enum DotRules {
    static func message(_ method: BandwidthMethod) -> String {
        "\(method.rawValue) sizes a width for distances, but the dot kernel's width is a temperature: give a width (d^¼ is a Transformer's 1/√d) or use cv"
    }
}

/// `--normalize`: rows scaled to unit Euclidean length (cosine similarity for the `dot` kernel).
enum RowNormalization {
    /// `matrix` with each row divided by its norm.
    ///
    /// - Parameters:
    ///   - matrix: the keys or queries.
    ///   - zeroRow: the one-line error for row `i` (0-based) when it is all zeros.
    /// - Throws: `zeroRow(i)` for the first row with no direction.
    /// - Complexity: O(rows · columns).
    static func normalized(_ matrix: Matrix, zeroRow: (Int) -> CommandLineError) throws -> Matrix {
        for i in 0..<matrix.rows where (0..<matrix.columns).allSatisfy({ matrix[i, $0] == 0 }) {
            throw zeroRow(i)
        }
        return try matrix.normalizedRows()
    }

    /// The message of a zero row.
    static let zeroRowMessage = "has norm 0: --normalize cannot scale it to unit length"
}
