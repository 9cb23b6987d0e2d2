/// Nadaraya–Watson kernel regression, or *attention pooling*:
///
///     f(q) = Σᵢ vᵢ α(q, kᵢ) / Σⱼ α(q, kⱼ)
///
/// with keys kᵢ (the training inputs), values vᵢ (the training targets, p of them at once) and
/// the attention weight α(q, k) = K(‖(q − k)/h‖) (``KernelForm/radial``) or ∏ⱼ K((qⱼ − kⱼ)/hⱼ)
/// (``KernelForm/product``).
///
/// The estimator holds the hyper-parameters; ``fit(keys:values:)`` takes the data and returns a
/// ``FittedNadarayaWatsonRegressor`` that predicts. In the style of scikit-learn:
///
/// ```swift
/// let model = try NadarayaWatsonRegressor(kernel: .gaussian, bandwidth: .width(0.5))
///     .fit(keys: Matrix(column: x), values: Matrix(column: y))
/// let yHat = try model.predict(Matrix(column: [0.0, 0.1, 0.2]))
/// ```
///
/// Numerical guarantees: kernels with infinite support are evaluated in log space, so every
/// finite query gets a finite prediction, however far from the keys (for gaussian, the value of
/// the nearest key in the limit). Weights are exactly the softmax of the log weights, to rounding.
public struct NadarayaWatsonRegressor: Sendable {
    public var kernel: Kernel
    public var form: KernelForm
    public var bandwidth: Bandwidth
    public var emptyPolicy: EmptyNeighbourhoodPolicy
    public var strategy: EvaluationStrategy
    /// The Gaussian engine's arithmetic: `.double` (default) or `.single` for about twice the speed.
    public var precision: Precision
    /// Worker threads; nil uses every core. Results do not depend on it.
    public var threads: Int?
    /// Local widths by Abramson's square-root law (``AdaptiveBandwidth``): key i gets λᵢ·h,
    /// λᵢ = (g / p̂(kᵢ))^{1/2} from a fixed-width pilot density. Evaluated by the streaming engine.
    public var adaptive = false
    /// With ``Bandwidth/crossValidation``: called after each evaluation of the search.
    public var selectionProgress: SelectionProgress?

    public init(kernel: Kernel = .gaussian, form: KernelForm = .radial, bandwidth: Bandwidth,
                emptyPolicy: EmptyNeighbourhoodPolicy = .nan, strategy: EvaluationStrategy = .automatic,
                precision: Precision = .double, threads: Int? = nil) {
        self.kernel = kernel
        self.form = form
        self.bandwidth = bandwidth
        self.emptyPolicy = emptyPolicy
        self.strategy = strategy
        self.precision = precision
        self.threads = threads
    }

    /// Stores the keys (n × d) and values (n × p) and resolves the bandwidths.
    ///
    /// - Throws: ``NadarayaWatsonError`` for no keys or features, mismatched counts, non-finite
    ///   keys or values, or an invalid or degenerate bandwidth.
    /// - Complexity: O(n·(d + p)), plus the bandwidth rule's cost.
    public func fit(keys: Matrix, values: Matrix) throws -> FittedNadarayaWatsonRegressor {
        try fit(keys: keys, values: values, sampleWeights: nil)
    }

    /// Stores the keys, values and observation weights sᵢ ≥ 0 (frequency weights: an integer
    /// weight equals repeating the row, 0 removes it): f(q) = Σᵢ sᵢαᵢvᵢ / Σᵢ sᵢαᵢ.
    ///
    /// - Throws: as ``fit(keys:values:)``, and for a negative or non-finite weight or all zero.
    public func fit(keys: Matrix, values: Matrix, sampleWeights: [Double]?) throws -> FittedNadarayaWatsonRegressor {
        let select = { [self] () throws -> (bandwidths: [Double], score: Double) in
            guard values.columns == 1 else {
                throw NadarayaWatsonError.invalidArgument("cross-validation scores one target column, but there are \(values.columns)")
            }
            return try CrossValidation(kernel: kernel, form: form, emptyPolicy: emptyPolicy, threads: threads)
                .select(keys: keys, targets: values.column(0), sampleWeights: sampleWeights) { selectionProgress?($0, $1) }
        }
        let pooling = try AttentionPooling(kernel: kernel, form: form, keys: keys, values: .dense(values),
                                           bandwidth: bandwidth, emptyPolicy: emptyPolicy, strategy: strategy,
                                           precision: precision, threads: threads, adaptive: adaptive,
                                           sampleWeights: sampleWeights, select: select)
        return FittedNadarayaWatsonRegressor(pooling: pooling)
    }
}

/// A Nadaraya–Watson regressor with its keys and values: ready to predict.
public struct FittedNadarayaWatsonRegressor: Sendable {
    let pooling: AttentionPooling

    /// The resolved widths, one per feature.
    public var bandwidths: [Double] { pooling.problem.bandwidths }
    /// The leave-one-out score at ``bandwidths`` when ``Bandwidth/crossValidation`` chose them.
    public var crossValidationScore: Double? { pooling.crossValidationScore }
    /// With ``NadarayaWatsonRegressor/adaptive``: the factor λᵢ of each key's width λᵢ·h; nil otherwise.
    public var localWidthFactors: [Double]? { pooling.problem.keyScales?.scale }
    /// The keys (n × d).
    public var keys: Matrix { pooling.problem.keys }

    /// Predictions f(q) for each query row: an m × p matrix.
    ///
    /// Queries with zero total weight (compact kernels only) get the estimator's
    /// ``EmptyNeighbourhoodPolicy``.
    ///
    /// - Throws: ``NadarayaWatsonError/featureCountMismatch(expected:actual:)``,
    ///   ``NadarayaWatsonError/nonFiniteInput(matrix:row:column:value:)``, or
    ///   ``NadarayaWatsonError/emptyNeighbourhood(query:)`` under the `error` policy.
    /// - Complexity: O(m·n·(d + p)) time on all cores; O(m·p) memory beyond the inputs.
    public func predict(_ queries: Matrix) throws -> Matrix {
        try pooling.pool(queries)
    }

    /// Each query's kernel-moment state over this model's keys — the online softmax's shift
    /// a* = maxᵢ ln(sᵢα(q, kᵢ)) and the sums [S, T₁…T_p], S = Σᵢ sᵢe^{aᵢ−a*},
    /// T꜀ = Σᵢ sᵢe^{aᵢ−a*}vᵢ꜀ — so that models fitted on disjoint shards of the keys (other
    /// threads, processes or machines, with the same kernel and widths) combine exactly:
    /// merge the shards' states with ``MomentState/merge(_:_:)`` and read the estimate with
    /// ``estimate(from:)``. The merged estimate equals one model's on all the keys to rounding.
    ///
    /// An empty state (a* = −∞) means no key of this shard has weight (compact kernels), or every
    /// log weight is −∞ in `Double` (queries ~10¹⁵⁴ widths away): after the merge, ``predict(_:)``'s
    /// empty-neighbourhood policy and far limit are the caller's to apply.
    ///
    /// - Throws: as ``predict(_:)`` for bad queries.
    /// - Complexity: O(m·n·(d + p)) time on all cores (the fused engine for the Gaussian); O(m·p)
    ///   memory.
    public func momentStates(_ queries: Matrix) throws -> [MomentState] {
        try pooling.states(queries)
    }

    /// The Nadaraya–Watson estimate T꜀/S from a (merged) state of ``momentStates(_:)``; nil for
    /// an empty state.
    public static func estimate(from state: MomentState) -> [Double]? {
        guard !state.isEmpty, state.sums[0] > 0 else { return nil }
        return state.sums.dropFirst().map { $0 / state.sums[0] }
    }

    /// The attention-weight matrix: m × n, row i holding α(qᵢ, kⱼ) / Σₗ α(qᵢ, kₗ), each row
    /// summing to 1. Empty queries follow the policy: all NaN (`nan`), one-hot at the nearest key
    /// (`nearest`), uniform 1/n (`mean`), or a thrown error (`error`).
    ///
    /// - Complexity: O(m·n·d) time, O(m·n) memory: ask for it only when you need it.
    public func attentionWeights(_ queries: Matrix) throws -> Matrix {
        try pooling.weights(queries)
    }
}
