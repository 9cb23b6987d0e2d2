/// Nadaraya–Watson classification: attention pooling of one-hot label vectors, giving class
/// probabilities P(c | q) = Σᵢ [yᵢ = c] α(q, kᵢ) / Σⱼ α(q, kⱼ), and the most probable label.
///
/// Labels are any text; their order is ``ClassLabels``'s (numeric when every label is a decimal
/// number, else code-point order). Ties in probability go to the first class in that order.
public struct NadarayaWatsonClassifier: Sendable {
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
    /// What each feature holds (empty: every feature continuous); see
    /// ``LocalPolynomialRegressor/featureKinds``. Not combined with ``adaptive``.
    public var featureKinds: [FeatureKind] = []
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

    /// Stores the keys (n × d) and their labels (n of them).
    ///
    /// - Throws: ``NadarayaWatsonError`` as ``NadarayaWatsonRegressor/fit(keys:values:)``, or
    ///   ``NadarayaWatsonError/valueCountMismatch(keys:values:)`` when the label count differs.
    /// - Complexity: O(n·d + n·log n).
    public func fit(keys: Matrix, labels: [String]) throws -> FittedNadarayaWatsonClassifier {
        try fit(keys: keys, labels: labels, sampleWeights: nil)
    }

    /// Stores the keys, labels and observation (frequency) weights sᵢ ≥ 0:
    /// p̂(c | q) = Σᵢ sᵢαᵢ[yᵢ = c] / Σᵢ sᵢαᵢ.
    public func fit(keys: Matrix, labels: [String], sampleWeights: [Double]?) throws -> FittedNadarayaWatsonClassifier {
        guard labels.count == keys.rows else {
            throw NadarayaWatsonError.valueCountMismatch(keys: keys.rows, values: labels.count)
        }
        let classes = ClassLabels(labels)
        if featureKinds.contains(where: \.isDiscrete) || bandwidth == .crossValidation {
            return try fitMixed(keys: keys, labels: labels, classes: classes, sampleWeights: sampleWeights)
        }
        let pooling = try AttentionPooling(kernel: kernel, form: form, keys: keys,
                                           values: .classes(indices: classes.indices, count: classes.classes.count),
                                           bandwidth: bandwidth, emptyPolicy: emptyPolicy, strategy: strategy,
                                           precision: precision, threads: threads, adaptive: adaptive,
                                           sampleWeights: sampleWeights)
        return FittedNadarayaWatsonClassifier(pooling: pooling, mixed: nil, classes: classes.classes)
    }

    /// Mixed features or cross-validation (leave-one-out cross-entropy,
    /// ``MixedCrossValidation``): widths and λ selected on the mixed engine; continuous features
    /// alone then pool on the fused engines with the selected widths.
    func fitMixed(keys: Matrix, labels: [String], classes: ClassLabels, sampleWeights: [Double]?) throws -> FittedNadarayaWatsonClassifier {
        guard keys.rows > 0 else { throw NadarayaWatsonError.noKeys }
        guard keys.columns > 0 else { throw NadarayaWatsonError.noFeatures }
        if adaptive { throw NadarayaWatsonError.invalidArgument("adaptive widths cannot be combined with categorical or ordered features or cross-validation yet") }
        let kinds = featureKinds.isEmpty ? Array(repeating: FeatureKind.continuous, count: keys.columns) : featureKinds
        let kept = try SampleWeights(sampleWeights, count: keys.rows)
        let indices = kept.kept.map { rows in rows.map { classes.indices[$0] } } ?? classes.indices
        let (model, score) = try MixedModel.fit(kernel: kernel, form: form, kinds: kinds, keys: kept.select(keys),
                                                values: .classes(indices: indices, count: classes.classes.count),
                                                weights: kept.weights, bandwidth: bandwidth, emptyPolicy: emptyPolicy,
                                                threads: threads, criterion: .crossEntropy(classes: indices),
                                                progress: selectionProgress)
        if model.layout.hasDiscrete {
            var fitted = FittedNadarayaWatsonClassifier(pooling: nil, mixed: model, classes: classes.classes)
            fitted.crossValidationScore = score
            return fitted
        }
        var continuous = self
        continuous.bandwidth = .widths(model.widths)
        continuous.featureKinds = []
        var fitted = try continuous.fit(keys: keys, labels: labels, sampleWeights: sampleWeights)
        fitted.crossValidationScore = score
        return fitted
    }
}

/// A Nadaraya–Watson classifier with its keys and labels: ready to predict.
public struct FittedNadarayaWatsonClassifier: Sendable {
    /// Continuous features: the fused engines pool; else the mixed model.
    let pooling: AttentionPooling?
    let mixed: MixedModel?
    /// The classes, in probability-column order.
    public let classes: [String]
    /// The leave-one-out cross-entropy at ``bandwidths`` when ``Bandwidth/crossValidation`` chose them.
    public internal(set) var crossValidationScore: Double?

    /// The resolved widths, one per feature (with discrete features: h or λ per feature).
    public var bandwidths: [Double] { mixed?.bandwidths ?? pooling!.problem.bandwidths }
    /// With ``NadarayaWatsonRegressor/adaptive``: the factor λᵢ of each key's width λᵢ·h; nil otherwise.
    public var localWidthFactors: [Double]? { pooling?.problem.keyScales?.scale }

    /// Class probabilities: an m × C matrix, columns in ``classes`` order, rows summing to 1
    /// (all NaN for an empty query under the `nan` policy).
    ///
    /// - Complexity: O(m·n·d) time, O(m·C) memory.
    public func probabilities(_ queries: Matrix) throws -> Matrix {
        if let mixed { return try mixed.estimates(mixed.parts(queries), degree: 0) }
        return try pooling!.pool(queries)
    }

    /// The most probable class of each row of `probabilities` (an index into ``classes``), the
    /// first on ties; nil for a row of NaN.
    ///
    /// - Complexity: O(m·C).
    public func mostProbable(_ probabilities: Matrix) -> [Int?] {
        (0..<probabilities.rows).map { i in
            var best: Int?
            var bestValue = -Double.infinity
            for c in 0..<probabilities.columns where probabilities[i, c] > bestValue {
                bestValue = probabilities[i, c]
                best = c
            }
            return best
        }
    }

    /// The most probable label of each query (nil for an empty query under the `nan` policy).
    ///
    /// - Complexity: O(m·n·d) time.
    public func predict(_ queries: Matrix) throws -> [String?] {
        mostProbable(try probabilities(queries)).map { $0.map { classes[$0] } }
    }

    /// The m × n attention-weight matrix, as ``FittedNadarayaWatsonRegressor/attentionWeights(_:)``.
    public func attentionWeights(_ queries: Matrix) throws -> Matrix {
        guard let pooling else {
            throw NadarayaWatsonError.invalidArgument("attention weights need every feature continuous, but some are categorical or ordered")
        }
        return try pooling.weights(queries)
    }
}
