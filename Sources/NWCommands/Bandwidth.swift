import ArgumentParser
import NadarayaWatson
import NWCommandLine

struct BandwidthCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bandwidth",
        abstract: "Print the selected kernel width of each feature, comma-separated.",
        discussion: """
        scott:     hⱼ = 1.06 · sdⱼ · n^(−1/(d+4))
        silverman: hⱼ = 0.9 · min(sdⱼ, IQRⱼ/1.349) · n^(−1/(d+4))
        cv:        the global minimiser of the leave-one-out score Σᵢ sᵢ(yᵢ − f₋ᵢ(xᵢ))² / Σᵢ sᵢ of the estimator of \
        --degree (with --sample-weight, n = Σᵢ sᵢ and weighted moments and quartiles); with --classify the         leave-one-out cross-entropy −Σᵢ sᵢ ln p̂₋ᵢ(yᵢ | xᵢ) / Σᵢ sᵢ (p̂ floored at 2⁻⁵²); with --density the negative         leave-one-out log-likelihood. With --categorical or --ordered, cv selects λ for those features too.
        """
    )

    @OptionGroup var training: TrainingOptions

    @Option(help: ArgumentHelp("The selection method.", valueName: "method"))
    var method: BandwidthMethod?

    @Flag(help: "The target holds class labels: cv minimises the leave-one-out cross-entropy.")
    var classify = false

    @Flag(help: "Widths for `nw density` (every selected column a coordinate): cv maximises the leave-one-out likelihood.")
    var density = false

    @OptionGroup var kernel: KernelOptions
    @OptionGroup var fit: FitOptions
    @OptionGroup var engine: EngineOptions

    func options() throws -> BandwidthOptions {
        var options = BandwidthOptions(train: try training.requiredTrain(), method: try require(method, "--method"))
        options.apply(training, kernel, fit, engine)
        options.kernel = kernel.kernel ?? .gaussian
        options.classify = classify
        options.density = density
        if (classify || density) && fit.degree != 0 {
            throw CommandLineError.option("--degree", "applies to regression; with --\(classify ? "classify" : "density") it should be 0, but is \(fit.degree)")
        }
        return options
    }

    func validate() throws { _ = try options() }

    func run() throws { try BandwidthJob.run(options()) }
}
