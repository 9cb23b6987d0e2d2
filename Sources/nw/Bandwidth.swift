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
        --degree (with --sample-weight, n = Σᵢ sᵢ and weighted moments and quartiles)
        """
    )

    @OptionGroup var training: TrainingOptions

    @Option(help: ArgumentHelp("The selection method.", valueName: "method"))
    var method: BandwidthMethod?

    @OptionGroup var kernel: KernelOptions
    @OptionGroup var fit: FitOptions
    @OptionGroup var engine: EngineOptions

    func options() throws -> BandwidthOptions {
        var options = BandwidthOptions(train: try training.requiredTrain(), method: try require(method, "--method"))
        options.apply(training, kernel, fit, engine)
        options.kernel = kernel.kernel ?? .gaussian
        return options
    }

    func validate() throws { _ = try options() }

    func run() throws { try BandwidthJob.run(options()) }
}
