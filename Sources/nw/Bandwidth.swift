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
        cv:        the global minimiser of the leave-one-out score (1/n) Σᵢ (yᵢ − f₋ᵢ(xᵢ))²
        """
    )

    @OptionGroup var training: TrainingOptions

    @Option(help: ArgumentHelp("The selection method.", valueName: choices(BandwidthMethod.self)))
    var method: String?

    @Option(help: ArgumentHelp("The kernel (for cv).", valueName: choices(Kernel.self)))
    var kernel: String = Kernel.gaussian.rawValue

    @Option(help: ArgumentHelp("The kernel form (for cv).", valueName: choices(KernelForm.self)))
    var form: String = KernelForm.radial.rawValue

    @Option(help: ArgumentHelp("For cv with compact kernels: what a point with no neighbour in its leave-one-out support gets (nan: the width is rejected).", valueName: choices(EmptyNeighbourhoodPolicy.self)))
    var empty: String = EmptyNeighbourhoodPolicy.nan.rawValue

    @OptionGroup var engine: EngineOptions

    func run() throws {
        var options = BandwidthOptions(train: try require(training.train, "--train"),
                                       method: try choice(BandwidthMethod.self, "--method", require(method, "--method")))
        options.target = training.target
        options.kernel = try choice(Kernel.self, "--kernel", kernel)
        options.form = try choice(KernelForm.self, "--form", form)
        options.empty = try choice(EmptyNeighbourhoodPolicy.self, "--empty", empty)
        options.threads = try engine.validatedThreads()
        try BandwidthJob.run(options)
    }
}
