import RealModule

// Legend: n keys, m queries, d_c continuous and d_u discrete features, h widths, λ the discrete
// kernels' parameters, s sample weights, φ a key's discrete log factor, P the degree.

/// A fitted estimator over mixed continuous and discrete features (Racine & Li's generalized
/// product kernel): the weight of key i at q is K_h(q_c − kᵢ_c) · ∏ⱼ lⱼ(q_uⱼ, kᵢ_uⱼ; λⱼ), and
/// regression (local polynomial over the continuous features only, as R np), classification and
/// densities are read from the moment states ``MixedProblem`` computes.
///
/// Where no key has weight: kernels with infinite support give the far limit (every continuous log
/// weight overflowed: the nearest keys among those with a nonzero discrete factor, weighed by it);
/// otherwise the empty-neighbourhood policy (`mean` over all keys, `nearest` by the continuous
/// distance among the keys with a nonzero discrete factor, or among all when none has).
struct MixedModel: Sendable {
    let problem: MixedProblem
    let layout: FeatureLayout
    var widths: [Double]
    var lambdas: [Double]
    let emptyPolicy: EmptyNeighbourhoodPolicy
    let threads: Int

    /// Every h and λ in feature order.
    var bandwidths: [Double] { layout.join(widths: widths, lambdas: lambdas) }

    /// Splits the data of a mixed fit: kinds and keys checked, the discrete parts grouped.
    ///
    /// - Throws: ``NadarayaWatsonError`` for a wrong kind count or non-finite keys.
    static func problem(kernel: Kernel, form: KernelForm, kinds: [FeatureKind], keys: Matrix, values: PooledValues,
                        weights: [Double]?) throws -> (MixedProblem, FeatureLayout) {
        let layout = try FeatureLayout(kinds, features: keys.columns)
        try Validation.requireFinite(keys, as: .keys)
        let (continuous, discrete) = layout.split(keys)
        let problem = MixedProblem(kernel: kernel, form: form, continuousKeys: continuous, discreteKeys: discrete,
                                   kinds: layout.discreteKinds, values: values, logWeights: weights?.map { Double.log($0) })
        return (problem, layout)
    }

    /// The queries' continuous and discrete parts, checked.
    func parts(_ queries: Matrix) throws -> (continuous: Matrix, discrete: Matrix) {
        guard queries.columns == layout.kinds.count else {
            throw NadarayaWatsonError.featureCountMismatch(expected: layout.kinds.count, actual: queries.columns)
        }
        try Validation.requireFinite(queries, as: .queries)
        return layout.split(queries)
    }

    var continuousProblem: AttentionProblem {
        AttentionProblem(kernel: problem.kernel, form: problem.form, keys: problem.continuousKeys, bandwidths: widths,
                         values: problem.values)
    }

    /// The moment set of a degree-P fit (degree 0 without continuous features), `width`
    /// components of the values.
    func momentSet(degree: Int, width: Int) -> MomentSet {
        MomentSet(dimension: problem.continuousCount, degree: problem.continuousCount > 0 ? degree : 0, responseWidth: width)
    }

    func states(_ set: MomentSet, _ parts: (continuous: Matrix, discrete: Matrix), leaveOneOut: Bool = false) -> MomentStates {
        problem.states(set: set, widths: widths, lambdas: lambdas, queries: parts.continuous, discrete: parts.discrete,
                       leaveOneOut: leaveOneOut, threads: threads)
    }

    /// Key weights for a query no key gives weight (see the type's notes), summing to 1, or nil
    /// under the `nan` and `error` policies.
    ///
    /// - Complexity: O(n·(d_c + d_u)).
    func fallbackWeights(continuous q: UnsafePointer<Double>, discrete u: UnsafePointer<Double>, excluding excluded: Int)
        -> [Double]? {
        let n = problem.keyCount, kernels = problem.kernels(lambdas)
        let continuous = continuousProblem
        let logFactors = problem.cellValues.map { MixedProblem.logFactor(kernels, u, $0) }
        let allowed = (0..<n).filter { $0 != excluded && logFactors[problem.cellOf[$0]] > -.infinity }
        let s = { (k: Int) in problem.logWeights.map { Double.exp($0[k]) } ?? 1 }
        var weights = [Double](repeating: 0, count: n)
        func distance(_ k: Int) -> WideMagnitude {
            continuous.keys.elements.withUnsafeBufferPointer { continuous.wideFarDistance(q, $0.baseAddress! + k * problem.continuousCount) }
        }
        if !problem.kernel.isCompact && problem.continuousCount > 0 && !allowed.isEmpty {
            let distances = allowed.map(distance), nearest = distances.min()!
            let tied = zip(allowed, distances).filter { $0.1 == nearest }.map(\.0)
            let top = tied.map { logFactors[problem.cellOf[$0]] }.max()!
            for k in tied { weights[k] = Double.exp(logFactors[problem.cellOf[k]] - top) * s(k) }
        } else {
            switch emptyPolicy {
            case .nan, .error: return nil
            case .mean: for k in 0..<n where k != excluded { weights[k] = s(k) }
            case .nearest:
                let candidates = allowed.isEmpty ? (0..<n).filter { $0 != excluded } : allowed
                guard let first = candidates.first else { return nil }
                var best = first, bestDistance = distance(first)
                for k in candidates.dropFirst() {
                    let r = distance(k)
                    if r < bestDistance { (best, bestDistance) = (k, r) }
                }
                weights[best] = 1
            }
        }
        let total = weights.reduce(0, +)
        return total > 0 ? weights.map { $0 / total } : nil
    }

    /// Pooled vectors (m × p: regression's fit for `degree`, classes' probabilities), NaN rows
    /// for empty queries under `nan`; with `leaveOneOut`, query i (a key) without key i.
    ///
    /// - Throws: ``NadarayaWatsonError/emptyNeighbourhood(query:)`` under the `error` policy.
    func estimates(_ parts: (continuous: Matrix, discrete: Matrix), degree: Int, leaveOneOut: Bool = false) throws -> Matrix {
        let p = problem.values.width, m = parts.continuous.rows
        let set = momentSet(degree: degree, width: p)
        let states = states(set, parts, leaveOneOut: leaveOneOut)
        var result = Matrix(rows: m, columns: p, repeating: .nan)
        let M = states.count
        let accumulator = UnsafeMutablePointer<Double>.allocate(capacity: p)
        defer { accumulator.deallocate() }
        for i in 0..<m {
            if states.shifts[i] > -.infinity {
                let sums = Array(states.sums[i * M ..< (i + 1) * M])
                if p == 1 {
                    result[i, 0] = FittedLocalPolynomialRegressor.solve(sums, set: set, degree: set.degree).estimate
                } else {
                    for c in 0..<p { result[i, c] = sums[set.responseOffset + c] / sums[0] }
                }
                continue
            }
            let weights = parts.continuous.elements.withUnsafeBufferPointer { qc in
                parts.discrete.elements.withUnsafeBufferPointer { qu in
                    fallbackWeights(continuous: qc.baseAddress! + i * problem.continuousCount,
                                    discrete: qu.baseAddress! + i * problem.discreteCount, excluding: leaveOneOut ? i : -1)
                }
            }
            guard let weights else {
                if emptyPolicy == .error && !leaveOneOut { throw NadarayaWatsonError.emptyNeighbourhood(query: i) }
                continue
            }
            accumulator.update(repeating: 0, count: p)
            for k in weights.indices where weights[k] > 0 { problem.values.accumulate(key: k, weight: weights[k], into: accumulator) }
            for c in 0..<p { result[i, c] = accumulator[c] }
        }
        return result
    }

    /// ln p̂(x) = ln Σᵢ sᵢ K_h(x_c − kᵢ_c) ∏ⱼ lⱼ − ln Σᵢ sᵢ (−∞ where no key has weight); with
    /// `leaveOneOut`, point i's density without row i.
    ///
    /// - Parameter logNormalization: ln of the continuous kernel's constant c_d over ∏ h.
    func logDensities(_ parts: (continuous: Matrix, discrete: Matrix), logNormalization: Double,
                      leaveOneOut: Bool = false) -> [Double] {
        let set = momentSet(degree: 0, width: 0)
        let states = states(set, parts, leaveOneOut: leaveOneOut)
        let common = problem.kernels(lambdas).reduce(0.0) { $0 + $1.commonLogFactor }
        let weights = problem.logWeights?.map { Double.exp($0) }
        let total = weights?.reduce(0, +) ?? Double(problem.keyCount)
        return (0..<parts.continuous.rows).map { i in
            let n = leaveOneOut ? total - (weights?[i] ?? 1) : total
            guard states.shifts[i] > -.infinity, n > 0 else { return -.infinity }
            return states.shifts[i] + Double.log(states.sums[i * states.count]) + common + logNormalization - Double.log(n)
        }
    }
}

extension MixedModel {
    /// A mixed model fitted to kept rows (weights all positive) with its bandwidth resolved: a
    /// list (h or λ per feature), or cross-validation by `criterion`. Rules of thumb have no λ.
    ///
    /// - Throws: ``NadarayaWatsonError`` for bad kinds, keys or bandwidths, a rule, or a search
    ///   with no finite score.
    static func fit(kernel: Kernel, form: KernelForm, kinds: [FeatureKind], keys: Matrix, values: PooledValues,
                    weights: [Double]?, bandwidth: Bandwidth, emptyPolicy: EmptyNeighbourhoodPolicy, threads: Int?,
                    criterion: MixedCrossValidation.Criterion?, progress: SelectionProgress?) throws
        -> (model: MixedModel, score: Double?) {
        if let threads, threads < 1 {
            throw NadarayaWatsonError.invalidArgument("threads should be at least 1, but is \(threads)")
        }
        let (problem, layout) = try MixedModel.problem(kernel: kernel, form: form, kinds: kinds, keys: keys, values: values,
                                                       weights: weights)
        var model = MixedModel(problem: problem, layout: layout, widths: [], lambdas: [], emptyPolicy: emptyPolicy,
                               threads: threads ?? Parallel.defaultThreads)
        switch bandwidth {
        case let .widths(list):
            (model.widths, model.lambdas) = try layout.resolve(list, categories: problem.categories)
            return (model, nil)
        case .rule:
            try Kernel.requireRule(bandwidth, for: kernel)
            guard !layout.hasDiscrete else {
                throw NadarayaWatsonError.invalidMixedBandwidth(
                    "scott and silverman give widths for continuous features only; with categorical or ordered features give h or λ per feature, or use cv")
            }
            model.widths = try bandwidth.resolve(for: problem.continuousKeys, weights: weights).widths
            return (model, nil)
        case .crossValidation:
            guard let criterion else {
                throw NadarayaWatsonError.invalidArgument("cross-validation needs the estimator's criterion")
            }
            guard problem.keyCount >= 2 else {
                throw NadarayaWatsonError.notEnoughData(needed: 2, actual: problem.keyCount, reason: "cross-validation")
            }
            model.lambdas = Array(repeating: 0, count: layout.discrete.count)
            let start = problem.continuousCount == 0 ? []
                : kernel == .dot ? Kernel.dotStartWidths(for: problem.continuousKeys, weights: weights)
                : try BandwidthRule.scott.bandwidths(for: problem.continuousKeys, weights: weights)
            let selected = try MixedCrossValidation.select(model, start: start, criterion) { progress?($0, $1) }
            model.widths = selected.widths
            model.lambdas = selected.lambdas
            return (model, selected.score)
        }
    }
}
