import RealModule

// Legend: n samples, m query points, d features, h widths (one per feature), c_d the kernel's
// normalising constant in d dimensions.

/// The Parzen-window (kernel) density estimate, the chapter's exercise 1:
///
///     p̂(x) = (1/n) Σᵢ K_h(x − xᵢ),   K_h(u) = c_d / (h₁⋯h_d) · α(u/h),
///
/// with α(u) = K(‖u‖) (radial) or ∏ⱼ K(uⱼ) (product) and c_d the constant that makes the kernel
/// integrate to 1 over ℝᵈ (``Kernel/normalizingConstant(dimension:form:)``). So p̂ integrates to
/// exactly 1. Nadaraya–Watson regression is the ratio of two such sums, which is why c_d and
/// the widths' product cancel there and are kept here.
///
/// Evaluated in log space (ln Σ α by the log-sum-exp of the engines), so a point far from every
/// sample gets a tiny positive density or an exact 0 — never NaN; the Gaussian sum runs on the
/// fused SIMD engine.
///
/// ```swift
/// let kde = try ParzenDensity(kernel: .gaussian, bandwidth: .silverman).fit(samples: Matrix(column: x))
/// let p = try kde.density(Matrix(column: [0.0, 0.5, 1.0]))
/// ```
public struct ParzenDensity: Sendable {
    public var kernel: Kernel
    public var form: KernelForm
    public var bandwidth: Bandwidth
    /// Worker threads; nil uses every core. Results do not depend on it.
    public var threads: Int?
    /// What each coordinate holds (empty: every one continuous): with categorical or ordered
    /// coordinates p̂ is a mixed density, the continuous kernel times the discrete kernels
    /// (``FeatureKind``), each summing to 1 over its categories.
    public var featureKinds: [FeatureKind] = []
    /// With ``Bandwidth/crossValidation`` (the leave-one-out likelihood): called after each
    /// evaluation of the search.
    public var selectionProgress: SelectionProgress?

    public init(kernel: Kernel = .gaussian, form: KernelForm = .radial, bandwidth: Bandwidth, threads: Int? = nil) {
        self.kernel = kernel
        self.form = form
        self.bandwidth = bandwidth
        self.threads = threads
    }

    /// Stores the samples (n × d) and resolves the widths.
    ///
    /// - Throws: ``NadarayaWatsonError`` for no samples or features, non-finite samples, an
    ///   invalid or degenerate width, or a kernel with no density in this form (`constant`;
    ///   radial `cauchy` in d ≥ 2).
    /// - Complexity: O(n·d), plus the bandwidth rule's cost.
    public func fit(samples: Matrix) throws -> FittedParzenDensity {
        try fit(samples: samples, sampleWeights: nil)
    }

    /// Stores the samples with frequency weights sᵢ ≥ 0: p̂(x) = Σᵢ sᵢ K_h(x − xᵢ) / Σᵢ sᵢ (with
    /// integer weights, the density of the rows repeated sᵢ times; weight 0 removes a row).
    public func fit(samples: Matrix, sampleWeights: [Double]?) throws -> FittedParzenDensity {
        guard samples.rows > 0 else { throw NadarayaWatsonError.noKeys }
        guard samples.columns > 0 else { throw NadarayaWatsonError.noFeatures }
        try Validation.requireFinite(samples, as: .keys)
        // The continuous coordinates' kernel must integrate (none: a pure probability mass).
        let d = featureKinds.isEmpty ? samples.columns : featureKinds.filter { !$0.isDiscrete }.count
        guard let c = d == 0 ? 1 : kernel.normalizingConstant(dimension: d, form: form) else {
            let why = kernel == .constant ? "it is 1 everywhere and does not integrate"
                : kernel == .dot ? "exp(q·k/h²) is not a function of the distance and does not integrate"
                : "its tail 1/r² is too heavy to integrate over ℝ^\(d); use --form product"
            throw NadarayaWatsonError.invalidArgument("the \(kernel.rawValue) kernel (\(form.rawValue)) has no density: \(why)")
        }
        let kept = try SampleWeights(sampleWeights, count: samples.rows)
        let samples = kept.select(samples)
        if featureKinds.contains(where: \.isDiscrete) || bandwidth == .crossValidation {
            return try fitMixed(samples: samples, weights: kept.weights)
        }
        let h = try bandwidth.resolve(for: samples, weights: kept.weights).widths
        let problem = AttentionProblem(kernel: kernel, form: form, keys: samples, bandwidths: h,
                                       values: .dense(Matrix(rows: samples.rows, columns: 1)))
        // ln(c_d / (N ∏ hⱼ)), N = Σ sᵢ (n without weights), added to ln Σ sᵢαᵢ.
        let total = kept.weights?.reduce(0, +) ?? Double(samples.rows)
        let logScale = Double.log(c) - Double.log(total) - h.map { Double.log($0) }.reduce(0, +)
        return FittedParzenDensity(problem: problem, logScale: logScale, logWeights: kept.weights?.map { Double.log($0) },
                                   threads: threads ?? Parallel.defaultThreads)
    }
}

/// A Parzen density with its samples: ready to evaluate.
public struct FittedParzenDensity: Sendable {
    let problem: AttentionProblem
    let logScale: Double
    /// ln sᵢ of the kept samples, or nil for unit weights.
    let logWeights: [Double]?
    let threads: Int
    /// With categorical or ordered coordinates: the mixed model that evaluates.
    var mixed: MixedModel? = nil
    /// The negative leave-one-out log-likelihood per unit weight at ``bandwidths`` when
    /// ``Bandwidth/crossValidation`` chose them.
    public internal(set) var crossValidationScore: Double?

    /// The widths in use, one per feature (with discrete coordinates: h or λ per coordinate).
    public var bandwidths: [Double] { mixed?.bandwidths ?? problem.bandwidths }

    /// ln p̂(x) for each row of `points` (m × d): finite, or −∞ where every kernel term is 0.
    ///
    /// - Complexity: O(m·n·d) time, O((n + m)·d) memory.
    public func logDensity(_ points: Matrix) throws -> [Double] {
        if let mixed {
            return mixed.logDensities(try mixed.parts(points), logNormalization: logScale)
        }
        guard points.columns == problem.featureCount else {
            throw NadarayaWatsonError.featureCountMismatch(expected: problem.featureCount, actual: points.columns)
        }
        try Validation.requireFinite(points, as: .queries)
        var logSums: [Double]
        if let logWeights {
            // ln Σ sᵢαᵢ: the shift of the degree-0 moment state plus the log of its sum.
            let moments = MomentProblem(attention: problem, logWeights: logWeights,
                                        moments: MomentSet(dimension: points.columns, degree: 0))
            let states = MomentEngine.states(moments, queries: points, threads: threads)
            logSums = (0..<points.rows).map { states.shifts[$0] + Double.log(states.sums[$0 * states.count]) }
        } else {
            logSums = Self.logKernelSums(problem, queries: points, threads: threads)
        }
        return logSums.map { $0 + logScale }
    }

    /// p̂(x) for each row of `points` (m × d); 0 where every kernel term is 0 (or underflows).
    ///
    /// - Complexity: O(m·n·d) time, O((n + m)·d) memory.
    public func density(_ points: Matrix) throws -> [Double] {
        try logDensity(points).map { Double.exp($0) }
    }
}

extension ParzenDensity {
    /// ln c_{d_c} − Σ ln hⱼ: the continuous kernel's normalisation (0 without continuous features).
    func logNormalization(_ widths: [Double]) -> Double {
        guard !widths.isEmpty, let c = kernel.normalizingConstant(dimension: widths.count, form: form) else { return 0 }
        return Double.log(c) - widths.reduce(0) { $0 + Double.log($1) }
    }

    /// Discrete coordinates or the likelihood cross-validation (``MixedCrossValidation``): the
    /// mixed model, which continuous coordinates alone leave for the fused engines once the widths
    /// are chosen.
    func fitMixed(samples: Matrix, weights: [Double]?) throws -> FittedParzenDensity {
        let kinds = featureKinds.isEmpty ? Array(repeating: FeatureKind.continuous, count: samples.columns) : featureKinds
        let normalization = { [self] (h: [Double]) in logNormalization(h) }
        let (model, score) = try MixedModel.fit(kernel: kernel, form: form, kinds: kinds, keys: samples,
                                                values: .dense(Matrix(rows: samples.rows, columns: 1)), weights: weights,
                                                bandwidth: bandwidth, emptyPolicy: .nan, threads: threads,
                                                criterion: .likelihood(logNormalization: normalization),
                                                progress: selectionProgress)
        var continuous = self
        continuous.featureKinds = []
        continuous.bandwidth = .widths(model.widths)
        if !model.layout.hasDiscrete {
            var fitted = try continuous.fit(samples: samples, sampleWeights: weights)
            fitted.crossValidationScore = score
            return fitted
        }
        var fitted = FittedParzenDensity(problem: model.continuousProblem, logScale: logNormalization(model.widths),
                                         logWeights: model.problem.logWeights, threads: model.threads)
        fitted.mixed = model
        fitted.crossValidationScore = score
        return fitted
    }
}

extension FittedParzenDensity {
    /// ln Σᵢ α(q, kᵢ) for every query, by the engine chosen for kernel sums: the density's sums
    /// and the adaptive widths' pilot.
    ///
    /// - Complexity: O(m·n·d).
    static func logKernelSums(_ problem: AttentionProblem, queries: Matrix, threads: Int) -> [Double] {
        switch Engine.choose(for: problem, task: .kernelSums) {
        case .gaussian: GaussianEngine.logTotals(problem, queries: queries, threads: threads)
        default: Parallel.mapRows(of: queries, threads: threads, initial: 0) { StreamingEngine.logTotalWeight(problem, query: $1) }
        }
    }
}
