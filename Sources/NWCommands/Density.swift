import ArgumentParser
import NadarayaWatson
import NWCommandLine

struct Density: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Estimate the Parzen-window density of TRAIN's rows at each QUERY row.",
        discussion: """
        p̂(x) = Σᵢ sᵢ c_d / (h₁⋯h_d) · α((x − xᵢ)/h) / Σᵢ sᵢ, with the kernel normalised over ℝᵈ \
        (c_d: e.g. (2π)^(−d/2) for gaussian, 3/4 for epanechnikov in 1-D), so p̂ integrates to 1; sᵢ = 1 \
        without --sample-weight. Every TRAIN column but the weight is a coordinate (or those of \
        --features); QUERY must hold them all by name. Output: every QUERY column, then `density`. The \
        constant kernel, and radial cauchy in d ≥ 2, have no density.
        """
    )

    @OptionGroup var training: TrainingOptions

    @Option(help: ArgumentHelp("Points to evaluate: CSV holding every coordinate column by name; other columns are copied through.", valueName: "QUERY.csv"))
    var query: String?

    @OptionGroup var kernel: KernelOptions
    @OptionGroup var bandwidth: BandwidthOption

    @Option(help: ArgumentHelp("Write here instead of standard output (atomically: all or nothing).", valueName: "OUT.csv"))
    var output: String?

    @OptionGroup var engine: EngineOptions

    func options() throws -> DensityOptions {
        var options = DensityOptions(train: try training.requiredTrain(), query: try require(query, "--query"),
                                     kernel: try require(kernel.kernel, "--kernel"),
                                     bandwidth: try require(bandwidth.bandwidth, "--bandwidth"))
        options.columns = training.columns
        options.form = kernel.form
        options.output = output
        options.threads = engine.threads
        try options.validate()
        return options
    }

    func validate() throws { _ = try options() }

    func run() throws { try DensityJob.run(options()) }
}
