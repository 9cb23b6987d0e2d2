import ArgumentParser
import NadarayaWatson
import NWCommandLine

struct Density: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Estimate the Parzen-window density of TRAIN's rows at each QUERY row.",
        discussion: """
        p̂(x) = (1/n) Σᵢ c_d / (h₁⋯h_d) · α((x − xᵢ)/h), with the kernel normalised over ℝᵈ \
        (c_d: e.g. (2π)^(−d/2) for gaussian, 3/4 for epanechnikov in 1-D), so p̂ integrates to 1. \
        Every TRAIN column is a coordinate; QUERY must hold them all by name. Output: every QUERY \
        column, then `density`. The constant kernel, and radial cauchy in d ≥ 2, have no density.
        """
    )

    @Option(help: ArgumentHelp("Samples: CSV with a header; every column is a coordinate. '-' reads standard input.", valueName: "TRAIN.csv"))
    var train: String?

    @Option(help: ArgumentHelp("Points to evaluate: CSV holding every TRAIN column by name; other columns are copied through.", valueName: "QUERY.csv"))
    var query: String?

    @Option(help: ArgumentHelp("The kernel profile K(u).", valueName: choices(Kernel.self)))
    var kernel: String?

    @Option(parsing: .unconditional, help: ArgumentHelp("A positive width, a comma list with one per column, or scott, silverman.", valueName: "BW"))
    var bandwidth: String?

    @Option(help: ArgumentHelp("radial: K(‖(x−xᵢ)/h‖); product: ∏ⱼ K((xⱼ−xᵢⱼ)/hⱼ).", valueName: choices(KernelForm.self)))
    var form: String = KernelForm.radial.rawValue

    @Option(help: ArgumentHelp("Write here instead of standard output (atomically: all or nothing).", valueName: "OUT.csv"))
    var output: String?

    @Option(help: "Worker threads (default: every core). Results do not depend on it.")
    var threads: Int?

    func run() throws {
        var options = DensityOptions(
            train: try require(train, "--train"),
            query: try require(query, "--query"),
            kernel: try choice(Kernel.self, "--kernel", require(kernel, "--kernel")),
            bandwidth: try BandwidthArgument(parsing: require(bandwidth, "--bandwidth"))
        )
        options.form = try choice(KernelForm.self, "--form", form)
        options.output = output
        if let threads, threads < 1 {
            throw CommandLineError.option("--threads", "should be a whole number of at least 1, but is \(threads)")
        }
        options.threads = threads
        try DensityJob.run(options)
    }
}
