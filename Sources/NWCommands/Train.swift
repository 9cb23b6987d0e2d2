import ArgumentParser
import NadarayaWatson
import NWCommandLine

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train parametric attention pooling: a learnable scale w per feature, leave-one-out, as in the chapter.",
        discussion: """
        Model: f(xᵢ) = Σ_{j≠i} softmax_j(−½ Σₖ ((xᵢₖ − xⱼₖ) wₖ)²) yⱼ; loss L(w) = Σᵢ ½ (f(xᵢ) − yᵢ)²; \
        full-batch steps w ← w − lr · ∂L/∂w. Prints feature, w, |w| and h = 1/|w| as CSV. \
        With --kernel dot: f(xᵢ) = Σ_{j≠i} softmax_j(w² xᵢ·xⱼ) yⱼ, one w (a temperature w²) for all \
        features, printed as one row named *. \
        The model depends on w², so the sign of w is immaterial.
        """
    )

    @OptionGroup var training: TrainingOptions

    @Option(help: ArgumentHelp("gaussian (a scale w per feature) or dot (one w: the softmax of w²·q·k).",
                               valueName: "kernel"))
    var kernel: Kernel = .gaussian

    @Option(name: .customLong("init-w"), help: ArgumentHelp("Initial w of every feature (nonzero).", valueName: "W"))
    var initialW: String = "1"

    @Option(help: ArgumentHelp("Number of full-batch steps.", valueName: "N"))
    var epochs: Int = 5

    @Option(help: ArgumentHelp("Learning rate.", valueName: "LR"))
    var lr: String = "0.5"

    @Option(help: ArgumentHelp("sgd (the chapter's) or adam (β₁ 0.9, β₂ 0.999, ε 1e-8).", valueName: "optimizer"))
    var optimizer: Optimizer = .sgd

    @Option(help: ArgumentHelp("Stop early once an epoch changes the loss by at most this fraction (0: never).", valueName: "TOL"))
    var tolerance: String = "0"

    @Flag(name: .customLong("include-self"), help: "Train without leave-one-out: each point also attends to itself, and w grows without bound (the chapter's lesson).")
    var includeSelf = false

    @Option(name: .customLong("loss-log"), help: ArgumentHelp("Write epoch,loss,w per epoch: the loss before the step, w after it.", valueName: "LOG.csv"))
    var lossLog: String?

    @Option(help: ArgumentHelp("Write the trained model (JSON) for `nw predict --model`.", valueName: "MODEL.json"))
    var model: String?

    @OptionGroup var engine: EngineOptions

    func options() throws -> TrainOptions {
        var options = TrainOptions(train: try training.requiredTrain())
        options.columns = training.columns
        guard kernel == .gaussian || kernel == .dot else {
            throw CommandLineError.option("--kernel", "should be gaussian or dot, but is \(kernel)")
        }
        options.kernel = kernel
        options.initialW = try number("--init-w", initialW, "a finite nonzero number") { $0.isFinite && $0 != 0 }
        options.learningRate = try number("--lr", lr, "a positive number") { $0.isFinite && $0 > 0 }
        options.tolerance = try number("--tolerance", tolerance, "a non-negative number") { $0.isFinite && $0 >= 0 }
        guard epochs >= 1 else { throw CommandLineError.option("--epochs", "should be at least 1, but is \(epochs)") }
        options.epochs = epochs
        options.optimizer = optimizer
        options.includeSelf = includeSelf
        options.lossLog = lossLog
        options.model = model
        options.threads = engine.threads
        return options
    }

    func validate() throws { _ = try options() }

    func run() throws { try TrainJob.run(options()) }
}

/// A numeric option read as text, so "-1" is a value and errors read "should be …, but is x".
func number(_ option: String, _ text: String, _ expectation: String, _ valid: (Double) -> Bool) throws -> Double {
    guard let value = Double(text.trimmingCharacters(in: " ")), valid(value) else {
        throw CommandLineError.option(option, "should be \(expectation), but is \"\(text)\"")
    }
    return value
}

extension String {
    func trimmingCharacters(in set: Character) -> String {
        var s = Substring(self)
        while s.first == set { s = s.dropFirst() }
        while s.last == set { s = s.dropLast() }
        return String(s)
    }
}
