import ArgumentParser
import NadarayaWatson
import NWCommandLine

struct Predict: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Predict each QUERY row by attention pooling over the TRAIN rows.",
        discussion: """
        Output: every QUERY column, then `prediction` (with --classify: the most probable label, \
        then p_<label> per class). Numbers are written in round-trip form.
        """
    )

    @OptionGroup var training: TrainingOptions

    @Option(help: ArgumentHelp("Queries: CSV holding every feature column of TRAIN by name; other columns are copied through. '-' reads standard input.", valueName: "QUERY.csv"))
    var query: String?

    @Option(help: ArgumentHelp("The kernel profile K(u).", valueName: choices(Kernel.self)))
    var kernel: String?

    @Option(parsing: .unconditional, help: ArgumentHelp("A positive width, a comma list with one per feature, or scott, silverman, cv.", valueName: "BW"))
    var bandwidth: String?

    @Flag(help: "The target holds class labels: predict the most probable label and each class's probability.")
    var classify = false

    @Option(help: ArgumentHelp("radial: K(‖(q−k)/h‖); product: ∏ⱼ K((qⱼ−kⱼ)/hⱼ).", valueName: choices(KernelForm.self)))
    var form: String = KernelForm.radial.rawValue

    @Option(help: ArgumentHelp("What a query with zero total weight gets (compact kernels far from every key).", valueName: choices(EmptyNeighbourhoodPolicy.self)))
    var empty: String = EmptyNeighbourhoodPolicy.nan.rawValue

    @Flag(help: "Local widths (Abramson): each training row's width is h·(g/p̂(xᵢ))^½ with p̂ the pilot density at width h and g its geometric mean; sparse regions get wider kernels.")
    var adaptive = false

    @Option(help: ArgumentHelp("Also write the attention-weight matrix: one row per query, one column per TRAIN row.", valueName: "WEIGHTS.csv"))
    var weights: String?

    @Option(help: ArgumentHelp("Write here instead of standard output (atomically: all or nothing).", valueName: "OUT.csv"))
    var output: String?

    @Option(help: ArgumentHelp("Predict with a model from `nw train` instead of TRAIN, kernel and bandwidth.", valueName: "MODEL.json"))
    var model: String?

    @OptionGroup var engine: EngineOptions

    func run() throws {
        if let model {
            for (given, name) in [(training.train, "--train"), (kernel, "--kernel"), (bandwidth, "--bandwidth"), (training.target, "--target"), (weights, "--weights")] where given != nil {
                throw CommandLineError.option(name, "cannot be combined with --model (the model holds its training data, kernel and widths)")
            }
            if adaptive { throw CommandLineError.option("--adaptive", "cannot be combined with --model (the model holds its widths)") }
            if classify { throw CommandLineError.option("--classify", "cannot be combined with --model (trained models are regressors)") }
            var options = ModelPredictOptions(model: model, query: try require(query, "--query"))
            options.output = output
            options.threads = try engine.validatedThreads()
            try PredictJob.run(options)
            return
        }
        let needs = " (or use --model)"
        var options = PredictOptions(
            train: try require(training.train, "--train", needs),
            query: try require(query, "--query"),
            kernel: try choice(Kernel.self, "--kernel", require(kernel, "--kernel", needs)),
            bandwidth: try BandwidthArgument(parsing: require(bandwidth, "--bandwidth", needs))
        )
        options.target = training.target
        options.classify = classify
        options.adaptive = adaptive
        options.form = try choice(KernelForm.self, "--form", form)
        options.empty = try choice(EmptyNeighbourhoodPolicy.self, "--empty", empty)
        options.weights = weights
        options.output = output
        options.threads = try engine.validatedThreads()
        options.strategy = try engine.validatedStrategy()
        options.precision = try engine.validatedPrecision()
        try PredictJob.run(options)
    }
}
