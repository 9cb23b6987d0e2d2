#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
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
        let widths = try select(options.method, training: training, keys: keys, kernel: options.kernel, form: options.form,
                                empty: options.empty, degree: options.degree, sampleWeights: training.sampleWeights(),
                                threads: options.threads)
        try FileIO.writeStandardOutput(Array((widths.map(NumberFormat.roundTrip).joined(separator: ",") + "\n").utf8))
    }

    /// The widths `method` selects for the training data.
    /// For cv, the score at the selected widths goes to stderr as a diagnostic.
    static func select(_ method: BandwidthMethod, training: TrainingData, keys: Matrix, kernel: Kernel, form: KernelForm,
                       empty: EmptyNeighbourhoodPolicy = .nan, degree: Int = 0, sampleWeights: [Double]? = nil,
                       threads: Int? = nil) throws -> [Double] {
        try LibraryErrors.translate(training: training) {
            switch method {
            case .scott: return try BandwidthRule.scott.bandwidths(for: keys, weights: sampleWeights)
            case .silverman: return try BandwidthRule.silverman.bandwidths(for: keys, weights: sampleWeights)
            case .cv:
                let targets = try training.targets().elements
                // A progress line on a terminal only: the count of CV evaluations and the best score.
                let terminal = isatty(2) != 0
                var shown = false
                let result = try CrossValidation(kernel: kernel, form: form, emptyPolicy: empty, degree: degree, threads: threads)
                    .select(keys: keys, targets: targets, sampleWeights: sampleWeights) { evaluations, best in
                        guard terminal else { return }
                        StandardError.write("\rnw: cv: \(evaluations) evaluations, best score \(NumberFormat.roundTrip(best))\u{1B}[K")
                        shown = true
                    }
                if shown { StandardError.write("\r\u{1B}[K") }
                StandardError.writeLine("nw: cv: leave-one-out score \(NumberFormat.roundTrip(result.score)) at h = \(result.bandwidths.map(NumberFormat.roundTrip).joined(separator: ","))")
                return result.bandwidths
            }
        }
    }
}
