import NadarayaWatson

/// Everything `nw density` was asked to do.
public struct DensityOptions: Sendable {
    public var train: String
    public var query: String
    public var kernel: Kernel
    public var bandwidth: BandwidthArgument
    /// `--features` (the coordinate columns; default all but the weight) and `--sample-weight`.
    public var columns = ColumnSelection()
    public var form: KernelForm = .radial
    public var output: String?
    public var threads: Int?

    public init(train: String, query: String, kernel: Kernel, bandwidth: BandwidthArgument) {
        self.train = train
        self.query = query
        self.kernel = kernel
        self.bandwidth = bandwidth
    }
}

/// `nw density`: the Parzen-window density of TRAIN's rows (every column a coordinate) at each
/// QUERY row; writes QUERY's columns plus `density`, atomically.
public enum DensityJob {
    public static func run(_ options: DensityOptions) throws {
        let output = try options.output.flatMap { $0 == FileIO.standardStreamName ? nil : try AtomicFile(path: $0) }
        if options.train == FileIO.standardStreamName && options.query == FileIO.standardStreamName {
            throw CommandLineError.option("--query", "cannot read standard input when --train does too")
        }
        if options.columns.target != nil {
            throw CommandLineError.option("--target", "does not apply to a density: every selected TRAIN column is a coordinate")
        }
        let training = try TrainingData(path: options.train, selection: options.columns, hasTarget: false)
        let names = training.featureNames
        let samples = try training.keys()
        let sampleWeights = try training.sampleWeights()
        let query = try QueryData(path: options.query, features: names, trainFile: options.train)
        let points = try query.queries()
        let bandwidth: Bandwidth
        switch options.bandwidth {
        case .widths:
            bandwidth = .widths(try options.bandwidth.widths(features: names, trainFile: options.train)!)
        case .method(.scott): bandwidth = .scott
        case .method(.silverman): bandwidth = .silverman
        case .method(.cv):
            throw CommandLineError.option("--bandwidth", "cv selects widths for regression (least squares); for a density give numbers, scott or silverman")
        }
        let density: [Double]
        do {
            density = try ParzenDensity(kernel: options.kernel, form: options.form, bandwidth: bandwidth, threads: options.threads)
                .fit(samples: samples, sampleWeights: sampleWeights).density(points)
        } catch let error as NadarayaWatsonError {
            switch error {
            case let .degenerateBandwidth(feature, rule, reason):
                let column = training.featureColumns[feature]
                throw CommandLineError.cell(options.train, line: 1, column: column, name: names[feature],
                                            "has no usable \(rule) bandwidth: \(reason); give --bandwidth explicitly")
            case let .notEnoughData(needed, actual, reason):
                throw CommandLineError.line(options.train, 1 + actual + 1,
                                            "\(reason) needs at least \(needed) data rows, but there \(actual == 1 ? "is" : "are") \(actual)")
            case .invalidArgument:
                throw CommandLineError.option("--kernel", error.description)
            default:
                throw CommandLineError(error.description)
            }
        }
        try PredictJob.writeWithColumn(query.table, named: "density", density, to: output)
    }
}
