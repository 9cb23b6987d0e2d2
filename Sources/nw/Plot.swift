import ArgumentParser
import NadarayaWatson
import NWCommandLine

struct Plot: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Draw the fit over the training points as SVG, optionally with the attention-weight heatmap.",
        discussion: """
        The prediction at every QUERY row is drawn as a line along one feature (queries sorted by it), \
        over the training points. With more than one feature, --feature names the one on the x axis \
        (the others are taken from QUERY as they are).
        """
    )

    @OptionGroup var training: TrainingOptions

    @Option(help: ArgumentHelp("Queries: CSV holding every feature column of TRAIN by name.", valueName: "QUERY.csv"))
    var query: String?

    @Option(help: ArgumentHelp("The kernel profile K(u).", valueName: choices(Kernel.self)))
    var kernel: String?

    @Option(parsing: .unconditional, help: ArgumentHelp("A positive width, a comma list with one per feature, or scott, silverman, cv.", valueName: "BW"))
    var bandwidth: String?

    @Option(help: ArgumentHelp("A QUERY column holding the true function, drawn dashed.", valueName: "COL"))
    var truth: String?

    @Flag(help: "Also draw the attention weights (queries × keys, sorted by the plotted feature) with a colour bar.")
    var heatmap = false

    @Option(help: ArgumentHelp("The feature on the x axis (required when TRAIN has several).", valueName: "COL"))
    var feature: String?

    @Option(help: ArgumentHelp("radial: K(‖(q−k)/h‖); product: ∏ⱼ K((qⱼ−kⱼ)/hⱼ).", valueName: choices(KernelForm.self)))
    var form: String = KernelForm.radial.rawValue

    @Option(help: ArgumentHelp("What a query with zero total weight gets (compact kernels far from every key).", valueName: choices(EmptyNeighbourhoodPolicy.self)))
    var empty: String = EmptyNeighbourhoodPolicy.nan.rawValue

    @Option(help: ArgumentHelp("The SVG file to write (atomically).", valueName: "FILE.svg"))
    var output: String?

    @Option(help: "Worker threads (default: every core).")
    var threads: Int?

    func run() throws {
        var options = PlotOptions(
            train: try require(training.train, "--train"),
            query: try require(query, "--query"),
            kernel: try choice(Kernel.self, "--kernel", require(kernel, "--kernel")),
            bandwidth: try BandwidthArgument(parsing: require(bandwidth, "--bandwidth")),
            output: try require(output, "--output")
        )
        options.target = training.target
        options.truth = truth
        options.heatmap = heatmap
        options.feature = feature
        options.form = try choice(KernelForm.self, "--form", form)
        options.empty = try choice(EmptyNeighbourhoodPolicy.self, "--empty", empty)
        if let threads, threads < 1 {
            throw CommandLineError.option("--threads", "should be a whole number of at least 1, but is \(threads)")
        }
        options.threads = threads
        try PlotJob.run(options)
    }
}
