import ArgumentParser
import NWCommandLine

struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Reproduce every figure of the chapters on their synthetic data: SVGs and an index.html.",
        discussion: """
        Data: y = 2 sin x + x + ε (σ = 1, n = 40) and y = 2 sin x + x^0.8 + ε (σ = 0.5, n = 50), x uniform \
        on [0, 5), queries 0, 0.1, …, 4.9, drawn from a seeded generator. Figures: kernel shapes; fits and \
        attention heatmaps for gaussian, boxcar, constant, triangular (the chapter's "Epanechikov") and \
        epanechnikov; the width sweep σ = 0.1, 0.2, 0.5, 1; average pooling; nonparametric and parametric \
        attention pooling with the training loss.
        """
    )

    @Option(name: .customLong("out"), help: ArgumentHelp("Directory for the figures (created if needed).", valueName: "DIR"))
    var outputDirectory = "nw-demo"

    @Option(help: ArgumentHelp("Seed of the data generator.", valueName: "S"))
    var seed: UInt64 = 0

    func run() throws {
        var options = DemoOptions()
        options.outputDirectory = outputDirectory
        options.seed = seed
        try DemoJob.run(options)
    }
}
