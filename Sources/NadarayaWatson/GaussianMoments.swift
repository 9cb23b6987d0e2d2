import RealModule

// Legend: n keys, m queries, d features, h widths, W = 8 SIMD lanes, a = ‖q′ − k′‖² the negative
// base-2 log weight in the engine's scaled coordinates k′ = (k − c)·√(log₂e/2)/h, δ = k′ − q′
// (so u = (k − q)/h = δ/√(log₂e/2)), G design monomials, p basis monomials.
//
// Implementation goals, in order of priority:
// 1. Exact: a running minimum of a per lane (the online softmax in base 2), rescaling the sums
//    only when a lane finds a new minimum; lanes reduced at the end relative to the smallest.
//    Any query whose sums are not finite, or that found no weight, is redone by the plain engine.
// 2. Fast: the monomials uᵍ come from the δ the distance already needs — in 1-D powers of one
//    δ, unrolled at compile time for degrees 1–3, accumulators in registers; the exp2 (shared
//    by every moment) stays the main cost.
// 3. All cores over query blocks; identical results whatever the thread count.

/// The Gaussian kernel-moment engine on SIMD registers.
enum GaussianMoments {
    typealias V = SIMD8<Double>
    static let unit = (1.4426950408889634 / 2).squareRoot()

    static func states(_ problem: MomentProblem, queries: Matrix, threads: Int) -> MomentStates {
        let set = problem.moments, M = set.count, m = queries.rows, d = queries.columns
        precondition(!set.scores, "the Gaussian's scores are its degree-1 monomials: ask for those")
        let layout = GaussianEngine.Layout<Double>(problem.attention, lanes: V.scalarCount)
        defer { layout.deallocate() }
        var result = MomentStates(queries: m, count: M)
        guard layout.isFinite else {
            return MomentEngine.plainStates(problem, queries: queries, index: nil, threads: threads, only: nil)
        }
        // Sample weights in the keys' padded layout (1 without weights; 0 on padding lanes).
        let weights = UnsafeMutableBufferPointer<Double>.allocate(capacity: layout.stride)
        defer { weights.deallocate() }
        weights.initialize(repeating: 0)
        for k in 0..<layout.n { weights[k] = problem.logWeights.map { Double.exp($0[k]) } ?? 1 }
        let context = Context(layout: layout, weights: UnsafePointer(weights.baseAddress!), set: set)
        result.shifts.withUnsafeMutableBufferPointer { shiftBuffer in
            result.sums.withUnsafeMutableBufferPointer { sumBuffer in
                let shifts = SharedOutput(base: shiftBuffer.baseAddress!), sums = SharedOutput(base: sumBuffer.baseAddress!)
                queries.elements.withUnsafeBufferPointer { qs in
                    let queryBase = SharedOutput(base: UnsafeMutablePointer(mutating: qs.baseAddress!))
                    Parallel.forEachBlock(count: m, blockSize: MomentEngine.queriesPerBlock, threads: threads) { range in
                        let q = UnsafeMutablePointer<Double>.allocate(capacity: d)
                        defer { q.deallocate() }
                        for i in range {
                            for j in 0..<d { q[j] = (queryBase.base[i * d + j] - layout.center[j]) * layout.scale[j] }
                            let out = sums.base + i * M
                            let smallest: Double
                            let excluded = problem.leaveOneOut ? i : -1
                            switch (d, set.degree) {
                            case (1, 0): smallest = context.oneDimensional(q[0], Fixed<1>.self, Fixed<1>.self, excluding: excluded, into: out)
                            case (1, 1): smallest = context.oneDimensional(q[0], Fixed<3>.self, Fixed<2>.self, excluding: excluded, into: out)
                            case (1, 2): smallest = context.oneDimensional(q[0], Fixed<5>.self, Fixed<3>.self, excluding: excluded, into: out)
                            case (1, 3): smallest = context.oneDimensional(q[0], Fixed<7>.self, Fixed<4>.self, excluding: excluded, into: out)
                            default: smallest = context.general(q, excluding: excluded, into: out)
                            }
                            // a is −log₂ α: the natural-log shift is −a·ln 2.
                            shifts.base[i] = smallest < .infinity ? -smallest * 0.6931471805599453 : -.infinity
                            context.unscale(out)
                        }
                    }
                }
            }
        }
        // The queries the fast path cannot vouch for.
        let redo = (0..<m).filter { i in
            result.shifts[i] == -.infinity || !(0..<M).allSatisfy { result.sums[i * M + $0].isFinite }
        }
        if !redo.isEmpty {
            result = MomentEngine.plainStates(problem, queries: queries, index: nil, threads: threads, only: redo, into: result)
        }
        return result
    }

    /// A compile-time count for the unrolled 1-D kernels.
    enum Fixed<let N: Int> {}

    struct Context: @unchecked Sendable {
        let layout: GaussianEngine.Layout<Double>
        let weights: UnsafePointer<Double>
        let set: MomentSet

        /// Divides each sum of δᵍ by unit^|g|, turning it into the sum of uᵍ.
        func unscale(_ out: UnsafeMutablePointer<Double>) {
            let monomials = set.monomials, G = set.designCount, p = set.basisCount(degree: set.degree)
            for g in 0..<G { out[g] /= Double.pow(unit, monomials.exponents[g].reduce(0, +)) }
            for r in 0..<p { out[G + r] /= Double.pow(unit, monomials.exponents[r].reduce(0, +)) }
        }

        /// 1-D, degree P = N/2: design sums of δ⁰…δ²ᴾ (G = 2P + 1) and response sums of y·δ⁰…y·δᴾ
        /// (p = P + 1) in registers. Returns the smallest a (+∞ when no key had weight).
        @inline(__always)
        func oneDimensional<let G: Int, let P: Int>(_ q: Double, _: Fixed<G>.Type, _: Fixed<P>.Type, excluding excluded: Int,
                                                   into out: UnsafeMutablePointer<Double>) -> Double {
            let n = layout.n, x = layout.keys.baseAddress!, y = layout.values.baseAddress!
            let qv = V(repeating: q)
            var minimum = V(repeating: .greatestFiniteMagnitude)
            var design = InlineArray<G, V>(repeating: .zero), response = InlineArray<P, V>(repeating: .zero)
            var k = 0
            while k < layout.stride {
                var delta = UnsafeRawPointer(x + k).loadUnaligned(as: V.self) - qv
                var a = delta * delta
                // The excluded key (leave-one-out) must not move the minimum either.
                let masked = k &+ V.scalarCount > n || (k <= excluded && excluded < k &+ V.scalarCount)
                var mask = SIMDMask<SIMD8<Int64>>(repeating: false)
                if masked {
                    // Padding keys sit at +∞ and the excluded key is left out: weight 0 and δ 0,
                    // so that 0·∞ never appears.
                    let lanes = SIMD8<Int64>(0, 1, 2, 3, 4, 5, 6, 7) &+ SIMD8(repeating: Int64(k))
                    mask = (lanes .>= SIMD8(repeating: Int64(n))) .| (lanes .== SIMD8(repeating: Int64(excluded)))
                    a.replace(with: .infinity, where: mask)
                    delta.replace(with: 0, where: mask)
                }
                if anyLane(a .< minimum) {
                    let newMinimum = V.minimum(a, minimum)
                    let factor = V.exp2NonPositive(newMinimum - minimum)
                    for g in 0..<G { design[g] *= factor }
                    for r in 0..<P { response[r] *= factor }
                    minimum = newMinimum
                }
                var t = V.exp2NonPositive(minimum - a) * UnsafeRawPointer(weights + k).loadUnaligned(as: V.self)
                if masked { t.replace(with: 0, where: mask) }
                let yk = UnsafeRawPointer(y + k).loadUnaligned(as: V.self)
                for g in 0..<G {
                    design[g] += t
                    if g < P { response[g] = response[g].addingProduct(t, yk) }
                    t *= delta
                }
                k &+= V.scalarCount
            }
            return reduce(minimum, design: design, response: response, into: out)
        }

        /// The lanes relative to the smallest minimum, into `out`; returns that minimum.
        @inline(__always)
        func reduce<let G: Int, let P: Int>(_ minimum: V, design: borrowing InlineArray<G, V>,
                                            response: borrowing InlineArray<P, V>, into out: UnsafeMutablePointer<Double>) -> Double {
            let smallest = minimum.min()
            guard smallest < .greatestFiniteMagnitude else { return .infinity }
            var factors = V.zero
            for lane in 0..<V.scalarCount where minimum[lane] < .greatestFiniteMagnitude {
                factors[lane] = Double.exp2(smallest - minimum[lane])
            }
            for g in 0..<G { out[g] = (design[g] * factors).sum() }
            for r in 0..<P { out[G + r] = (response[r] * factors).sum() }
            return smallest
        }

        /// Any d and degree: δ per feature, the monomials by their recurrence, accumulators in
        /// memory.
        func general(_ q: UnsafePointer<Double>, excluding excluded: Int, into out: UnsafeMutablePointer<Double>) -> Double {
            let n = layout.n, d = layout.d, stride = layout.stride
            let x = layout.keys.baseAddress!, y = layout.values.baseAddress!
            let monomials = set.monomials, G = set.designCount, p = set.basisCount(degree: set.degree)
            let delta = UnsafeMutablePointer<V>.allocate(capacity: d)
            let t = UnsafeMutablePointer<V>.allocate(capacity: G)
            let design = UnsafeMutablePointer<V>.allocate(capacity: G), response = UnsafeMutablePointer<V>.allocate(capacity: p)
            defer { delta.deallocate(); t.deallocate(); design.deallocate(); response.deallocate() }
            design.initialize(repeating: .zero, count: G)
            response.initialize(repeating: .zero, count: p)
            var minimum = V(repeating: .greatestFiniteMagnitude)
            var k = 0
            while k < stride {
                var a = V.zero
                for j in 0..<d {
                    let dj = UnsafeRawPointer(x + (j &* stride &+ k)).loadUnaligned(as: V.self) - V(repeating: q[j])
                    delta[j] = dj
                    a = a.addingProduct(dj, dj)
                }
                let masked = k &+ V.scalarCount > n || (k <= excluded && excluded < k &+ V.scalarCount)
                var mask = SIMDMask<SIMD8<Int64>>(repeating: false)
                if masked {
                    let lanes = SIMD8<Int64>(0, 1, 2, 3, 4, 5, 6, 7) &+ SIMD8(repeating: Int64(k))
                    mask = (lanes .>= SIMD8(repeating: Int64(n))) .| (lanes .== SIMD8(repeating: Int64(excluded)))
                    a.replace(with: .infinity, where: mask)
                    for j in 0..<d { delta[j].replace(with: 0, where: mask) }
                }
                if anyLane(a .< minimum) {
                    let newMinimum = V.minimum(a, minimum)
                    let factor = V.exp2NonPositive(newMinimum - minimum)
                    for g in 0..<G { design[g] *= factor }
                    for r in 0..<p { response[r] *= factor }
                    minimum = newMinimum
                }
                var e = V.exp2NonPositive(minimum - a) * UnsafeRawPointer(weights + k).loadUnaligned(as: V.self)
                if masked { e.replace(with: 0, where: mask) }
                t[0] = e
                for g in 1..<G { t[g] = t[monomials.parent[g]] * delta[monomials.variable[g]] }
                let yk = UnsafeRawPointer(y + k).loadUnaligned(as: V.self)
                for g in 0..<G { design[g] += t[g] }
                for r in 0..<p { response[r] = response[r].addingProduct(t[r], yk) }
                k &+= V.scalarCount
            }
            let smallest = minimum.min()
            guard smallest < .greatestFiniteMagnitude else { return .infinity }
            var factors = V.zero
            for lane in 0..<V.scalarCount where minimum[lane] < .greatestFiniteMagnitude {
                factors[lane] = Double.exp2(smallest - minimum[lane])
            }
            for g in 0..<G { out[g] = (design[g] * factors).sum() }
            for r in 0..<p { out[G + r] = (response[r] * factors).sum() }
            return smallest
        }
    }
}
