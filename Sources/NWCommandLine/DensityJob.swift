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
extension DensityOptions {
    /// The checks across options, before any file is read.
    public func validate() throws {
        if columns.target != nil {
            throw CommandLineError.option("--target", "does not apply to a density: every selected TRAIN column is a coordinate")
        }
        if train == FileIO.standardStreamName && query == FileIO.standardStreamName {
            throw CommandLineError.option("--query", "cannot read standard input when --train does too")
        }
    }
}

public enum DensityJob {
    public static func run(_ options: DensityOptions) throws {
        if let cluster = try Cluster.current() { return try DistributedJob.density(options, cluster: cluster) }
        try options.validate()
        let output = try options.output.flatMap { $0 == FileIO.standardStreamName ? nil : try AtomicFile(path: $0) }
        let training = try TrainingData(path: options.train, selection: options.columns, hasTarget: false)
        let names = training.featureNames
        let samples = try training.keys()
        let sampleWeights = try training.sampleWeights()
        let query = try QueryData(path: options.query, features: names, trainFile: options.train, format: options.columns.format)
        let points = try query.queries(training)
        let density = try LibraryErrors.translate(training: training, query: query) { () throws -> [Double] in
            do {
                let fitted = try fit(options.bandwidth.bandwidth, kernel: options.kernel, form: options.form, threads: options.threads,
                                     training: training, samples: samples, sampleWeights: sampleWeights)
                return query.expand(try fitted.density(points))
            } catch let NadarayaWatsonError.invalidArgument(message) where message.contains("has no density") {
                throw CommandLineError.option("--kernel", message)
            }
        }
        var result = ResultTable()
        result.add("density", density)
        try result.write(beside: query, to: output)
    }

    /// The density estimator of the job (and of `nw bandwidth --density`), fitted: widths given,
    /// a rule, or the leave-one-out likelihood, whose score goes to stderr.
    static func fit(_ bandwidth: Bandwidth, kernel: Kernel, form: KernelForm, threads: Int?, training: TrainingData,
                    samples: Matrix, sampleWeights: [Double]?) throws -> FittedParzenDensity {
        var estimator = ParzenDensity(kernel: kernel, form: form, bandwidth: bandwidth, threads: threads)
        estimator.featureKinds = training.featureKinds
        estimator.selectionProgress = SelectionReport.progress
        let fitted = try estimator.fit(samples: samples, sampleWeights: sampleWeights)
        SelectionReport.finish(score: fitted.crossValidationScore, bandwidths: fitted.bandwidths,
                               criterion: "negative log-likelihood per point")
        return fitted
    }
}
