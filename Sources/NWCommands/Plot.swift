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

    @OptionGroup var kernel: KernelOptions
    @OptionGroup var bandwidth: BandwidthOption
    @OptionGroup var fit: FitOptions

    @Option(help: ArgumentHelp("A QUERY column holding the true function, drawn dashed.", valueName: "COL"))
    var truth: String?

    @Flag(help: "Also draw the attention weights (queries × keys, sorted by the plotted feature) with a colour bar.")
    var heatmap = false

    @Option(help: ArgumentHelp("The feature on the x axis (required when TRAIN has several).", valueName: "COL"))
    var feature: String?

    @Option(help: ArgumentHelp("The SVG file to write (atomically).", valueName: "FILE.svg"))
    var output: String?

    @OptionGroup var interval: IntervalOptions

    @OptionGroup var engine: EngineOptions

    func options() throws -> PlotOptions {
        var options = PlotOptions(train: try training.requiredTrain(), query: try require(query, "--query"),
                                  kernel: try require(kernel.kernel, "--kernel"),
                                  bandwidth: try require(bandwidth.bandwidth, "--bandwidth"), output: try require(output, "--output"))
        options.apply(training, kernel, fit, engine)
        options.truth = truth
        options.heatmap = heatmap
        options.feature = feature
        options.interval = interval.request
        try options.validate()
        return options
    }

    func validate() throws { _ = try options() }

    func run() throws { try PlotJob.run(options()) }
}
