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
    public var threads: Int?

    public init(kernel: Kernel = .gaussian, form: KernelForm = .radial, emptyPolicy: EmptyNeighbourhoodPolicy = .nan,
                threads: Int? = nil) {
        self.kernel = kernel
        self.form = form
        self.emptyPolicy = emptyPolicy
        self.threads = threads
    }

    /// CV(h) for the given widths (one, or one per feature).
    ///
    /// - Complexity: O(n²·d) time (the Gaussian on SIMD registers), O(n·d) memory.
    public func score(keys: Matrix, targets: [Double], bandwidths: [Double]) throws -> Double {
        let h = try Validation.bandwidths(bandwidths, features: keys.columns)
        let n = keys.rows
        guard n >= 2 else { throw NadarayaWatsonError.notEnoughData(needed: 2, actual: n, reason: "cross-validation") }
        let threads = self.threads ?? Parallel.defaultThreads
        if kernel == .gaussian {
            let r = LeaveOneOutEngine.evaluate(keys: keys, targets: targets, scales: h.map { 1 / $0 }, includeSelf: false,
                                               gradient: false, threads: threads)
            return 2 * r.loss / Double(n)
        }
        let problem = AttentionProblem(kernel: kernel, form: form, keys: keys, bandwidths: h, values: .dense(Matrix(column: targets)))
        var squared = [Double](repeating: 0, count: n)
        let policy = emptyPolicy
        squared.withUnsafeMutableBufferPointer { out in
            let output = SharedOutput(base: out.baseAddress!)
            keys.elements.withUnsafeBufferPointer { xs in
                let base = SharedOutput(base: UnsafeMutablePointer(mutating: xs.baseAddress!))
                Parallel.forEachBlock(count: n, blockSize: 16, threads: threads) { range in
                    for i in range {
                        let q = UnsafePointer(base.base + i * problem.featureCount)
                        let f = Self.leaveOneOut(problem, point: i, query: q, targets: targets, policy: policy)
                        output.base[i] = (targets[i] - f) * (targets[i] - f)
                    }
                }
            }
        }
        let total = squared.reduce(0, +) / Double(n)
        return total.isNaN ? .infinity : total
    }

    /// f₋ᵢ(xᵢ) for a general kernel: the streaming engine's passes with key i excluded (linear
    /// space for compact kernels, redone in log space when tiny), then the empty policy.
    static func leaveOneOut(_ problem: AttentionProblem, point i: Int, query q: UnsafePointer<Double>, targets: [Double],
                            policy: EmptyNeighbourhoodPolicy) -> Double {
        var weighted = 0.0
        var total = problem.kernel.isCompact
            ? StreamingEngine.poolLinear(problem, query: q, into: &weighted, excluding: i)
            : StreamingEngine.poolLogSpace(problem, query: q, into: &weighted, excluding: i)
        if problem.kernel.isCompact && total > 0 && total < StreamingEngine.linearSpaceFloor {
            total = StreamingEngine.poolLogSpace(problem, query: q, into: &weighted, excluding: i)
        }
        if total > 0 { return weighted / total }
        switch policy {
        case .nan, .error: return .nan
        case .mean:
            var sum = 0.0
            for k in 0..<targets.count where k != i { sum += targets[k] }
            return sum / Double(targets.count - 1)
        case .nearest:
            return targets[problem.nearestKey(to: q, excluding: i)]
        }
    }

    /// The widths minimising CV, searched globally: a log-spaced scan of a common factor on
    /// Scott's widths over [10⁻³, 10²] (48 points), a golden-section refinement of log h inside
    /// the bracket of *every* local minimum of the scan, the best of those; then, for d > 1,
    /// coordinate-wise sweeps (a 9-point scan over [h/4, 4h] and a golden refinement per feature).
    ///
    /// - Returns: the widths and CV at them.
    /// - Throws: ``NadarayaWatsonError`` for fewer than 2 points, constant features, or when no
    ///   width gives a finite score.
    /// - Complexity: about 100 + 60·d evaluations of ``score(keys:targets:bandwidths:)``.
    public func select(keys: Matrix, targets: [Double]) throws -> (bandwidths: [Double], score: Double) {
        let d = keys.columns
        let base = try BandwidthRule.scott.bandwidths(for: keys)
        func cv(_ h: [Double]) -> Double { (try? score(keys: keys, targets: targets, bandwidths: h)) ?? .infinity }

        // Common factor on Scott's widths.
        let factors = (0..<48).map { Double.pow(10, -3 + 5 * Double($0) / 47) }
        let scan = factors.map { f in cv(base.map { $0 * f }) }
        var best = (factor: 1.0, score: Double.infinity)
        for i in scan.indices where scan[i].isFinite {
            let left = i > 0 ? scan[i - 1] : .infinity, right = i + 1 < scan.count ? scan[i + 1] : .infinity
            guard scan[i] <= left && scan[i] <= right else { continue }
            let lo = factors[max(0, i - 1)], hi = factors[min(factors.count - 1, i + 1)]
            let refined = Self.goldenSection(lo: Double.log(lo), hi: Double.log(hi)) { x in cv(base.map { $0 * Double.exp(x) }) }
            if refined.value < best.score { best = (Double.exp(refined.x), refined.value) }
        }
        guard best.score.isFinite else {
            throw NadarayaWatsonError.invalidArgument("cross-validation found no width with a finite score (every width leaves some point without neighbours)")
        }
        var h = base.map { $0 * best.factor }
        var bestScore = best.score
        if d > 1 {
            for _ in 0..<3 {
                for k in 0..<d {
                    let current = h[k]
                    let grid = (0..<9).map { current * Double.pow(4, Double($0 - 4) / 4) }
                    let values = grid.map { g -> Double in var t = h; t[k] = g; return cv(t) }
                    for i in values.indices where values[i].isFinite {
                        let left = i > 0 ? values[i - 1] : .infinity, right = i + 1 < values.count ? values[i + 1] : .infinity
                        guard values[i] <= left && values[i] <= right else { continue }
                        let lo = grid[max(0, i - 1)], hi = grid[min(grid.count - 1, i + 1)]
                        let refined = Self.goldenSection(lo: Double.log(lo), hi: Double.log(hi)) { x in
                            var t = h; t[k] = Double.exp(x); return cv(t)
                        }
                        if refined.value < bestScore {
                            bestScore = refined.value
                            h[k] = Double.exp(refined.x)
                        }
                    }
                }
            }
        }
        return (h, bestScore)
    }

    /// Golden-section search for a minimum of f on [lo, hi] (60 steps: the bracket shrinks by
    /// 0.618⁶⁰ ≈ 3·10⁻¹³); returns the best point seen, ends included.
    static func goldenSection(lo: Double, hi: Double, _ f: (Double) -> Double) -> (x: Double, value: Double) {
        let g = (5.0.squareRoot() - 1) / 2
        var a = lo, b = hi
        var c = b - g * (b - a), e = a + g * (b - a)
        var fc = f(c), fe = f(e)
        var best = (x: c, value: fc)
        for _ in 0..<60 {
            if fc < fe {
                b = e; e = c; fe = fc
                c = b - g * (b - a); fc = f(c)
            } else {
                a = c; c = e; fc = fe
                e = a + g * (b - a); fe = f(e)
            }
            if fc < best.value { best = (c, fc) }
            if fe < best.value { best = (e, fe) }
            if (b - a) < 1e-9 * max(1, abs(a)) { break }
        }
        for x in [lo, hi] {
            let v = f(x)
            if v < best.value { best = (x, v) }
        }
        return best
    }
}
