import RealModule

// Legend: n training points, d features, h widths (one per feature).

/// Leave-one-out least-squares cross-validation of the widths:
///
///     CV(h) = (1/n) Σᵢ (yᵢ − f₋ᵢ(xᵢ))²,
///
/// where f₋ᵢ is attention pooling over every training pair but the i-th.
///
/// A point whose leave-one-out estimate has zero total weight (compact kernels, widths narrower
/// than the gap to its nearest neighbour) gets the ``EmptyNeighbourhoodPolicy``: `nan` makes
/// the whole score +∞ (such widths are never selected), `mean` uses the mean of the other values,
/// `nearest` the value of the nearest other key, `error` also scores +∞.
public struct CrossValidation: Sendable {
    public var kernel: Kernel
    public var form: KernelForm
    public var emptyPolicy: EmptyNeighbourhoodPolicy
    /// The estimator scored: local polynomial regression of this degree (0: Nadaraya–Watson).
    public var degree: Int
    public var threads: Int?
    /// Merge rows with identical keys (``TiedKeys``) when at most half are distinct: exact, and
    /// O(g²) instead of O(n²). Off only to test the merge against the rows.
    var compressesTies = true

    public init(kernel: Kernel = .gaussian, form: KernelForm = .radial, emptyPolicy: EmptyNeighbourhoodPolicy = .nan,
                degree: Int = 0, threads: Int? = nil) {
        self.kernel = kernel
        self.form = form
        self.emptyPolicy = emptyPolicy
        self.degree = degree
        self.threads = threads
    }

    /// CV(h) for the given widths (one, or one per feature); with frequency weights sᵢ,
    /// CV = Σᵢ sᵢ(yᵢ − f₋ᵢ(xᵢ))² / Σᵢ sᵢ, where f₋ᵢ leaves the whole row i out.
    ///
    /// - Complexity: O(n²·d) time (the Gaussian on SIMD registers), O(n·d) memory; for degree P
    ///   O(n²·(d + M)) with M moments per point.
    public func score(keys: Matrix, targets: [Double], bandwidths: [Double], sampleWeights: [Double]? = nil) throws -> Double {
        let h = try Validation.bandwidths(bandwidths, features: keys.columns)
        let kept = try SampleWeights(sampleWeights, count: keys.rows)
        let keys = kept.select(keys), targets = kept.select(targets)
        let n = keys.rows
        guard n >= 2 else { throw NadarayaWatsonError.notEnoughData(needed: 2, actual: n, reason: "cross-validation") }
        guard (0...LocalPolynomialRegressor.maximumDegree).contains(degree) else {
            throw NadarayaWatsonError.invalidArgument("the degree should be 0, 1, 2 or 3, but is \(degree)")
        }
        let scale = Statistics.normalizingScale(targets)
        if scale != 1 {
            // CV(y) = 2²ᵏ·CV(y / 2ᵏ) exactly: extreme targets are scored where sums cannot overflow.
            return try score(keys: keys, targets: targets.map { $0 / scale }, bandwidths: bandwidths, sampleWeights: kept.weights)
                * scale * scale
        }
        let threads = self.threads ?? Parallel.defaultThreads
        if compressesTies, let groups = TiedKeys(keys: keys, targets: targets, weights: kept.weights),
           let score = tiedScore(groups, bandwidths: h, threads: threads) {
            return score
        }
        return momentScore(keys: keys, targets: targets, bandwidths: h, weights: kept.weights, threads: threads)
    }

    /// CV over tied keys: each group k's state leaves out the whole group (the engine's mask);
    /// row i of the group sees the other cₖ − 1 copies at u = 0, where only the constant monomial
    /// is nonzero. So A = A₋ₖ + (cₖ − 1)·s·α₀·E₀₀ is the same for every row of the group, and
    /// f₋ᵢ = F + K·(Yₖ − yᵢ) with F = e₀ᵀA⁻¹b₋ₖ and K = s·α₀·(A⁻¹e₀)₀ (the fit is linear in yᵢ):
    ///
    ///     Σᵢ s(yᵢ − f₋ᵢ)² = s·[(1 + K)²·SSₖ + cₖ·(ȳₖ(1 + K − K·cₖ) − F)²],
    ///
    /// centred, so nothing cancels. The same fallback by degree as the rows' fit.
    ///
    /// - Returns: nil when some group of one row has no other key with weight (the rows' path
    ///   then applies the empty policy or the far limit).
    /// - Complexity: O(g²·(d + M)).
    func tiedScore(_ groups: TiedKeys, bandwidths h: [Double], threads: Int) -> Double? {
        let g = groups.count, d = groups.keys.columns
        let problem = AttentionProblem(kernel: kernel, form: form, keys: groups.keys, bandwidths: h, values: .dense(Matrix(column: groups.means)))
        let set = MomentSet(dimension: d, degree: degree)
        let logWeights = zip(groups.counts, groups.weights).map { Double.log($0 * $1) }
        let states = MomentEngine.states(MomentProblem(attention: problem, logWeights: logWeights, moments: set, leaveOneOut: true),
                                         queries: groups.keys, threads: threads)
        var total = 0.0, weightTotal = 0.0
        for k in 0..<g {
            let c = groups.counts[k], s = groups.weights[k]
            let own = groups.keys.elements.withUnsafeBufferPointer { problem.logAttention(query: $0.baseAddress! + k * d, key: k) }
            let copies = c > 1 ? own + Double.log((c - 1) * s) : -.infinity
            let shift = Swift.max(states.shifts[k], copies)
            guard shift > -.infinity else { return nil }
            var sums = Array(states.sums[k * states.count ..< (k + 1) * states.count])
            let factor = Double.exp(states.shifts[k] - shift)
            if factor != 1 { for m in sums.indices { sums[m] *= factor } }
            if c > 1 { sums[0] += Double.exp(copies - shift) }
            guard sums.allSatisfy(\.isFinite) else { return nil }
            let (fitDegree, design) = FittedLocalPolynomialRegressor.design(sums, set: set, degree: degree)
            let p = set.basisCount(degree: fitDegree)
            let z = design?.solve((0..<p).map { $0 == 0 ? 1 : 0 }) ?? [1 / sums[0]]
            var F = 0.0
            for e in 0..<p { F += z[e] * sums[set.responseOffset + e] }
            let K = s * Double.exp(own - shift) * z[0], mean = groups.means[k]
            let offset = mean * (1 + K - K * c) - F
            total += s * ((1 + K) * (1 + K) * groups.centredSquares[k] + c * offset * offset)
            weightTotal += s * c
        }
        return total.isFinite ? total / weightTotal : .infinity
    }

    /// CV of local polynomial regression (and of weighted Nadaraya–Watson) from leave-one-out
    /// moment states: point i's own key masked in the engine, so f₋ᵢ(xᵢ) is the fit without row i
    /// (for a linear smoother the same as (f̂ᵢ − lᵢᵢyᵢ)/(1 − lᵢᵢ), without its cancellation when
    /// lᵢᵢ → 1), with the fallback to lower degrees and the empty policy.
    func momentScore(keys: Matrix, targets: [Double], bandwidths h: [Double], weights: [Double]?, threads: Int) -> Double {
        let n = keys.rows
        if keys.columns == 1, (1..<n).contains(where: { keys.elements[$0 - 1] > keys.elements[$0] }) {
            // Sorted, so the Gaussian engine visits only each block's window of keys (the score
            // is a sum over the points: their order does not matter).
            let order = RadixSort.sortedOrder(keys.elements)
            return momentScore(keys: Matrix(column: order.map { keys.elements[$0] }), targets: order.map { targets[$0] },
                               bandwidths: h, weights: weights.map { w in order.map { w[$0] } }, threads: threads)
        }
        let problem = AttentionProblem(kernel: kernel, form: form, keys: keys, bandwidths: h, values: .dense(Matrix(column: targets)))
        let set = MomentSet(dimension: keys.columns, degree: degree)
        let moments = MomentProblem(attention: problem, logWeights: weights?.map { Double.log($0) }, moments: set,
                                    leaveOneOut: true)
        let states = MomentEngine.states(moments, queries: keys, threads: threads)
        var total = 0.0, weightTotal = 0.0
        for i in 0..<n {
            var f: Double
            if states.shifts[i] > -.infinity {
                let sums = Array(states.sums[i * states.count ..< (i + 1) * states.count])
                f = FittedLocalPolynomialRegressor.solve(sums, set: set, degree: degree).estimate
            } else {
                var others = Array(0..<n)
                others.remove(at: i)
                let y = others.map { targets[$0] }, s = weights.map { w in others.map { w[$0] } }
                if !kernel.isCompact {
                    // Every log weight overflowed: the far limit, which always has weight.
                    var w = keys.elements.withUnsafeBufferPointer { problem.farLimitWeights(query: $0.baseAddress! + i * keys.columns, excluding: i) }
                    if let weights { w = zip(w, weights).map(*) }
                    f = zip(w, targets).reduce(0) { $0 + ($1.0 > 0 ? $1.0 * $1.1 : 0) } / w.reduce(0, +)
                } else {
                    switch emptyPolicy {
                    case .nan, .error: return .infinity
                    case .mean: f = SampleWeights.weightedMean(y, s)
                    case .nearest:
                        f = targets[keys.elements.withUnsafeBufferPointer { problem.nearestKey(to: $0.baseAddress! + i * keys.columns, excluding: i) }]
                    }
                }
            }
            let s = weights?[i] ?? 1
            total += s * (targets[i] - f) * (targets[i] - f)
            weightTotal += s
        }
        return total.isNaN ? .infinity : total / weightTotal
    }

    /// The widths minimising CV, searched globally, then refined:
    ///
    /// 1. a log-spaced scan of a common factor on Scott's widths over [10⁻³, 10²]: 24 points, a
    ///    factor 1.65 apart, for kernels with infinite support (their CV curves are smooth in
    ///    log h, the basins wider than that); 64 points for compact kernels, whose curves kink
    ///    wherever a neighbour enters a support;
    /// 2. Brent's method on log h inside the bracket of *every* local minimum of the scan; the
    ///    best of those;
    /// 3. for d > 1, per-feature widths: for the Gaussian, quasi-Newton (BFGS) steps on log h with
    ///    the analytic gradient ∂CV/∂log hₖ = −(2/Σs) wₖ ∂L/∂wₖ from the leave-one-out moments; for
    ///    other kernels, coordinate sweeps (a 9-point scan over [h/4, 4h] and Brent per feature).
    ///
    /// - Parameter progress: called after every evaluation of CV with the count so far and the
    ///   best score yet (for a progress line; the library never prints).
    /// - Returns: the widths and CV at them.
    /// - Throws: ``NadarayaWatsonError`` for fewer than 2 points, constant features, or when no
    ///   width gives a finite score.
    /// - Complexity: about 24 (compact: 64) + 12·(local minima) evaluations of ``score(keys:targets:bandwidths:)``,
    ///   each O(n²·d), plus for d > 1 at most 40 gradient evaluations (Gaussian) or 3·d·25 scores.
    public func select(keys: Matrix, targets: [Double], sampleWeights: [Double]? = nil,
                       progress: (_ evaluations: Int, _ best: Double) -> Void = { _, _ in })
        throws -> (bandwidths: [Double], score: Double) {
        let kept = try SampleWeights(sampleWeights, count: keys.rows)
        let weights = kept.weights, keys = kept.select(keys), targets = kept.select(targets)
        let scale = Statistics.normalizingScale(targets)
        if scale != 1 {
            // The minimiser does not change when y is divided by 2ᵏ (exact); CV scales by 2²ᵏ.
            let selected = try select(keys: keys, targets: targets.map { $0 / scale }, sampleWeights: weights) {
                progress($0, $1 * scale * scale)
            }
            return (selected.bandwidths, selected.score * scale * scale)
        }
        let base = kernel == .dot ? Kernel.dotStartWidths(for: keys, weights: weights)
            : try BandwidthRule.scott.bandwidths(for: keys, weights: weights)
        // Tied keys merged once for the whole search; the rows' score where the merge declines.
        let groups = compressesTies ? TiedKeys(keys: keys, targets: targets, weights: weights) : nil
        var rows = self
        rows.compressesTies = false
        let threads = self.threads ?? Parallel.defaultThreads
        let score = { (h: [Double]) -> Double in
            groups.flatMap { tiedScore($0, bandwidths: h, threads: threads) }
                ?? (try? rows.score(keys: keys, targets: targets, bandwidths: h, sampleWeights: weights)) ?? .infinity
        }
        let gradient = { (h: [Double]) in
            Self.gaussianScoreAndGradient(keys: keys, targets: targets, bandwidths: h, sampleWeights: weights, threads: threads)
        }
        return try search(start: base, score: score, scoreAndGradient: gradient, progress: progress)
    }

    /// ``select(keys:targets:sampleWeights:progress:)``'s search over any evaluation of CV: the
    /// same steps from Scott's widths (or the dot kernel's start), for data this process does not
    /// hold whole (key shards on other processes, whose leave-one-out states are merged).
    ///
    /// - Parameters:
    ///   - start: the widths the common factor scales (one per feature).
    ///   - score: CV(h).
    ///   - scoreAndGradient: CV(h) and ∂CV/∂log hₖ, used for the Gaussian of degree 0 with d > 1
    ///     (BFGS); without it, or for other estimators, coordinate sweeps.
    ///   - progress: as for `select`.
    /// - Returns: the widths and CV at them.
    /// - Throws: ``NadarayaWatsonError/invalidArgument(_:)`` when no width gives a finite score.
    public func search(start base: [Double], score: ([Double]) -> Double,
                       scoreAndGradient: (([Double]) -> (score: Double, gradient: [Double]))?,
                       progress: (_ evaluations: Int, _ best: Double) -> Void = { _, _ in })
        throws -> (bandwidths: [Double], score: Double) {
        let d = base.count
        var evaluations = 0, bestSeen = Double.infinity
        func cv(_ h: [Double]) -> Double {
            let value = score(h)
            evaluations += 1
            bestSeen = Swift.min(bestSeen, value)
            progress(evaluations, bestSeen)
            return value
        }

        // 1–2. Common factor on Scott's widths.
        // Compact kernels' CV curves have a kink wherever a neighbour enters a support, and narrow
        // local minima between kinks: they get a finer scan.
        let points = kernel.isCompact ? 64 : 24
        let ln10 = 2.302585092994046
        let logFactors: [Double] = (0..<points).map { (i: Int) -> Double in -3 * ln10 + 5 * ln10 * Double(i) / Double(points - 1) }
        let common = { (x: Double) in cv(base.map { $0 * Double.exp(x) }) }
        guard let best = Self.refineLocalMinima(logFactors, logFactors.map(common), common), best.value.isFinite else {
            throw NadarayaWatsonError.invalidArgument("cross-validation found no width with a finite score (every width leaves some point without neighbours)")
        }
        var h = base.map { $0 * Double.exp(best.x) }
        var bestScore = best.value
        // The dot kernel's one temperature is the common factor: no per-feature widths.
        guard d > 1, kernel != .dot else { return (h, bestScore) }

        // 3. Per-feature widths.
        if kernel == .gaussian && degree == 0, let scoreAndGradient {
            (h, bestScore) = quasiNewton(from: h, score: bestScore, scoreAndGradient: scoreAndGradient) {
                evaluations += 1
                bestSeen = Swift.min(bestSeen, $0)
                progress(evaluations, bestSeen)
            }
            return (h, bestScore)
        }
        for _ in 0..<3 {
            let before = bestScore
            for k in 0..<d {
                let logCurrent = Double.log(h[k])
                let grid = (0..<9).map { logCurrent + Double.log(4) * Double($0 - 4) / 4 }
                let along = { [h] (x: Double) -> Double in var t = h; t[k] = Double.exp(x); return cv(t) }
                if let refined = Self.refineLocalMinima(grid, grid.map(along), along), refined.value < bestScore {
                    bestScore = refined.value
                    h[k] = Double.exp(refined.x)
                }
            }
            if bestScore >= before * (1 - 1e-10) { break }
        }
        return (h, bestScore)
    }

    /// The Gaussian CV score (radial = product) and its gradient ∂CV/∂log hₖ from parametric
    /// pooling's leave-one-out loss: CV = 2L/Σs with scales w = 1/h, and ∂w/∂log h = −w, so
    /// ∂CV/∂log hₖ = −(2/Σs)·wₖ·∂L/∂wₖ.
    ///
    /// - Complexity: O(n²·d) time, O(n·d) memory.
    static func gaussianScoreAndGradient(keys: Matrix, targets: [Double], bandwidths h: [Double], sampleWeights: [Double]? = nil,
                                         threads: Int) -> (score: Double, gradient: [Double]) {
        let total = sampleWeights?.reduce(0, +) ?? Double(keys.rows), w = h.map { 1 / $0 }
        let r = GaussianLeaveOneOutLoss.evaluate(keys: keys, targets: targets, scales: w, includeSelf: false,
                                                 sampleWeights: sampleWeights, threads: threads)
        return (2 * r.loss / total, w.indices.map { -2 / total * w[$0] * r.gradient[$0] })
    }

    /// BFGS on log h with the Gaussian leave-one-out gradient and a backtracking (Armijo) line
    /// search; stops when a step gains less than 10⁻⁶ relative (far below the statistical noise of CV), or after 40 gradient evaluations.
    func quasiNewton(from start: [Double], score startScore: Double,
                     scoreAndGradient: ([Double]) -> (score: Double, gradient: [Double]),
                     counted: (Double) -> Void) -> (bandwidths: [Double], score: Double) {
        let d = start.count
        // CV and ∂CV/∂log hₖ at log widths x.
        func evaluate(_ x: [Double]) -> (value: Double, gradient: [Double]) {
            let r = scoreAndGradient(x.map { Double.exp($0) })
            counted(r.score)
            guard r.score.isFinite, r.gradient.allSatisfy(\.isFinite) else { return (.infinity, Array(repeating: 0, count: d)) }
            return (r.score, r.gradient)
        }
        var x = start.map { Double.log($0) }
        var (f, g) = evaluate(x)
        var bestX = x, bestF = Swift.min(f, startScore)
        if startScore < f { bestX = x }
        // Inverse Hessian approximation, starting as the identity scaled to a unit-sized first step.
        var H = (0..<d).map { i in (0..<d).map { j in i == j ? 1.0 : 0.0 } }
        let gradientNorm = g.map { $0 * $0 }.reduce(0, +).squareRoot()
        if gradientNorm > 0 { H = H.map { $0.map { $0 * Swift.min(1, 0.5 / gradientNorm) } } }
        var budget = 40, firstStep = true
        while budget > 0 {
            let direction = (0..<d).map { i in -(0..<d).map { j in H[i][j] * g[j] }.reduce(0, +) }
            let slope = zip(direction, g).map(*).reduce(0, +)
            guard slope < 0 else { break }
            var step = 1.0, accepted: (x: [Double], f: Double, g: [Double])?
            while budget > 0 && step > 1e-6 {
                let candidate = zip(x, direction).map { $0 + step * $1 }
                let (fc, gc) = evaluate(candidate)
                budget -= 1
                if fc <= f + 1e-4 * step * slope {
                    accepted = (candidate, fc, gc)
                    break
                }
                step /= 4
            }
            guard let next = accepted else { break }
            let s = zip(next.x, x).map(-), y = zip(next.g, g).map(-)
            let sy = zip(s, y).map(*).reduce(0, +)
            let gain = f - next.f
            (x, f, g) = (next.x, next.f, next.g)
            if f < bestF { (bestX, bestF) = (x, f) }
            if sy > 1e-300 && firstStep {
                // Before the first update, scale H to the curvature just seen (Nocedal & Wright, 6.20).
                let yy = y.map { $0 * $0 }.reduce(0, +)
                H = (0..<d).map { i in (0..<d).map { j in i == j ? sy / yy : 0 } }
            }
            firstStep = false
            if sy > 1e-300 {
                // H ← (I − ρ s yᵀ) H (I − ρ y sᵀ) + ρ s sᵀ.
                let rho = 1 / sy
                let Hy = (0..<d).map { i in (0..<d).map { j in H[i][j] * y[j] }.reduce(0, +) }
                let yHy = zip(y, Hy).map(*).reduce(0, +)
                for i in 0..<d {
                    for j in 0..<d {
                        H[i][j] += -rho * (s[i] * Hy[j] + Hy[i] * s[j]) + (rho * rho * yHy + rho) * s[i] * s[j]
                    }
                }
            }
            if gain <= 1e-6 * Swift.abs(f) { break }
        }
        if startScore <= bestF { return (start, startScore) }
        return (bestX.map { Double.exp($0) }, bestF)
    }

    /// Brent's method inside the bracket of every local minimum of a scan (`values[i] = f(xs[i])`,
    /// xs ascending); the best point found, or nil when no value is finite.
    static func refineLocalMinima(_ xs: [Double], _ values: [Double], tolerance: Double = 1e-6,
                                  _ f: (Double) -> Double) -> (x: Double, value: Double)? {
        var best: (x: Double, value: Double)?
        for i in values.indices where values[i].isFinite {
            let left = i > 0 ? values[i - 1] : .infinity, right = i + 1 < values.count ? values[i + 1] : .infinity
            guard values[i] <= left && values[i] <= right else { continue }
            let refined = brent(lo: xs[Swift.max(0, i - 1)], guess: xs[i], hi: xs[Swift.min(xs.count - 1, i + 1)], guessValue: values[i],
                                tolerance: tolerance, f)
            if refined.value < (best?.value ?? .infinity) { best = refined }
        }
        return best
    }

    /// Brent's minimisation (golden section with parabolic steps) of f on [lo, hi], starting at
    /// `guess` (with f(guess) = guessValue); stops when x is known to 10⁻⁶·max(1, |x|).
    /// Returns the best point seen, the ends' values not evaluated.
    static func brent(lo: Double, guess: Double, hi: Double, guessValue: Double, tolerance: Double = 1e-6,
                      _ f: (Double) -> Double) -> (x: Double, value: Double) {
        let golden = 0.3819660112501051
        var a = Swift.min(lo, hi), b = Swift.max(lo, hi)
        var x = guess, w = guess, v = guess
        var fx = guessValue, fw = guessValue, fv = guessValue
        var d = 0.0, e = 0.0
        for _ in 0..<100 {
            let middle = (a + b) / 2
            // x is log h: 10⁻⁶ is a relative precision of 10⁻⁶ in h, where CV, quadratic at its
            // minimum, is flat to ~10⁻¹² relative; a finer bracket only chases rounding noise.
            let tol = tolerance * Swift.max(1, Swift.abs(x)), tol2 = 2 * tol
            if Swift.abs(x - middle) <= tol2 - (b - a) / 2 { break }
            var parabolic = false
            if Swift.abs(e) > tol {
                var r = (x - w) * (fx - fv), q = (x - v) * (fx - fw)
                var p = (x - v) * q - (x - w) * r
                q = 2 * (q - r)
                if q > 0 { p = -p } else { q = -q }
                r = e
                if Swift.abs(p) < Swift.abs(q * r / 2) && p > q * (a - x) && p < q * (b - x) {
                    e = d
                    d = p / q
                    let u = x + d
                    if u - a < tol2 || b - u < tol2 { d = middle >= x ? tol : -tol }
                    parabolic = true
                }
            }
            if !parabolic {
                e = (x >= middle ? a : b) - x
                d = golden * e
            }
            let u = Swift.abs(d) >= tol ? x + d : x + (d >= 0 ? tol : -tol)
            let fu = f(u)
            if fu <= fx {
                if u >= x { a = x } else { b = x }
                (v, fv, w, fw, x, fx) = (w, fw, x, fx, u, fu)
            } else {
                if u < x { a = u } else { b = u }
                if fu <= fw || w == x {
                    (v, fv, w, fw) = (w, fw, u, fu)
                } else if fu <= fv || v == x || v == w {
                    (v, fv) = (u, fu)
                }
            }
        }
        return (x, fx)
    }
}
