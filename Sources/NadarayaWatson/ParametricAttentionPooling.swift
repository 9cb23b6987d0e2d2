// Legend: n training points, d features, w scales (one per feature; one for `dot`), h = 1/|w|
// widths, τ = w² the `dot` kernel's temperature.

/// Parametric attention pooling, as in the *Dive into Deep Learning* chapter: the Gaussian
/// kernel with a learnable scale w per feature,
///
///     f(xᵢ) = Σ_{j≠i} softmax_j(−½ Σₖ ((xᵢₖ − xⱼₖ) wₖ)²) yⱼ,     L(w) = Σᵢ ½ (f(xᵢ) − yᵢ)²,
///
/// trained by full-batch gradient descent on the leave-one-out predictions (each training input
/// attends to every *other* training pair: a masked softmax). The gradient is analytic (see
/// ``GaussianLeaveOneOutLoss``, on the kernel-moment engine), streamed in O(n²·d) time and
/// O(n·d) memory.
///
/// **Why leave-one-out.** With `includeSelf`, every point also attends to itself; the loss then
/// falls towards 0 as w → ∞ (each point predicts its own value), so training drives w up without
/// bound and the model overfits: its leave-one-out loss gets worse. That is the chapter's lesson.
///
/// **The dot kernel.** With `kernel: .dot` the model learns one temperature τ = w² for the
/// softmax of the dot products (``Kernel/dot`` with every width h = 1/|w|),
///
///     f(xᵢ) = Σ_{j≠i} softmax_j(w² xᵢ·xⱼ) yⱼ,
///
/// on the same loss, optimisers and stopping rule (gradient: ``DotLeaveOneOutLoss``).
///
/// **Sign of w.** The model depends on w², so L(−w) = L(w) and ∂L/∂w(−w) = −∂L/∂w(w): descent from
/// −w mirrors descent from w. Report |w| and the equivalent width h = 1/|w|.
public struct ParametricAttentionPooling: Sendable {
    /// `.gaussian` (default: a scale per feature) or `.dot` (one scale, the temperature w²).
    public var kernel: Kernel
    /// The starting scale of every feature (the chapter draws it at random; we make it explicit).
    public var initialScale: Double
    public var epochs: Int
    public var learningRate: Double
    public var optimizer: Optimizer
    /// Early stopping: stop after an epoch whose loss changed by at most this fraction of the
    /// previous epoch's loss. 0 (default) runs every epoch.
    public var tolerance: Double
    /// Train without leave-one-out (the chapter's overfitting example).
    public var includeSelf: Bool
    /// Worker threads; nil uses every core. Results do not depend on it.
    public var threads: Int?

    public init(kernel: Kernel = .gaussian, initialScale: Double = 1, epochs: Int = 5, learningRate: Double = 0.5,
                optimizer: Optimizer = .sgd, tolerance: Double = 0, includeSelf: Bool = false, threads: Int? = nil) {
        self.kernel = kernel
        self.initialScale = initialScale
        self.epochs = epochs
        self.learningRate = learningRate
        self.optimizer = optimizer
        self.tolerance = tolerance
        self.includeSelf = includeSelf
        self.threads = threads
    }

    /// Trains on keys (n × d) and targets (n), calling `onEpoch` after every step.
    ///
    /// - Throws: ``NadarayaWatsonError`` for a kernel other than gaussian or dot, fewer than 2
    ///   points (leave-one-out needs another point), non-finite data, a zero or non-finite initial
    ///   scale, a non-positive learning rate or epoch count, or a loss or gradient that stops being
    ///   finite (divergence).
    /// - Complexity: O(epochs · n² · d) time on all cores, O(n·d) memory.
    public func fit(keys: Matrix, targets: [Double], onEpoch: (TrainingEpoch) -> Void = { _ in }) throws -> TrainedAttentionModel {
        try fit(keys: keys, targets: targets, sampleWeights: nil, onEpoch: onEpoch)
    }

    /// Trains with frequency weights sᵢ ≥ 0 (rows of weight 0 removed): key j attends with weight
    /// sⱼαᵢⱼ and the loss is Σᵢ sᵢ·½(f(xᵢ) − yᵢ)², the whole row i left out of its own prediction.
    public func fit(keys: Matrix, targets: [Double], sampleWeights: [Double]?,
                    onEpoch: (TrainingEpoch) -> Void = { _ in }) throws -> TrainedAttentionModel {
        try Self.requireKernel(kernel)
        guard targets.count == keys.rows else { throw NadarayaWatsonError.valueCountMismatch(keys: keys.rows, values: targets.count) }
        let kept = try SampleWeights(sampleWeights, count: keys.rows)
        let keys = kept.select(keys), targets = kept.select(targets), weights = kept.weights
        let n = keys.rows, d = keys.columns
        guard n >= 2 else { throw NadarayaWatsonError.notEnoughData(needed: 2, actual: n, reason: "leave-one-out training") }
        guard d > 0 else { throw NadarayaWatsonError.noFeatures }
        guard targets.count == n else { throw NadarayaWatsonError.valueCountMismatch(keys: n, values: targets.count) }
        try Validation.requireFinite(keys, as: .keys)
        try Validation.requireFinite(Matrix(column: targets), as: .values)
        guard initialScale.isFinite, initialScale != 0 else {
            throw NadarayaWatsonError.invalidArgument("the initial w should be a finite nonzero number, but is \(initialScale)")
        }
        guard learningRate.isFinite, learningRate > 0 else {
            throw NadarayaWatsonError.invalidArgument("the learning rate should be a positive number, but is \(learningRate)")
        }
        guard epochs >= 1 else { throw NadarayaWatsonError.invalidArgument("epochs should be at least 1, but is \(epochs)") }
        guard tolerance.isFinite, tolerance >= 0 else {
            throw NadarayaWatsonError.invalidArgument("the tolerance should be a non-negative number, but is \(tolerance)")
        }
        let threads = self.threads ?? Parallel.defaultThreads
        // The dot kernel's one temperature: one scale whatever d.
        let count = kernel == .dot ? 1 : d
        var w = Array(repeating: initialScale, count: count)
        var state = OptimizerState(optimizer, learningRate: learningRate, count: count)
        var history: [TrainingEpoch] = []
        for epoch in 1...epochs {
            let result = Self.evaluate(kernel: kernel, keys: keys, targets: targets, scales: w, includeSelf: includeSelf,
                                       sampleWeights: weights, threads: threads)
            // Predictions are always finite (the far limit covers overflowing weights); what
            // can leave the range is the loss of huge targets, or w under a too large step.
            guard result.loss.isFinite else {
                throw NadarayaWatsonError.invalidArgument(
                    "training cannot continue at epoch \(epoch): the loss Σ ½(f − y)² exceeds the largest Double (rescale the target)")
            }
            guard result.gradient.allSatisfy(\.isFinite) else {
                throw NadarayaWatsonError.invalidArgument(
                    "training cannot continue at epoch \(epoch): the gradient of the loss exceeds the largest Double (rescale the data)")
            }
            state.update(&w, gradient: result.gradient)
            guard w.allSatisfy(\.isFinite) else {
                throw NadarayaWatsonError.invalidArgument(
                    "training diverged at epoch \(epoch): w overflowed after a step of the learning rate \(learningRate) (lower it)")
            }
            let record = TrainingEpoch(epoch: epoch, loss: result.loss, scales: w, gradient: result.gradient)
            history.append(record)
            onEpoch(record)
            if tolerance > 0, history.count >= 2 {
                let previous = history[history.count - 2].loss
                if (previous - result.loss).magnitude <= tolerance * previous.magnitude { break }
            }
        }
        return TrainedAttentionModel(kernel: kernel, scales: w, keys: keys, targets: targets, sampleWeights: weights,
                                     history: history)
    }

    /// The loss L(w) = Σᵢ sᵢ·½ (f(xᵢ) − yᵢ)² and its gradient at `scales`, leave-one-out unless
    /// `includeSelf`.
    ///
    /// - Parameters:
    ///   - kernel: `.gaussian` (one scale per feature) or `.dot` (one scale, the temperature w²).
    ///   - scales: d scales for the Gaussian, one for dot.
    /// - Returns: L, ∂L/∂w (one per scale) and the predictions fᵢ.
    /// - Precondition: the kernel is gaussian or dot and `scales` has as many elements as it learns.
    /// - Complexity: O(n²·d).
    public static func loss(kernel: Kernel = .gaussian, keys: Matrix, targets: [Double], scales: [Double],
                            includeSelf: Bool = false, sampleWeights: [Double]? = nil,
                            threads: Int? = nil) -> (loss: Double, gradient: [Double], predictions: [Double]) {
        precondition(kernel == .gaussian || kernel == .dot, "the kernel should be gaussian or dot, but is \(kernel)")
        let count = kernel == .dot ? 1 : keys.columns
        precondition(scales.count == count, "the \(kernel) kernel's scales should be \(count), but are \(scales.count)")
        let r = evaluate(kernel: kernel, keys: keys, targets: targets, scales: scales, includeSelf: includeSelf,
                         sampleWeights: sampleWeights, threads: threads ?? Parallel.defaultThreads)
        return (r.loss, r.gradient, r.predictions)
    }

    /// Throws unless parametric pooling trains `kernel`.
    static func requireKernel(_ kernel: Kernel) throws {
        guard kernel == .gaussian || kernel == .dot else {
            throw NadarayaWatsonError.invalidArgument(
                "the kernel of parametric attention pooling should be gaussian or dot, but is \(kernel)")
        }
    }

    /// The loss, gradient and predictions of either kernel, by its engine.
    static func evaluate(kernel: Kernel, keys: Matrix, targets: [Double], scales w: [Double], includeSelf: Bool,
                         sampleWeights: [Double]?, threads: Int) -> GaussianLeaveOneOutLoss.Result {
        guard kernel == .dot else {
            return GaussianLeaveOneOutLoss.evaluate(keys: keys, targets: targets, scales: w, includeSelf: includeSelf,
                                                    sampleWeights: sampleWeights, threads: threads)
        }
        let r = DotLeaveOneOutLoss.evaluate(keys: keys, targets: targets, scale: w[0], includeSelf: includeSelf,
                                            sampleWeights: sampleWeights, threads: threads)
        return GaussianLeaveOneOutLoss.Result(predictions: r.predictions, loss: r.loss, gradient: [r.derivative])
    }
}

/// One epoch of training: the loss before the step, the scales after it.
public struct TrainingEpoch: Sendable, Codable, Equatable {
    public let epoch: Int
    /// L at the scales before this epoch's step.
    public let loss: Double
    /// The scales after this epoch's step (one per feature; the dot kernel's one).
    public let scales: [Double]
    /// ∂L/∂w at the scales before the step.
    public let gradient: [Double]
}

/// A trained parametric model: the kernel, the learned scales and the training data, which are
/// its keys.
public struct TrainedAttentionModel: Sendable, Codable, Equatable {
    /// `.gaussian` or `.dot`; a model encoded without it (before the dot kernel) decodes as Gaussian.
    public let kernel: Kernel
    /// One scale per feature (Gaussian), or the dot kernel's one.
    public let scales: [Double]
    public let keys: Matrix
    public let targets: [Double]
    /// The training rows' frequency weights (nil: 1 each).
    public let sampleWeights: [Double]?
    public let history: [TrainingEpoch]

    public init(kernel: Kernel = .gaussian, scales: [Double], keys: Matrix, targets: [Double],
                sampleWeights: [Double]? = nil, history: [TrainingEpoch] = []) {
        self.kernel = kernel
        self.scales = scales
        self.keys = keys
        self.targets = targets
        self.sampleWeights = sampleWeights
        self.history = history
    }

    enum CodingKeys: String, CodingKey {
        case kernel, scales, keys, targets, sampleWeights, history
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        kernel = try container.decodeIfPresent(Kernel.self, forKey: .kernel) ?? .gaussian
        scales = try container.decode([Double].self, forKey: .scales)
        keys = try container.decode(Matrix.self, forKey: .keys)
        targets = try container.decode([Double].self, forKey: .targets)
        sampleWeights = try container.decodeIfPresent([Double].self, forKey: .sampleWeights)
        history = try container.decode([TrainingEpoch].self, forKey: .history)
    }

    /// The model's widths, one per feature: hₖ = 1/|wₖ| (Gaussian), or h = 1/|w| for every
    /// feature (dot: the logits are w²·q·k = q·k/h²).
    public var bandwidths: [Double] {
        kernel == .dot && scales.count == 1
            ? Array(repeating: 1 / scales[0].magnitude, count: keys.columns)
            : scales.map { 1 / $0.magnitude }
    }

    /// Predictions with every training row as a key (no leave-one-out): the model's kernel with
    /// widths 1/|w|.
    ///
    /// - Throws: ``NadarayaWatsonError`` for a kernel other than gaussian or dot, a dot model
    ///   with other than one scale, a zero scale (an infinite width) or bad queries.
    /// - Complexity: O(m·n·d).
    public func predict(_ queries: Matrix, threads: Int? = nil) throws -> [Double] {
        try ParametricAttentionPooling.requireKernel(kernel)
        if kernel == .dot, scales.count != 1 {
            throw NadarayaWatsonError.invalidArgument("a dot model's scales should be one, but are \(scales.count)")
        }
        return try NadarayaWatsonRegressor(kernel: kernel, bandwidth: .widths(bandwidths), threads: threads)
            .fit(keys: keys, values: Matrix(column: targets), sampleWeights: sampleWeights).predict(queries).elements
    }
}
