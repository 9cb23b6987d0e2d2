import RealModule

// Legend: n keys (the kept rows), m queries, s sample weights, l(q) the smoother's weights at q
// (f̂(q) = Σᵢ lᵢ(q)·yᵢ), A the local design, z = A⁻¹e₀, B the design of the squared kernel.

/// The noise level of a fitted linear smoother, from its in-sample fit (Wasserman, *All of
/// Nonparametric Statistics*, §5.3), in the frequency-weight reading:
///
///     σ̂² = RSS / (n − 2ν + ν̃),   RSS = Σᵢ sᵢ(yᵢ − f̂(xᵢ))²,   n = Σᵢ sᵢ,
///     ν = Σᵢ lᵢ(xᵢ) = tr L,   ν̃ = Σᵢ sᵢ Σₖ lₖ(xᵢ)²/sₖ = tr LᵀL.
///
/// With integer weights every number equals that of the rows repeated sᵢ times.
public struct SmootherNoise: Sendable, Equatable {
    /// σ̂.
    public let sigma: Double
    /// ν = tr L, the effective number of parameters.
    public let nu: Double
    /// ν̃ = tr LᵀL.
    public let nuTilde: Double
    /// RSS = Σᵢ sᵢ(yᵢ − f̂(xᵢ))².
    public let residualSumOfSquares: Double
    /// n = Σᵢ sᵢ.
    public let count: Double
    /// The in-sample fit f̂(xᵢ) of the kept rows.
    public let fitted: [Double]
    /// lᵢ(xᵢ), each row's weight in its own fit (the smoother matrix's diagonal), kept rows.
    public let leverages: [Double]
    /// ‖l(xᵢ)‖² = Σₖ lₖ(xᵢ)²/sₖ, kept rows.
    public let squaredWeightNorms: [Double]
}

extension FittedLocalPolynomialRegressor {
    /// ‖l(q)‖² = Σᵢ lᵢ(q)²/sᵢ for each query (the squared norm of the smoother's weights, in the
    /// frequency-weight reading), and lᵢ(q) of the query's own key when the queries are the keys:
    /// from two moment passes, with α and with α² (A and B, each relative to its own shift),
    /// ‖l(q)‖² = zᵀBz·e^{shift_B − 2·shift_A}, z = A⁻¹e₀, the fit's own degree after any fallback;
    /// for degree 0, Σ sα²/(Σ sα)². Empty queries follow the fit's policy: NaN (`nan`), 1/Σs
    /// (`mean`), 1/s of the nearest key (`nearest`); the far limit's weights where every log
    /// weight overflowed.
    ///
    /// - Complexity: O(m·n·(d + M)) time, two passes; O(m·M) memory (no m × n matrix).
    func weightNorms(_ queries: Matrix, selfWeights: Bool = false) throws -> (squaredNorms: [Double], diagonal: [Double]) {
        guard queries.columns == problem.featureCount else {
            throw NadarayaWatsonError.featureCountMismatch(expected: problem.featureCount, actual: queries.columns)
        }
        try Validation.requireFinite(queries, as: .queries)
        var moments = momentProblem(derivatives: false)
        let first = MomentEngine.states(moments, queries: queries, threads: threads)
        moments.kernelPower = 2
        let second = MomentEngine.states(moments, queries: queries, threads: threads)
        let set = moments.moments, M = first.count
        var norms = [Double](repeating: .nan, count: queries.rows), diagonal = norms
        for i in 0..<queries.rows {
            let q = queries.row(i)
            guard first.shifts[i] > -.infinity else {
                norms[i] = emptyWeightNorm(q)
                continue
            }
            let a = Array(first.sums[i * M ..< (i + 1) * M]), b = Array(second.sums[i * M ..< (i + 1) * M])
            let (degree, factor) = Self.design(a, set: set, degree: self.degree)
            let p = set.basisCount(degree: degree)
            let z = factor?.solve((0..<p).map { $0 == 0 ? 1 : 0 }) ?? [1 / a[0]]
            var quadratic = 0.0
            for e in 0..<p { for f in 0..<p { quadratic += z[e] * b[set.designPosition(e, f)] * z[f] } }
            norms[i] = quadratic * Double.exp(second.shifts[i] - 2 * first.shifts[i])
            if selfWeights {
                // lᵢ(xᵢ) = sᵢ·α(xᵢ, xᵢ)·e^{−shift}·z·x(0), and x(0) = e₀.
                let selfLog = q.withUnsafeBufferPointer { problem.logAttention(query: $0.baseAddress!, key: i) }
                diagonal[i] = (weights?[i] ?? 1) * Double.exp(selfLog - first.shifts[i]) * z[0]
            }
        }
        return (norms, diagonal)
    }

    /// ‖l(q)‖² of a query with no key of positive weight, by the policy that answers it.
    func emptyWeightNorm(_ q: [Double]) -> Double {
        let s = weights ?? Array(repeating: 1, count: problem.keyCount)
        if !problem.kernel.isCompact {
            let w = zip(q.withUnsafeBufferPointer { problem.farLimitWeights(query: $0.baseAddress!) }, s).map(*)
            let total = w.reduce(0, +)
            return zip(w, s).reduce(0) { $0 + ($1.0 > 0 ? $1.0 * $1.0 / (total * total * $1.1) : 0) }
        }
        switch emptyPolicy {
        case .nan, .error: return .nan
        case .mean: return 1 / s.reduce(0, +)
        case .nearest: return 1 / s[q.withUnsafeBufferPointer { problem.nearestKey(to: $0.baseAddress!) }]
        }
    }

    /// σ̂, ν and ν̃ from the in-sample fit (see ``SmootherNoise``).
    ///
    /// - Throws: ``NadarayaWatsonError/notEnoughData(needed:actual:reason:)`` when n − 2ν + ν̃ ≤ 0
    ///   (a fit that interpolates its data leaves no degrees of freedom for the noise).
    /// - Complexity: O(n²·(d + M)): every training row is a query, twice.
    public func noise() throws -> SmootherNoise {
        try requireContinuous("the noise estimate and standard errors")
        let keys = problem.keys, n = problem.keyCount
        let fitted = try evaluate(keys, derivatives: false).values
        let (norms, diagonal) = try weightNorms(keys, selfWeights: true)
        var rss = 0.0, nu = 0.0, nuTilde = 0.0, count = 0.0
        for i in 0..<n {
            let s = weights?[i] ?? 1
            rss += s * (targets[i] - fitted[i]) * (targets[i] - fitted[i])
            nu += diagonal[i]
            nuTilde += s * norms[i]
            count += s
        }
        let freedom = count - 2 * nu + nuTilde
        guard freedom > 0, rss.isFinite else {
            throw NadarayaWatsonError.notEnoughData(needed: Int((2 * nu - nuTilde).rounded(.up)) + 1, actual: Int(count),
                                                    reason: "estimating the noise (n − 2ν + ν̃ should be positive, but the fit interpolates its data)")
        }
        return SmootherNoise(sigma: (rss / freedom).squareRoot(), nu: nu, nuTilde: nuTilde, residualSumOfSquares: rss,
                             count: count, fitted: fitted, leverages: diagonal, squaredWeightNorms: norms)
    }

    /// The standard errors se(q) = σ̂·‖l(q)‖ of the estimate at each query.
    ///
    /// - Parameter noise: σ̂ from ``noise()`` (computed when nil).
    /// - Complexity: O(m·n·(d + M)), plus ``noise()`` when it is computed here.
    public func standardErrors(_ queries: Matrix, noise: SmootherNoise? = nil) throws -> [Double] {
        try requireContinuous("standard errors")
        let sigma = try (noise ?? self.noise()).sigma
        return try weightNorms(queries).squaredNorms.map { sigma * $0.squareRoot() }
    }
}

extension FittedLocalPolynomialRegressor {
    /// The asymptotic interval f̂(q) ∓ z·se(q) at `level`, z = Φ⁻¹((1 + level)/2).
    ///
    /// - Parameters:
    ///   - queries: m × d.
    ///   - level: the coverage, 0 < level < 1.
    ///   - noise: σ̂ from ``noise()`` (computed when nil).
    /// - Returns: lower and upper per query (NaN where the fit is NaN).
    /// - Throws: ``NadarayaWatsonError/invalidArgument(_:)`` for a level outside (0, 1); as
    ///   ``standardErrors(_:noise:)``.
    /// - Complexity: as ``standardErrors(_:noise:)`` plus a prediction.
    public func confidenceInterval(_ queries: Matrix, level: Double, noise: SmootherNoise? = nil) throws
        -> (lower: [Double], upper: [Double]) {
        try requireContinuous("confidence intervals")
        guard level > 0, level < 1 else {
            throw NadarayaWatsonError.invalidArgument("the level should be between 0 and 1 (such as 0.95), but is \(level)")
        }
        let f = try predict(queries), se = try standardErrors(queries, noise: noise)
        let z = StandardNormal.quantile((1 + level) / 2)
        return (zip(f, se).map { $0 - z * $1 }, zip(f, se).map { $0 + z * $1 })
    }
}

/// The standard normal distribution's quantile function Φ⁻¹.
public enum StandardNormal {
    /// Φ⁻¹(p) for 0 < p < 1, to a few ulps: Acklam's rational approximation (relative error
    /// 1.15·10⁻⁹) refined by one Halley step on Φ(x) − p, with Φ from erfc, in the lower half
    /// (the upper by symmetry).
    ///
    /// - Returns: ±∞ at p = 1 and 0, NaN outside [0, 1].
    /// - Complexity: O(1).
    public static func quantile(_ p: Double) -> Double {
        guard p > 0, p < 1 else { return p == 0 ? -.infinity : p == 1 ? .infinity : .nan }
        // The upper half by symmetry: 1 − p is exact there (Sterbenz), and the lower tail's
        // Φ(x) = erfc(−x/√2)/2 keeps full relative precision where Φ(x) − p would cancel near 1.
        if p > 0.5 { return -quantile(1 - p) }
        let a = [-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
                 1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00]
        let b = [-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                 6.680131188771972e+01, -1.328068155288572e+01]
        let c = [-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                 -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00]
        let d = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00]
        let low = 0.02425
        var x: Double
        if p < low {
            let q = (-2 * Double.log(p)).squareRoot()
            x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
        } else if p <= 1 - low {
            let q = p - 0.5, r = q * q
            x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q
                / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
        } else {
            let q = (-2 * Double.log(1 - p)).squareRoot()
            x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
        }
        // Halley: e = Φ(x) − p, u = e·√(2π)·e^{x²/2}, x ← x − u/(1 + x·u/2).
        let e = 0.5 * Double.erfc(-x * 0.7071067811865476) - p
        let u = e * (2 * Double.pi).squareRoot() * Double.exp(x * x / 2)
        x -= u / (1 + x * u / 2)
        return x
    }
}
