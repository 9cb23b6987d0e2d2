import ArgumentParser
import NadarayaWatson
import NWCommandLine

// Closed option sets parse through swift-argument-parser; a bad value reads "The value 'x' is
// invalid for '--kernel <kernel>'. Please provide one of …", folded to one line by `Main`.
extension Kernel: ExpressibleByArgument {}
extension KernelForm: ExpressibleByArgument {}
extension EmptyNeighbourhoodPolicy: ExpressibleByArgument {}
extension Precision: ExpressibleByArgument {}
extension EvaluationStrategy: ExpressibleByArgument {}
extension Optimizer: ExpressibleByArgument {}
extension BandwidthMethod: ExpressibleByArgument {}
extension BandKind: ExpressibleByArgument {}
extension BootstrapMultipliers: ExpressibleByArgument {}
extension MissingPolicy: ExpressibleByArgument {}

/// A comma list of column names.
private func columnList(_ text: String) -> [String] {
    text.split(separator: ",", omittingEmptySubsequences: false).map { String($0) }
}

/// TRAIN and which of its columns play which part (predict, bandwidth, plot, train, density).
struct TrainingOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Training data: CSV with a header, one row per observation ('-' reads standard input), or a .npy array of features (with --values).", valueName: "TRAIN.csv"))
    var train: String?

    @Option(help: ArgumentHelp("The value column of TRAIN (default: the last column that is not the weight).", valueName: "COL"))
    var target: String?

    @Option(help: ArgumentHelp("With a .npy TRAIN (features only, n × d): the targets, a .npy array of shape (n,) or (n, p); labels (integers or text) with --classify.", valueName: "V.npy"))
    var values: String?

    @Flag(help: "Scale every key and query to unit Euclidean length first (cosine similarity; on unit vectors the dot kernel equals the gaussian).")
    var normalize = false

    @Option(help: ArgumentHelp("The feature columns, comma-separated, in this order (default: every column but the target and the weight); other columns are ignored and may hold text.", valueName: "COLS"),
            transform: { $0.split(separator: ",", omittingEmptySubsequences: false).map { String($0) } })
    var features: [String]?

    @Option(name: .customLong("sample-weight"), help: ArgumentHelp("A TRAIN column of observation weights sᵢ ≥ 0 (frequency weights: an integer weight repeats the row; 0 removes it).", valueName: "COL"))
    var sampleWeight: String?

    @Option(help: ArgumentHelp("Features holding unordered categories (any text, compared exactly): the Aitchison–Aitken kernel, 1 − λ on equal categories, λ/(c − 1) otherwise, λ ∈ [0, (c − 1)/c].", valueName: "COLS"),
            transform: columnList)
    var categorical: [String] = []

    @Option(help: ArgumentHelp("Features holding ordered categories (numbers): the Wang–van Ryzin kernel, 1 − λ on equal values, ½(1 − λ)λ^|a−b| otherwise, λ ∈ [0, 1].", valueName: "COLS"),
            transform: columnList)
    var ordered: [String] = []

    @Option(help: ArgumentHelp("Missing cells (empty, NA, nan, NaN): error, or drop (TRAIN rows left out with a note; QUERY rows get nan).", valueName: "policy"))
    var missing: MissingPolicy = .error

    @Option(help: ArgumentHelp("The field delimiter of TRAIN and QUERY: one character, or tab (default: tab for .tsv and .tab files, else a comma).", valueName: "C"),
            transform: InputFormat.parseDelimiter)
    var delimiter: UInt8?

    var columns: ColumnSelection {
        var selection = ColumnSelection(target: target, features: features, sampleWeight: sampleWeight)
        selection.categorical = categorical
        selection.ordered = ordered
        selection.format = InputFormat(delimiter: delimiter, missing: missing)
        selection.values = values
        selection.normalize = normalize
        return selection
    }

    func validate() throws {
        for (list, name) in [(features ?? [], "--features"), (categorical, "--categorical"), (ordered, "--ordered")]
            where list.contains(where: \.isEmpty) {
            throw ValidationError("\(name): should be a comma list of column names, but has an empty name")
        }
    }

    func requiredTrain(_ context: String = "") throws -> String { try require(train, "--train", context) }
}

/// The kernel α and its form (predict, bandwidth, plot, density).
struct KernelOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The kernel profile K(u).", valueName: "kernel"))
    var kernel: Kernel?

    @Option(help: ArgumentHelp("radial: K(‖(q−k)/h‖); product: ∏ⱼ K((qⱼ−kⱼ)/hⱼ).", valueName: "form"))
    var form: KernelForm = .radial
}

/// The kernel widths (predict, plot, density).
struct BandwidthOption: ParsableArguments {
    @Option(parsing: .unconditional,
            help: ArgumentHelp("A positive width, a comma list with one per feature (in the feature order), or scott, silverman, cv.", valueName: "BW"),
            transform: BandwidthArgument.init(parsing:))
    var bandwidth: BandwidthArgument?
}

/// The local fit (predict, bandwidth, plot).
struct FitOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The local polynomial's degree: 0 (Nadaraya–Watson), 1 (local linear), 2 or 3.", valueName: "P"))
    var degree = 0

    @Option(help: ArgumentHelp("What a query with zero total weight gets (compact kernels far from every key).", valueName: "policy"))
    var empty: EmptyNeighbourhoodPolicy = .nan

    func validate() throws {
        guard (0...LocalPolynomialRegressor.maximumDegree).contains(degree) else {
            throw ValidationError("--degree: should be 0, 1, 2 or 3, but is \(degree)")
        }
    }
}

/// Intervals and bands (predict, plot).
struct IntervalOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Add lower and upper: the asymptotic interval f̂ ∓ z·se at this level (z the normal quantile at (1 + LEVEL)/2), or with --bootstrap the resamples' percentiles.", valueName: "LEVEL"))
    var interval: Double?

    @Option(help: ArgumentHelp("The interval (and se) from B wild-bootstrap resamples y*ᵢ = f̂(xᵢ) + ε̃ᵢvᵢ refitted with the same widths.", valueName: "B"))
    var bootstrap: Int?

    @Option(help: ArgumentHelp("The bootstrap's seed: the same seed gives the same bytes on any thread count.", valueName: "S"))
    var seed: UInt64 = 0

    @Option(name: .customLong("bootstrap-weights"), help: ArgumentHelp("The multipliers vᵢ: rademacher (±1) or mammen (two-point, skewed).", valueName: "weights"))
    var bootstrapWeights: BootstrapMultipliers = .rademacher

    @Option(help: ArgumentHelp("pointwise: each query's percentile interval; simultaneous: a sup-t band covering the whole curve at LEVEL.", valueName: "band"))
    var band: BandKind = .pointwise

    var request: IntervalRequest {
        var request = IntervalRequest()
        request.level = interval
        request.bootstrap = bootstrap.map { WildBootstrap(resamples: $0, multipliers: bootstrapWeights, seed: seed) }
        request.band = band
        return request
    }
}

/// Engine options.
struct EngineOptions: ParsableArguments {
    @Option(help: "Worker threads (default: every core). Results do not depend on it.")
    var threads: Int?

    @Option(help: ArgumentHelp("Evaluation engine.", visibility: .hidden))
    var strategy: EvaluationStrategy = .automatic

    @Option(help: ArgumentHelp("Arithmetic of the SIMD engines (gaussian, logistic, cauchy, laplacian): double, or single for about twice the speed at ~1e-6 relative error.", valueName: "precision"))
    var precision: Precision = .double

    func validate() throws {
        if let threads, threads < 1 {
            throw ValidationError("--threads: should be a whole number of at least 1, but is \(threads)")
        }
    }
}

extension SmootherJobOptions {
    /// Fills in the options the option groups hold.
    mutating func apply(_ training: TrainingOptions, _ kernel: KernelOptions, _ fit: FitOptions, _ engine: EngineOptions) {
        columns = training.columns
        degree = fit.degree
        form = kernel.form
        empty = fit.empty
        threads = engine.threads
    }
}

func require<T>(_ value: T?, _ option: String, _ context: String = "") throws -> T {
    guard let value else { throw CommandLineError.option(option, "is required\(context)") }
    return value
}
