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
// 3. Memory traffic: keys in tiles sized for L2, each tile visited by a block of queries whose
//    states (running minimum and sums, per lane) carry across tiles; all cores over query
//    blocks; identical results whatever the thread count (each query sums its keys in order).

/// The Gaussian kernel-moment engine on SIMD registers.
enum GaussianMoments {
    typealias V = SIMD8<Double>
    static let unit = (1.4426950408889634 / 2).squareRoot()
    /// Bytes of keys, values and weights per tile: half of a 512 KiB L2, the smallest here.
    static let tileBytes = 256 * 1024

    static func states(_ problem: MomentProblem, queries: Matrix, threads: Int) -> MomentStates {
        let set = problem.moments, M = set.count, m = queries.rows, d = queries.columns
        precondition(!set.scores, "the Gaussian's scores are its degree-1 monomials: ask for those")
        precondition(set.responseWidth == 1 && problem.attention.values.width == 1,
                     "the SIMD moments carry one target, but the response width is \(set.responseWidth)")
        // αᵖ of the Gaussian is the Gaussian of width h/√p: the layout takes those widths, and the
        // monomials of u = (k − q)/h are δ/(√p·unit).
        let attention = problem.kernelPower == 1 ? problem.attention
            : AttentionProblem(kernel: .gaussian, form: problem.attention.form, keys: problem.attention.keys,
                               bandwidths: problem.attention.bandwidths.map { $0 / problem.kernelPower.squareRoot() },
                               values: problem.attention.values)
        let layout = GaussianEngine.Layout<Double>(attention, lanes: V.scalarCount)
        defer { layout.deallocate() }
        var result = MomentStates(queries: m, count: M)
        let windows = SortedWindows(problem, layout: layout, queries: queries)
        guard layout.isFinite else {
            return MomentEngine.plainStates(problem, queries: queries, index: nil, threads: threads, only: nil)
        }
        // Sample weights in the keys' padded layout (1 without weights; 0 on padding lanes).
        let weights = UnsafeMutableBufferPointer<Double>.allocate(capacity: layout.stride)
        defer { weights.deallocate() }
        weights.initialize(repeating: 0)
        for k in 0..<layout.n { weights[k] = problem.logWeights.map { Double.exp($0[k]) } ?? 1 }
        let context = Context(layout: layout, weights: UnsafePointer(weights.baseAddress!), set: set,
                              weighted: problem.logWeights != nil, unit: unit * problem.kernelPower.squareRoot())
        let G = set.designCount, p = set.responseCount, S = 1 + G + p
        let W = V.scalarCount
        let tile = Swift.max(64, tileBytes / ((d + 2) * MemoryLayout<Double>.size) / W * W)
        result.shifts.withUnsafeMutableBufferPointer { shiftBuffer in
            result.sums.withUnsafeMutableBufferPointer { sumBuffer in
                let shifts = SharedOutput(base: shiftBuffer.baseAddress!), sums = SharedOutput(base: sumBuffer.baseAddress!)
                queries.elements.withUnsafeBufferPointer { qs in
                    let queryBase = SharedOutput(base: UnsafeMutablePointer(mutating: qs.baseAddress!))
                    Parallel.forEachBlock(count: m, blockSize: MomentEngine.queriesPerBlock, threads: threads) { range in
                        let count = range.count
                        let q = UnsafeMutablePointer<Double>.allocate(capacity: count * d)
                        let state = UnsafeMutablePointer<V>.allocate(capacity: count * S)
                        defer { q.deallocate(); state.deallocate() }
                        for (slot, i) in range.enumerated() {
                            for j in 0..<d { q[slot * d + j] = (queryBase.base[i * d + j] - layout.center[j]) * layout.scale[j] }
                            state[slot * S] = V(repeating: .greatestFiniteMagnitude)
                            (state + slot * S + 1).initialize(repeating: .zero, count: G + p)
                        }
                        let visited = windows?.keys(for: range) ?? 0..<layout.stride
                        var start = visited.lowerBound
                        while start < visited.upperBound {
                            let keys = start..<Swift.min(start + tile, visited.upperBound)
                            for (slot, i) in range.enumerated() {
                                let query = UnsafePointer(q + slot * d), st = state + slot * S
                                let skip = problem.leaveOneOut ? i : -1
                                if set.monomials.squaresOnly {
                                    context.squares(query, keys: keys, excluding: skip, state: st)
                                    continue
                                }
                                switch (d, set.degree) {
                                case (1, 0): context.powers(query[0], Fixed<1>.self, Fixed<1>.self, keys: keys, excluding: skip, state: st)
                                case (1, 1): context.powers(query[0], Fixed<3>.self, Fixed<2>.self, keys: keys, excluding: skip, state: st)
                                case (1, 2): context.powers(query[0], Fixed<5>.self, Fixed<3>.self, keys: keys, excluding: skip, state: st)
                                case (1, 3): context.powers(query[0], Fixed<7>.self, Fixed<4>.self, keys: keys, excluding: skip, state: st)
                                case (2, 1): context.linear(query, Fixed<2>.self, Fixed<6>.self, Fixed<3>.self, keys: keys, excluding: skip, state: st)
                                case (3, 1): context.linear(query, Fixed<3>.self, Fixed<10>.self, Fixed<4>.self, keys: keys, excluding: skip, state: st)
                                case (4, 1): context.linear(query, Fixed<4>.self, Fixed<15>.self, Fixed<5>.self, keys: keys, excluding: skip, state: st)
                                default: context.general(query, keys: keys, excluding: skip, state: st)
                                }
                            }
                            start = keys.upperBound
                        }
                        for (slot, i) in range.enumerated() {
                            let out = sums.base + i * M
                            let smallest = context.reduce(state + slot * S, into: out)
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

    /// Leave-one-out in 1-D on keys sorted ascending (as cross-validation passes them): each
    /// block of points visits only the keys that can carry weight. With a = Δ′² the negative
    /// base-2 log weight in the layout's units and aₙₙ that of the point's nearest other key, a
    /// key with a > aₙₙ + 1100 + log₂(max s / min s) has weight below 2⁻¹¹⁰⁰ of the largest, and
    /// its moments (|u|ᵍ·|y| far below 2¹⁰⁰⁰ in any sane problem) change no sum by an ulp:
    /// skipping it turns O(n²) into O(n · neighbours) at the narrow widths of a CV scan.
    struct SortedWindows: @unchecked Sendable {
        let x: UnsafeMutableBufferPointer<Double>
        let n: Int, stride: Int, slack: Double

        init?(_ problem: MomentProblem, layout: GaussianEngine.Layout<Double>, queries: Matrix) {
            guard problem.leaveOneOut, layout.d == 1, layout.isFinite, layout.n >= 2 else { return nil }
            let x = layout.keys
            guard (1..<layout.n).allSatisfy({ x[$0 - 1] <= x[$0] }) else { return nil }
            var slack = 1100.0
            if let w = problem.logWeights, let lo = w.min(), let hi = w.max() { slack += (hi - lo) * 1.4426950408889634 }
            guard slack.isFinite else { return nil }
            (self.x, n, stride, self.slack) = (x, layout.n, layout.stride, slack)
        }

        /// The key vectors (bounds multiples of W) the points of `range` must visit.
        func keys(for range: Range<Int>) -> Range<Int> {
            let W = V.scalarCount
            var lo = Double.infinity, hi = -Double.infinity
            for i in range {
                var nearest = Double.infinity
                if i > 0 { nearest = x[i] - x[i - 1] }
                if i + 1 < n { nearest = Swift.min(nearest, x[i + 1] - x[i]) }
                let radius = (slack + nearest * nearest).squareRoot()
                lo = Swift.min(lo, x[i] - radius)
                hi = Swift.max(hi, x[i] + radius)
            }
            guard lo.isFinite, hi.isFinite else { return 0..<stride }
            let first = GaussianEngine.lowerBound(x, n, lo) / W * W
            let last = Swift.min(stride, (GaussianEngine.lowerBound(x, n, hi.nextUp) + W - 1) / W * W)
            return first..<Swift.max(last, Swift.min(stride, first + W))
        }
    }

    /// A compile-time count for the unrolled kernels.
    enum Fixed<let N: Int> {}

    /// The keys, weights and moment set the kernels read. A query's state is 1 + G + p vectors:
    /// the running minimum of a per lane, the G design sums, the p response sums.
    struct Context: @unchecked Sendable {
        let layout: GaussianEngine.Layout<Double>
        let weights: UnsafePointer<Double>
        let set: MomentSet
        let weighted: Bool
        /// What one unit of u = (k − q)/h is in the layout's coordinates.
        let unit: Double

        /// Divides each sum of δᵍ by unit^|g|, turning it into the sum of uᵍ.
        func unscale(_ out: UnsafeMutablePointer<Double>) {
            let monomials = set.monomials, G = set.designCount, p = set.responseCount
            for g in 0..<G { out[g] /= Double.pow(unit, monomials.exponents[g].reduce(0, +)) }
            for r in 0..<p { out[G + r] /= Double.pow(unit, monomials.exponents[r].reduce(0, +)) }
        }

        /// The lanes of a state relative to its smallest minimum, into `out` (G + p sums); returns
        /// that minimum (+∞ when no key had weight).
        func reduce(_ state: UnsafeMutablePointer<V>, into out: UnsafeMutablePointer<Double>) -> Double {
            let minimum = state[0], count = set.designCount + set.responseCount
            let smallest = minimum.min()
            guard smallest < .greatestFiniteMagnitude else { return .infinity }
            var factors = V.zero
            for lane in 0..<V.scalarCount where minimum[lane] < .greatestFiniteMagnitude {
                factors[lane] = Double.exp2(smallest - minimum[lane])
            }
            for c in 0..<count { out[c] = (state[1 + c] * factors).sum() }
            return smallest
        }

        /// The lane-wise merge of a tile's minimum into a state (``MomentState/merge(_:_:)`` in
        /// base 2, per lane): the state's new minimum and the factors for its old sums and the tile's.
        @inline(__always)
        static func merge(into state: UnsafeMutablePointer<V>, _ minimum: V) -> (old: V, new: V) {
            let combined = V.minimum(state[0], minimum)
            let factors = (V.exp2NonPositive(combined - state[0]), V.exp2NonPositive(combined - minimum))
            state[0] = combined
            return factors
        }

        /// The lanes of keys k…k+7 that are padding (at +∞) or the excluded key (leave-one-out):
        /// they get weight 0 and δ 0, so that neither moves the minimum nor makes 0·∞.
        @inline(__always)
        func mask(at k: Int, excluding excluded: Int) -> SIMDMask<SIMD8<Int64>>? {
            guard k &+ V.scalarCount > layout.n || (k <= excluded && excluded < k &+ V.scalarCount) else { return nil }
            let index = SIMD8<Int64>(0, 1, 2, 3, 4, 5, 6, 7) &+ SIMD8(repeating: Int64(k))
            return (index .>= SIMD8(repeating: Int64(layout.n))) .| (index .== SIMD8(repeating: Int64(excluded)))
        }

        /// 1-D, degree P − 1: design sums of δ⁰…δ^{G−1} (G = 2P − 1) and response sums of
        /// y·δ⁰…y·δ^{P−1}, in registers over the tile; two passes per chunk of keys as in
        /// ``linear(_:_:_:_:keys:excluding:state:)``. The two kernels repeat their pass 1 and
        /// merge on purpose: factored into shared inlined helpers (or one generic driver over an
        /// accumulator protocol) degree 1 at d = 4 measured 20–40% slower, side by side.
        @inline(__always)
        func powers<let G: Int, let P: Int>(_ q: Double, _: Fixed<G>.Type, _: Fixed<P>.Type, keys: Range<Int>,
                                           excluding excluded: Int, state: UnsafeMutablePointer<V>) {
            let x = layout.keys.baseAddress!, y = layout.values.baseAddress!
            let n = layout.n, weighted = self.weighted, w = weights
            let qv = V(repeating: q)
            let chunk = 16
            var e = InlineArray<16, V>(repeating: .zero)
            var minimum = V(repeating: .greatestFiniteMagnitude)
            var design = InlineArray<G, V>(repeating: .zero), response = InlineArray<P, V>(repeating: .zero)
            var start = keys.lowerBound
            while start < keys.upperBound {
                let count = Swift.min(chunk, (keys.upperBound &- start) / V.scalarCount)
                var chunkMinimum = minimum
                for c in 0..<count {
                    let k = start &+ c &* V.scalarCount
                    let delta = UnsafeRawPointer(x + k).loadUnaligned(as: V.self) - qv
                    var a = delta * delta
                    if k &+ V.scalarCount > n || (k <= excluded && excluded < k &+ V.scalarCount) {
                        let index = SIMD8<Int64>(0, 1, 2, 3, 4, 5, 6, 7) &+ SIMD8(repeating: Int64(k))
                        a.replace(with: .infinity, where: (index .>= SIMD8(repeating: Int64(n))) .| (index .== SIMD8(repeating: Int64(excluded))))
                    }
                    e[c] = a
                    chunkMinimum = V.minimum(chunkMinimum, a)
                }
                if anyLane(chunkMinimum .< minimum) {
                    let factor = V.exp2NonPositive(chunkMinimum - minimum)
                    for g in 0..<G { design[g] *= factor }
                    for r in 0..<P { response[r] *= factor }
                    minimum = chunkMinimum
                }
                for c in 0..<count {
                    var weight = V.exp2NonPositive(minimum - e[c])
                    if weighted { weight *= UnsafeRawPointer(w + (start &+ c &* V.scalarCount)).loadUnaligned(as: V.self) }
                    e[c] = weight
                }
                for c in 0..<count {
                    let k = start &+ c &* V.scalarCount
                    var delta = UnsafeRawPointer(x + k).loadUnaligned(as: V.self) - qv
                    if k &+ V.scalarCount > n {
                        let index = SIMD8<Int64>(0, 1, 2, 3, 4, 5, 6, 7) &+ SIMD8(repeating: Int64(k))
                        delta.replace(with: 0, where: index .>= SIMD8(repeating: Int64(n)))
                    }
                    let yk = UnsafeRawPointer(y + k).loadUnaligned(as: V.self)
                    var t = e[c]
                    for g in 0..<G {
                        design[g] += t
                        if g < P { response[g] = response[g].addingProduct(t, yk) }
                        if g + 1 < G { t *= delta }
                    }
                }
                start &+= count &* V.scalarCount
            }
            let (old, new) = Context.merge(into: state, minimum)
            for g in 0..<G { state[1 &+ g] = state[1 &+ g] * old + design[g] * new }
            for e in 0..<P { state[1 &+ G &+ e] = state[1 &+ G &+ e] * old + response[e] * new }
        }

        /// Degree 1 in D = 2…4 features (G = 1 + D + D(D+1)/2 design monomials, P = 1 + D basis
        /// ones): the monomials 1, δⱼ, δᵢδⱼ (i ≤ j) in the order of ``Monomials``. Two passes per
        /// chunk of keys, so that neither spills registers: the distances, the chunk's minimum and
        /// the exp2 weights (whose polynomial wants registers for its constants) into an L1
        /// buffer; then the G + P accumulators, all in registers, from the weights and δ again.
        @inline(__always)
        func linear<let D: Int, let G: Int, let P: Int>(_ q: UnsafePointer<Double>, _: Fixed<D>.Type, _: Fixed<G>.Type,
                                                       _: Fixed<P>.Type, keys: Range<Int>, excluding excluded: Int,
                                                       state: UnsafeMutablePointer<V>) {
            let stride = layout.stride, x = layout.keys.baseAddress!, y = layout.values.baseAddress!
            let n = layout.n, weighted = self.weighted, w = weights
            let chunk = 16
            var e = InlineArray<16, V>(repeating: .zero)
            // The tile's own sums from zero (registers), merged into the state at the end.
            var minimum = V(repeating: .greatestFiniteMagnitude)
            var design = InlineArray<G, V>(repeating: .zero), response = InlineArray<P, V>(repeating: .zero)
            var start = keys.lowerBound
            while start < keys.upperBound {
                let count = Swift.min(chunk, (keys.upperBound &- start) / V.scalarCount)
                // Pass 1: a = ‖δ‖² (padding and the excluded key at +∞), the chunk's minimum.
                var chunkMinimum = minimum
                for c in 0..<count {
                    let k = start &+ c &* V.scalarCount
                    var a = V.zero
                    for j in 0..<D {
                        let dj = UnsafeRawPointer(x + (j &* stride &+ k)).loadUnaligned(as: V.self) - V(repeating: q[j])
                        a = a.addingProduct(dj, dj)
                    }
                    if k &+ V.scalarCount > n || (k <= excluded && excluded < k &+ V.scalarCount) {
                        let index = SIMD8<Int64>(0, 1, 2, 3, 4, 5, 6, 7) &+ SIMD8(repeating: Int64(k))
                        a.replace(with: .infinity, where: (index .>= SIMD8(repeating: Int64(n))) .| (index .== SIMD8(repeating: Int64(excluded))))
                    }
                    e[c] = a
                    chunkMinimum = V.minimum(chunkMinimum, a)
                }
                if anyLane(chunkMinimum .< minimum) {
                    let factor = V.exp2NonPositive(chunkMinimum - minimum)
                    for g in 0..<G { design[g] *= factor }
                    for r in 0..<P { response[r] *= factor }
                    minimum = chunkMinimum
                }
                for c in 0..<count {
                    var weight = V.exp2NonPositive(minimum - e[c])
                    if weighted { weight *= UnsafeRawPointer(w + (start &+ c &* V.scalarCount)).loadUnaligned(as: V.self) }
                    e[c] = weight
                }
                // Pass 2: the moments. Padding keys have δ = ∞ and weight 0: δ is zeroed there.
                for c in 0..<count {
                    let k = start &+ c &* V.scalarCount
                    let weight = e[c]
                    let yk = UnsafeRawPointer(y + k).loadUnaligned(as: V.self)
                    var delta = InlineArray<D, V>(repeating: .zero)
                    for j in 0..<D {
                        delta[j] = UnsafeRawPointer(x + (j &* stride &+ k)).loadUnaligned(as: V.self) - V(repeating: q[j])
                    }
                    if k &+ V.scalarCount > n {
                        let index = SIMD8<Int64>(0, 1, 2, 3, 4, 5, 6, 7) &+ SIMD8(repeating: Int64(k))
                        for j in 0..<D { delta[j].replace(with: 0, where: index .>= SIMD8(repeating: Int64(n))) }
                    }
                    design[0] += weight
                    response[0] = response[0].addingProduct(weight, yk)
                    var g = 1 &+ D
                    for i in 0..<D {
                        let ti = weight * delta[i]
                        design[1 &+ i] += ti
                        response[1 &+ i] = response[1 &+ i].addingProduct(ti, yk)
                        for j in i..<D {
                            design[g] = design[g].addingProduct(ti, delta[j])
                            g &+= 1
                        }
                    }
                }
                start &+= count &* V.scalarCount
            }
            let (old, new) = Context.merge(into: state, minimum)
            for g in 0..<G { state[1 &+ g] = state[1 &+ g] * old + design[g] * new }
            for e in 0..<P { state[1 &+ G &+ e] = state[1 &+ G &+ e] * old + response[e] * new }
        }

        /// One key vector's weights e = 2^{m − a} relative to the running minimum m (padding and
        /// the excluded key 0), rescaling the state's `count` sums when a lane finds a new
        /// minimum; the offsets δⱼ (or, `squared`, δⱼ²) into `offsets`, 0 on masked lanes. The
        /// step both state-in-memory kernels share.
        @inline(__always)
        func keyWeights(_ q: UnsafePointer<Double>, at k: Int, excluding excluded: Int, squared: Bool,
                        offsets: UnsafeMutablePointer<V>, minimum: inout V, sums: UnsafeMutablePointer<V>, count: Int) -> V {
            let d = layout.d, stride = layout.stride, x = layout.keys.baseAddress!
            var a = V.zero
            for j in 0..<d {
                let dj = UnsafeRawPointer(x + (j &* stride &+ k)).loadUnaligned(as: V.self) - V(repeating: q[j])
                offsets[j] = squared ? dj * dj : dj
                a = a.addingProduct(dj, dj)
            }
            let mask = self.mask(at: k, excluding: excluded)
            if let mask {
                a.replace(with: .infinity, where: mask)
                for j in 0..<d { offsets[j].replace(with: 0, where: mask) }
            }
            if anyLane(a .< minimum) {
                let newMinimum = V.minimum(a, minimum)
                let factor = V.exp2NonPositive(newMinimum - minimum)
                for c in 0..<count { sums[c] *= factor }
                minimum = newMinimum
            }
            var e = V.exp2NonPositive(minimum - a)
            if weighted { e *= UnsafeRawPointer(weights + k).loadUnaligned(as: V.self) }
            if let mask { e.replace(with: 0, where: mask) }
            return e
        }

        /// The squares set (``MomentSet/squares(dimension:)``), any d: S, Σ e·δⱼ², T, Σ e·y·δⱼ²
        /// with the state in memory (L1) and δⱼ² kept from the distance for the moments.
        func squares(_ q: UnsafePointer<Double>, keys: Range<Int>, excluding excluded: Int, state: UnsafeMutablePointer<V>) {
            let d = layout.d, y = layout.values.baseAddress!
            let squared = UnsafeMutablePointer<V>.allocate(capacity: d)
            defer { squared.deallocate() }
            let design = state + 1, response = state + 2 + d
            var minimum = state[0]
            var k = keys.lowerBound
            while k < keys.upperBound {
                let e = keyWeights(q, at: k, excluding: excluded, squared: true, offsets: squared, minimum: &minimum,
                                   sums: design, count: 2 * (d + 1))
                let ey = e * UnsafeRawPointer(y + k).loadUnaligned(as: V.self)
                design[0] += e
                response[0] += ey
                for j in 0..<d {
                    design[1 &+ j] = design[1 &+ j].addingProduct(e, squared[j])
                    response[1 &+ j] = response[1 &+ j].addingProduct(ey, squared[j])
                }
                k &+= V.scalarCount
            }
            state[0] = minimum
        }

        /// Any d and degree: δ per feature, the monomials by their recurrence, the state in memory.
        func general(_ q: UnsafePointer<Double>, keys: Range<Int>, excluding excluded: Int, state: UnsafeMutablePointer<V>) {
            let d = layout.d, y = layout.values.baseAddress!
            let monomials = set.monomials, G = set.designCount, p = set.responseCount
            let delta = UnsafeMutablePointer<V>.allocate(capacity: d), t = UnsafeMutablePointer<V>.allocate(capacity: G)
            defer { delta.deallocate(); t.deallocate() }
            let design = state + 1, response = state + 1 + G
            var minimum = state[0]
            var k = keys.lowerBound
            while k < keys.upperBound {
                let e = keyWeights(q, at: k, excluding: excluded, squared: false, offsets: delta, minimum: &minimum,
                                   sums: design, count: G + p)
                t[0] = e
                for g in 1..<G { t[g] = t[monomials.parent[g]] * delta[monomials.variable[g]] }
                let yk = UnsafeRawPointer(y + k).loadUnaligned(as: V.self)
                for g in 0..<G { design[g] += t[g] }
                for r in 0..<p { response[r] = response[r].addingProduct(t[r], yk) }
                k &+= V.scalarCount
            }
            state[0] = minimum
        }
    }
}
