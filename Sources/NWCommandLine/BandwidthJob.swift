import NadarayaWatson

/// Everything `nw bandwidth` was asked to do.
public struct BandwidthOptions: Sendable {
    public var train: String
    /// `--target`, `--features`, `--sample-weight`.
    public var columns = ColumnSelection()
    /// For cv: the local polynomial's degree.
    public var degree = 0
    public var method: BandwidthMethod
    public var kernel: Kernel = .gaussian
    public var form: KernelForm = .radial
    public var empty: EmptyNeighbourhoodPolicy = .nan
    public var threads: Int?
    /// The target holds class labels: cv minimises the leave-one-out cross-entropy.
    public var classify = false
    /// Widths for a density of every selected column: cv maximises the leave-one-out likelihood.
    public var density = false

    public init(train: String, method: BandwidthMethod) {
        self.train = train
        self.method = method
    }
}

/// `nw bandwidth`: prints one line, one width per feature, comma-separated.
public enum BandwidthJob {
    public static func run(_ options: BandwidthOptions) throws {
        if options.classify && options.density {
            throw CommandLineError.option("--density", "cannot be combined with --classify")
        }
        if options.density && options.columns.target != nil {
            throw CommandLineError.option("--target", "does not apply to a density: every selected TRAIN column is a coordinate")
        }
        if options.kernel == .dot && options.method != .cv {
            throw CommandLineError.option("--method", DotRules.message(options.method))
        }
        if options.columns.hasDiscrete && options.method != .cv {
            throw CommandLineError.option("--method", "\(options.method.rawValue) gives widths for continuous features only; with --categorical or --ordered use cv")
        }
        if let cluster = try Cluster.current() { return try DistributedJob.bandwidth(options, cluster: cluster) }
        let training = try TrainingData(path: options.train, selection: options.columns, hasTarget: !options.density)
        let keys = try training.keys()
        let sampleWeights = try training.sampleWeights()
        let widths = try LibraryErrors.translate(training: training) { () throws -> [Double] in
            switch options.method {
            case .scott: return try BandwidthRule.scott.bandwidths(for: keys, weights: sampleWeights)
            case .silverman: return try BandwidthRule.silverman.bandwidths(for: keys, weights: sampleWeights)
            case .cv where options.classify:
                var classifier = NadarayaWatsonClassifier(kernel: options.kernel, form: options.form, bandwidth: .crossValidation,
                                                          emptyPolicy: options.empty, threads: options.threads)
                classifier.featureKinds = training.featureKinds
                classifier.selectionProgress = SelectionReport.progress
                let fitted = try classifier.fit(keys: keys, labels: training.labels(), sampleWeights: sampleWeights)
                SelectionReport.finish(score: fitted.crossValidationScore, bandwidths: fitted.bandwidths, criterion: "cross-entropy")
                return fitted.bandwidths
            case .cv where options.density:
                return try DensityJob.fit(.crossValidation, kernel: options.kernel, form: options.form, threads: options.threads,
                                          training: training, samples: keys, sampleWeights: sampleWeights).bandwidths
            case .cv:
                // The estimator's own search, as `--bandwidth cv` runs it inside `fit`.
                var estimator = LocalPolynomialRegressor(kernel: options.kernel, form: options.form, bandwidth: .crossValidation,
                                                         degree: options.degree, emptyPolicy: options.empty, threads: options.threads)
                estimator.selectionProgress = SelectionReport.progress
                estimator.featureKinds = training.featureKinds
                let fitted = try estimator.fit(keys: keys, targets: training.targetValues(), sampleWeights: sampleWeights)
                SelectionReport.finish(score: fitted.crossValidationScore, bandwidths: fitted.bandwidths)
                return fitted.bandwidths
            }
        }
        try FileIO.writeStandardOutput(Array((widths.map(NumberFormat.roundTrip).joined(separator: ",") + "\n").utf8))
    }
}
