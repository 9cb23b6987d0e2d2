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

    public init(train: String, method: BandwidthMethod) {
        self.train = train
        self.method = method
    }
}

/// `nw bandwidth`: prints one line, one width per feature, comma-separated.
public enum BandwidthJob {
    public static func run(_ options: BandwidthOptions) throws {
        let training = try TrainingData(path: options.train, selection: options.columns)
        let keys = try training.keys()
        let sampleWeights = try training.sampleWeights()
        let widths = try LibraryErrors.translate(training: training) { () throws -> [Double] in
            switch options.method {
            case .scott: return try BandwidthRule.scott.bandwidths(for: keys, weights: sampleWeights)
            case .silverman: return try BandwidthRule.silverman.bandwidths(for: keys, weights: sampleWeights)
            case .cv:
                // The estimator's own search, as `--bandwidth cv` runs it inside `fit`.
                var estimator = LocalPolynomialRegressor(kernel: options.kernel, form: options.form, bandwidth: .crossValidation,
                                                         degree: options.degree, emptyPolicy: options.empty, threads: options.threads)
                estimator.selectionProgress = SelectionReport.progress
                let fitted = try estimator.fit(keys: keys, targets: training.targets().elements, sampleWeights: sampleWeights)
                SelectionReport.finish(score: fitted.crossValidationScore, bandwidths: fitted.bandwidths)
                return fitted.bandwidths
            }
        }
        try FileIO.writeStandardOutput(Array((widths.map(NumberFormat.roundTrip).joined(separator: ",") + "\n").utf8))
    }
}
