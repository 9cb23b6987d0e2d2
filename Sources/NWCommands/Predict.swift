import ArgumentParser
import NadarayaWatson
import NWCommandLine

struct Predict: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Predict each QUERY row by attention pooling (or a local polynomial) over the TRAIN rows.",
        discussion: """
        Output: every QUERY column, then `prediction` (with --classify: the most probable label, \
        then p_<label> per class), then with --derivatives one d_<feature> column per feature, then se, lower, upper as asked. \
        Numbers are written in round-trip form.
        """
    )

    @OptionGroup var training: TrainingOptions

    @Option(help: ArgumentHelp("Queries: CSV holding every feature column of TRAIN by name; other columns are copied through. '-' reads standard input. Or a .npy array (m × d, TRAIN's feature order).", valueName: "QUERY.csv"))
    var query: String?

    @OptionGroup var kernel: KernelOptions
    @OptionGroup var bandwidth: BandwidthOption
    @OptionGroup var fit: FitOptions

    @Flag(help: "Add d_<feature> columns: the local slope β_j/h_j (degree ≥ 1) or the exact derivative of the estimate (degree 0).")
    var derivatives = false

    @Flag(help: "Add an se column: the standard error σ̂·‖l(q)‖ of the estimate (σ̂ from the in-sample fit; on stderr).")
    var se = false

    @OptionGroup var interval: IntervalOptions

    @Flag(help: "Print a fit summary on stderr: n, widths, degree, σ̂, ν (effective parameters), R² and the leave-one-out CV score.")
    var summary = false

    @Flag(help: "The target holds class labels: predict the most probable label and each class's probability.")
    var classify = false

    @Flag(help: "Local widths (Abramson): each training row's width is h·(g/p̂(xᵢ))^½ with p̂ the pilot density at width h and g its geometric mean; sparse regions get wider kernels.")
    var adaptive = false

    @Option(help: ArgumentHelp("Also write the attention-weight matrix (degree ≥ 1: the equivalent kernel lᵢ(q)): one row per query, one column per TRAIN row.", valueName: "WEIGHTS.csv"))
    var weights: String?

    @Option(help: ArgumentHelp("Write here instead of standard output (atomically: all or nothing); a path ending in .npy gets the numeric result columns as an m × p float64 array.", valueName: "OUT.csv"))
    var output: String?

    @Option(help: ArgumentHelp("Predict with a model from `nw train` instead of TRAIN, kernel and bandwidth.", valueName: "MODEL.json"))
    var model: String?

    @OptionGroup var engine: EngineOptions

    /// With --model, none of the options that describe TRAIN or the estimator.
    func modelOptions(_ model: String) throws -> ModelPredictOptions {
        let given: [(Bool, String)] = [
            (training.train != nil, "--train"), (kernel.kernel != nil, "--kernel"), (bandwidth.bandwidth != nil, "--bandwidth"),
            (training.target != nil, "--target"), (training.features != nil, "--features"),
            (training.sampleWeight != nil, "--sample-weight"), (training.values != nil, "--values"), (training.normalize, "--normalize"),
            (weights != nil, "--weights"), (fit.degree != 0, "--degree"),
            (derivatives, "--derivatives"), (adaptive, "--adaptive"), (classify, "--classify"), (se, "--se"),
            (interval.interval != nil, "--interval"), (interval.bootstrap != nil, "--bootstrap"), (summary, "--summary"),
        ]
        for (isGiven, name) in given where isGiven {
            throw CommandLineError.option(name, "cannot be combined with --model (the model holds its training data, kernel and widths)")
        }
        var options = ModelPredictOptions(model: model, query: try require(query, "--query"))
        options.output = output
        options.threads = engine.threads
        return options
    }

    func predictOptions() throws -> PredictOptions {
        let needs = " (or use --model)"
        var options = PredictOptions(train: try training.requiredTrain(needs), query: try require(query, "--query"),
                                     kernel: try require(kernel.kernel, "--kernel", needs),
                                     bandwidth: try require(bandwidth.bandwidth, "--bandwidth", needs))
        options.apply(training, kernel, fit, engine)
        options.derivatives = derivatives
        options.standardErrors = se
        options.interval = interval.request
        options.summary = summary
        options.classify = classify
        options.adaptive = adaptive
        options.weights = weights
        options.output = output
        options.strategy = engine.strategy
        options.precision = engine.precision
        try options.validate()
        return options
    }

    func validate() throws {
        if let model { _ = try modelOptions(model) } else { _ = try predictOptions() }
    }

    func run() throws {
        if let model { try PredictJob.run(modelOptions(model)) } else { try PredictJob.run(predictOptions()) }
    }
}
