import RealModule

// Legend: n keys, m queries, d features, h widths, s sample weights, P the degree, u = (k − q)/h,
// p the number of monomials uᵉ of degree ≤ P, A the p × p local design, b its right-hand side.

/// Local polynomial regression of degree P = 0…3: at each query q, the weighted least-squares fit
///
///     β̂(q) = argmin_β Σᵢ sᵢ·α(q, kᵢ)·(yᵢ − Σₑ βₑ uᵢᵉ)²,   uᵢ = (kᵢ − q)/h,
///
/// over every monomial uᵉ of total degree ≤ P, and f̂(q) = β̂₀. Degree 0 is Nadaraya–Watson;
/// degree 1 is local linear regression (statsmodels `KernelReg(reg_type='ll')`, R np
/// `regtype = "ll"`), which removes the boundary bias of degree 0.
///
/// The normal equations A β = b are read from kernel-moment sums (``MomentState``):
/// A[e, f] = Σᵢ sᵢαᵢ uᵢ^{e+f}, b[e] = Σᵢ sᵢαᵢ yᵢ uᵢᵉ, solved by a scaled Cholesky factorisation.
/// Where the local design is singular or its condition estimate exceeds
/// ``SymmetricSolve/conditionLimit`` (too few keys with weight, a far query whose weights are
/// one-hot), the fit falls back to the highest degree that is well-posed, down to 0, so the
/// estimate is never NaN where degree 0 is not.
///
/// Sample weights are frequency weights: an integer weight equals repeating the row, weight 0
/// removes it.
///
/// Derivatives (``FittedLocalPolynomialRegressor/predictWithDerivatives(_:)``): for degree ≥ 1 the
/// local slope β̂_{eⱼ}/hⱼ (the convention of R np and statsmodels, not the exact derivative of
/// f̂); for degree 0 the exact derivative ∂f̂/∂qⱼ = Σᵢ sᵢαᵢ gᵢⱼ (yᵢ − f̂) / Σᵢ sᵢαᵢ with
/// gᵢⱼ = ∂ log αᵢ/∂qⱼ. For compact kernels, a key exactly on the support's boundary has weight 0
/// and contributes nothing: the one-sided derivative from the side where it lies outside.
public struct LocalPolynomialRegressor: Sendable {
    public var kernel: Kernel
    public var form: KernelForm
    public var bandwidth: Bandwidth
    /// P: 0, 1, 2 or 3.
    public var degree: Int
    public var emptyPolicy: EmptyNeighbourhoodPolicy
    /// Worker threads; nil uses every core. Results do not depend on it.
    public var threads: Int?
    /// With ``Bandwidth/crossValidation``: called after each evaluation of the search.
    public var selectionProgress: SelectionProgress?
    /// What each feature holds (empty: every feature continuous). With categorical or ordered
    /// features the attention weight is the continuous kernel over the continuous features times
    /// the discrete kernels (``FeatureKind``), the polynomial runs over the continuous features
    /// only, and the bandwidth lists h or λ per feature (cross-validation selects both). Standard
    /// errors, intervals, smoother weights and derivatives need continuous features only.
    public var featureKinds: [FeatureKind] = []

    /// The largest supported degree.
    public static let maximumDegree = 3

    public init(kernel: Kernel = .gaussian, form: KernelForm = .radial, bandwidth: Bandwidth, degree: Int = 1,
                emptyPolicy: EmptyNeighbourhoodPolicy = .nan, threads: Int? = nil) {
        self.kernel = kernel
        self.form = form
        self.bandwidth = bandwidth
        self.degree = degree
        self.emptyPolicy = emptyPolicy
        self.threads = threads
    }

    /// Stores the keys (n × d), targets (n) and optional sample weights (n, each ≥ 0 and finite),
    /// and resolves the widths (rules of thumb with the weights as frequencies).
    ///
    /// - Throws: ``NadarayaWatsonError`` for a degree outside 0…3, no keys or features,
    ///   mismatched counts, non-finite data, a negative or non-finite weight, all weights 0, or an
    ///   invalid or degenerate bandwidth.
    /// - Complexity: O(n·d), plus the bandwidth rule's cost.
    public func fit(keys: Matrix, targets: [Double], sampleWeights: [Double]? = nil) throws -> FittedLocalPolynomialRegressor {
        guard (0...Self.maximumDegree).contains(degree) else {
            throw NadarayaWatsonError.invalidArgument("the degree should be 0, 1, 2 or 3, but is \(degree)")
        }
        guard keys.rows > 0 else { throw NadarayaWatsonError.noKeys }
        guard keys.columns > 0 else { throw NadarayaWatsonError.noFeatures }
        guard targets.count == keys.rows else { throw NadarayaWatsonError.valueCountMismatch(keys: keys.rows, values: targets.count) }
        try Validation.requireFinite(keys, as: .keys)
        try Validation.requireFinite(Matrix(column: targets), as: .values)
        if let threads, threads < 1 {
            throw NadarayaWatsonError.invalidArgument("threads should be at least 1, but is \(threads)")
        }
        if featureKinds.contains(where: \.isDiscrete) {
            return try fitMixed(keys: keys, targets: targets, sampleWeights: sampleWeights)
        }
        if degree == 0 {
            // Nadaraya–Watson itself: its fused engines (identical results), the moment engine only
            // for derivatives.
            var regressor = NadarayaWatsonRegressor(kernel: kernel, form: form, bandwidth: bandwidth, emptyPolicy: emptyPolicy,
                                                    threads: threads)
            regressor.selectionProgress = selectionProgress
            let nadarayaWatson = try regressor.fit(keys: keys, values: Matrix(column: targets), sampleWeights: sampleWeights)
            var fitted = try LocalPolynomialRegressor(kernel: kernel, form: form, bandwidth: .widths(nadarayaWatson.bandwidths),
                                                      degree: 1, emptyPolicy: emptyPolicy, threads: threads)
                .fit(keys: keys, targets: targets, sampleWeights: sampleWeights)
            fitted.degree = 0
            fitted.nadarayaWatson = nadarayaWatson
            fitted.crossValidationScore = nadarayaWatson.crossValidationScore
            return fitted
        }
        let kept = try SampleWeights(sampleWeights, count: keys.rows)
        let x = kept.select(keys), y = kept.select(targets), s = kept.weights
        try Kernel.requireRule(bandwidth, for: kernel)
        let (widths, score) = try bandwidth.resolve(for: x, weights: s) { [self] in
            try CrossValidation(kernel: kernel, form: form, emptyPolicy: emptyPolicy, degree: degree, threads: threads)
                .select(keys: x, targets: y, sampleWeights: s) { selectionProgress?($0, $1) }
        }
        let problem = AttentionProblem(kernel: kernel, form: form, keys: x, bandwidths: widths, values: .dense(Matrix(column: y)))
        return FittedLocalPolynomialRegressor(problem: problem, targets: y, weights: s, degree: degree, nadarayaWatson: nil,
                                              keptRows: kept.kept, originalRowCount: keys.rows, crossValidationScore: score,
                                              emptyPolicy: emptyPolicy,
                                              threads: threads ?? Parallel.defaultThreads)
    }
}

/// A local polynomial regressor with its data: ready to predict.
public struct FittedLocalPolynomialRegressor: Sendable {
    let problem: AttentionProblem
    let targets: [Double]
    /// sᵢ of the kept rows (all positive), or nil for unit weights.
    let weights: [Double]?
    public internal(set) var degree: Int
    /// Degree 0: the Nadaraya–Watson fit that predicts (derivatives come from the moments).
    var nadarayaWatson: FittedNadarayaWatsonRegressor?
    /// The rows kept (weight > 0; nil: all) and the row count before.
    let keptRows: [Int]?
    let originalRowCount: Int
    /// The leave-one-out score at ``bandwidths`` when ``Bandwidth/crossValidation`` chose them.
    public internal(set) var crossValidationScore: Double?
    let emptyPolicy: EmptyNeighbourhoodPolicy
    let threads: Int

    /// With categorical or ordered features: the mixed-kernel fit that predicts.
    var mixed: MixedModel? = nil

    /// The widths in use, one per feature (with discrete features: h or λ per feature).
    public var bandwidths: [Double] { mixed?.bandwidths ?? problem.bandwidths }

    /// Throws where a method needs every feature continuous.
    func requireContinuous(_ what: String) throws {
        guard mixed == nil else {
            throw NadarayaWatsonError.invalidArgument("\(what) need every feature continuous, but some are categorical or ordered")
        }
    }

    /// f̂(q) for each query row (m × d).
    ///
    /// - Complexity: O(m·n·(d + M)) with M = C(d + 2P, d) + C(d + P, d) moments (compact kernels:
    ///   only the keys in each support, through an index).
    public func predict(_ queries: Matrix) throws -> [Double] {
        if let nadarayaWatson { return try nadarayaWatson.predict(queries).elements }
        if let mixed { return try mixed.estimates(mixed.parts(queries), degree: degree).elements }
        return try evaluate(queries, derivatives: false).values
    }

    /// f̂(q) and the derivatives (m × d: slopes for degree ≥ 1, the exact derivative of the
    /// Nadaraya–Watson estimate for degree 0); 0 for a query under the `mean` or `nearest`
    /// policy, NaN under `nan`.
    public func predictWithDerivatives(_ queries: Matrix) throws -> (values: [Double], derivatives: Matrix) {
        try requireContinuous("derivatives")
        let result = try evaluate(queries, derivatives: true)
        return (try nadarayaWatson?.predict(queries).elements ?? result.values, result.derivatives)
    }

    /// The moment set for this fit: the Gaussian's scores ∂ log α/∂qⱼ = uⱼ/hⱼ are its degree-1
    /// monomials (which its SIMD engine sums), other kernels' scores are summed as such.
    func momentProblem(derivatives: Bool) -> MomentProblem {
        let d = problem.featureCount
        let gaussian = Engine.choose(for: problem, task: .moments) == .gaussianMoments
        let momentDegree = derivatives && gaussian ? Swift.max(degree, 1) : degree
        let set = MomentSet(dimension: d, degree: momentDegree, scores: derivatives && !gaussian)
        return MomentProblem(attention: problem, logWeights: weights?.map { Double.log($0) }, moments: set)
    }

    struct Evaluation {
        var values: [Double]
        var derivatives: Matrix
        /// The degree each query's fit used (after any fallback); −1 for an empty query.
        var degrees: [Int]
    }

    func evaluate(_ queries: Matrix, derivatives: Bool) throws -> Evaluation {
        guard queries.columns == problem.featureCount else {
            throw NadarayaWatsonError.featureCountMismatch(expected: problem.featureCount, actual: queries.columns)
        }
        try Validation.requireFinite(queries, as: .queries)
        let m = queries.rows, d = queries.columns
        let moments = momentProblem(derivatives: derivatives)
        let states = MomentEngine.states(moments, queries: queries, threads: threads)
        var result = Evaluation(values: Array(repeating: .nan, count: m),
                                derivatives: Matrix(rows: m, columns: derivatives ? d : 0, repeating: .nan),
                                degrees: Array(repeating: -1, count: m))
        for i in 0..<m {
            let sums = states.sums[(i * states.count)...].prefix(states.count)
            guard !states.shifts[i].isInfinite else { continue }
            let fit = Self.solve(Array(sums), set: moments.moments, degree: degree)
            result.values[i] = fit.estimate
            result.degrees[i] = fit.degree
            if derivatives {
                for j in 0..<d { result.derivatives[i, j] = fit.slope(j, sums: Array(sums), set: moments.moments, h: problem.bandwidths) }
            }
        }
        try applyEmptyPolicy(queries, &result)
        return result
    }

    /// A query's local fit from its moment sums: the highest well-posed degree ≤ P.
    struct LocalFit {
        let degree: Int
        let coefficients: [Double]
        var estimate: Double { coefficients[0] }

        /// The slope in feature j: β_{eⱼ}/hⱼ for degree ≥ 1; for degree 0 the exact derivative of
        /// the Nadaraya–Watson estimate from the score sums (the Gaussian's: its u-monomials,
        /// ∂ log α/∂qⱼ = uⱼ/hⱼ).
        func slope(_ j: Int, sums: [Double], set: MomentSet, h: [Double]) -> Double {
            if degree >= 1 { return coefficients[1 + j] / h[j] }
            let total = sums[0], f = coefficients[0], d = set.dimension
            if set.scores {
                return (sums[set.scoreOffset + d + j] - f * sums[set.scoreOffset + j]) / total
            }
            guard set.degree >= 1 else { return .nan }
            return (sums[set.responseOffset + 1 + j] - f * sums[1 + j]) / (h[j] * total)
        }
    }

    /// Solves the local design of degree P, falling back degree by degree (the monomials of a
    /// lower degree are a prefix, so the same sums serve).
    static func solve(_ sums: [Double], set: MomentSet, degree P: Int) -> LocalFit {
        let (degree, factor) = design(sums, set: set, degree: P)
        let p = set.basisCount(degree: degree)
        let b = (0..<p).map { sums[set.responseOffset + $0] }
        guard let factor else { return LocalFit(degree: 0, coefficients: [b[0] / sums[0]]) }
        return LocalFit(degree: degree, coefficients: factor.solve(b))
    }

    /// The highest well-posed degree ≤ P and its factored design (nil for degree 0, A = [S₀]).
    static func design(_ sums: [Double], set: MomentSet, degree P: Int) -> (degree: Int, factor: SymmetricSolve.Factor?) {
        var degree = P
        while degree >= 1 {
            let p = set.basisCount(degree: degree)
            var A = [Double](repeating: 0, count: p * p)
            for e in 0..<p { for f in 0...e { A[e * p + f] = sums[set.designPosition(e, f)]; A[f * p + e] = A[e * p + f] } }
            if let factor = SymmetricSolve.Factor(A, count: p) { return (degree, factor) }
            degree -= 1
        }
        return (0, nil)
    }

    /// The equivalent-kernel weights lᵢ(q) of each query (m × n, TRAIN's row order; 0 for rows of
    /// weight 0): f̂(q) = Σᵢ lᵢ(q)·yᵢ, Σᵢ lᵢ(q) = 1, lᵢ(q) = sᵢαᵢ·(A⁻¹e₀)ᵀ·x(uᵢ) — negative where the
    /// local polynomial extrapolates. Empty queries follow the policy, as for Nadaraya–Watson.
    ///
    /// - Complexity: O(m·n·(d + p)) time, O(m·n) memory.
    public func smootherWeights(_ queries: Matrix) throws -> Matrix {
        try requireContinuous("smoother weights")
        if let nadarayaWatson { return try nadarayaWatson.attentionWeights(queries) }
        let (states, set, isNaN) = try smootherStates(queries)
        let n = problem.keyCount, N = originalRowCount, keptRows = self.keptRows
        var result = Matrix(rows: queries.rows, columns: N)
        var scratch = MomentEngine.PlainScratch(set)
        defer { scratch.deallocate() }
        var row = [Double](repeating: 0, count: n)
        for i in 0..<queries.rows {
            queries.elements.withUnsafeBufferPointer { qs in
                smootherRow(qs.baseAddress! + i * queries.columns, state: states.state(i), set: set, isNaN: isNaN[i],
                            scratch: &scratch, into: &row)
            }
            for k in 0..<n {
                let column = keptRows?[k] ?? k
                if row[k].isNaN { for c in 0..<N { result[i, c] = .nan } } else { result[i, column] = row[k] }
            }
        }
        return result
    }

    /// The moment states of the queries for ``smootherRow(_:state:set:isNaN:scratch:into:)``, and which
    /// queries the fit leaves NaN (empty under the `nan` policy).
    func smootherStates(_ queries: Matrix) throws -> (moments: MomentStates, set: MomentSet, isNaN: [Bool]) {
        let evaluation = try evaluate(queries, derivatives: false)
        let moments = momentProblem(derivatives: false)
        return (MomentEngine.states(moments, queries: queries, threads: threads), moments.moments, evaluation.values.map(\.isNaN))
    }

    /// lᵢ(q) over the kept rows for one query, from its moment state: sᵢαᵢ·(A⁻¹e₀)ᵀ·x(uᵢ), the far
    /// limit where every log weight overflowed, the empty policy where no key has weight.
    ///
    /// - Complexity: O(n·(d + p)).
    func smootherRow(_ q: UnsafePointer<Double>, state: MomentState, set: MomentSet, isNaN: Bool,
                     scratch: inout MomentEngine.PlainScratch, into row: inout [Double]) {
        let n = problem.keyCount, d = problem.featureCount
        row.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
        if !state.isEmpty {
            let (degree, factor) = Self.design(state.sums, set: set, degree: self.degree)
            let p = set.basisCount(degree: degree)
            let z = factor?.solve((0..<p).map { $0 == 0 ? 1 : 0 }) ?? [1 / state.sums[0]]
            let u = scratch.u, values = scratch.values
            problem.keys.elements.withUnsafeBufferPointer { xs in
                for k in 0..<n {
                    let a = problem.logAttention(query: q, key: k)
                    guard a > -.infinity else { continue }
                    let alpha = Double.exp(a + Double.log(weights?[k] ?? 1) - state.shift)
                    for j in 0..<d { u[j] = (xs[k * d + j] - q[j]) / problem.bandwidths[j] }
                    set.monomials.evaluate(u, into: values)
                    var dot = 0.0
                    for e in 0..<p { dot += z[e] * values[e] }
                    row[k] = alpha * dot
                }
            }
        } else if isNaN {
            row = Array(repeating: .nan, count: n)
        } else if !problem.kernel.isCompact {
            row = problem.farLimitWeights(query: q)
            if let s = weights { row = zip(row, s).map(*) }
            let total = row.reduce(0, +)
            row = row.map { $0 / total }
        } else if emptyPolicy == .mean {
            let s = weights ?? Array(repeating: 1, count: n)
            let total = s.reduce(0, +)
            row = s.map { $0 / total }
        } else {
            row[problem.nearestKey(to: q)] = 1
        }
    }

    /// Queries with no key of positive weight: the far limit for kernels with infinite support
    /// (every log weight overflowed: degree 0 of the nearest keys, derivatives 0), else the
    /// empty-neighbourhood policy.
    func applyEmptyPolicy(_ queries: Matrix, _ result: inout Evaluation) throws {
        let empty = (0..<queries.rows).filter { result.degrees[$0] < 0 }
        guard !empty.isEmpty else { return }
        if problem.kernel.isCompact, emptyPolicy == .error { throw NadarayaWatsonError.emptyNeighbourhood(query: empty[0]) }
        let d = queries.columns
        for i in empty {
            let value: Double
            let q = queries.row(i)
            if !problem.kernel.isCompact {
                var w = q.withUnsafeBufferPointer { problem.farLimitWeights(query: $0.baseAddress!) }
                if let weights { w = zip(w, weights).map(*) }
                let total = w.reduce(0, +)
                value = zip(w, targets).reduce(0) { $0 + ($1.0 > 0 ? $1.0 * $1.1 : 0) } / total
            } else {
                switch emptyPolicy {
                case .nan, .error: continue
                case .mean: value = SampleWeights.weightedMean(targets, weights)
                case .nearest: value = targets[q.withUnsafeBufferPointer { problem.nearestKey(to: $0.baseAddress!) }]
                }
            }
            result.values[i] = value
            result.degrees[i] = 0
            for j in 0..<result.derivatives.columns where j < d { result.derivatives[i, j] = 0 }
        }
    }
}
