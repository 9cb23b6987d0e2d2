import RealModule

// Legend: n keys, m queries, d features, p value components, h widths (one per feature),
// W SIMD lanes (8 doubles or 16 floats), R = 4 queries per register block.
//
// Implementation goals, in order of priority:
// 1. Exact: the online softmax in base 2 with a running minimum of a = ‖q′ − k′‖² per lane, so
//    no weight underflows relative to the largest; tile sums merged into Float64 state; any
//    query the fast path cannot vouch for (non-finite result, overflowing distances) is redone by
//    the plain streaming engine.
// 2. Memory O((n + m)·d): keys and values once in structure-of-arrays layout, O(W) state per query.
// 3. Fast: keys centred and pre-scaled by √(log₂e / 2) / hⱼ so that a is the negative base-2 log
//    weight with no multiply per pair; R queries share each key load; a polynomial exp2 on whole
//    registers; the rescale of the running sums only when some lane finds a new minimum; key tiles
//    sized for L2; query blocks spread over all cores. No allocation per query.

/// The fused SIMD engine for the Gaussian kernel (radial and product forms are the same kernel).
enum GaussianEngine {
    static let queriesPerBlock = 64

    /// Keys and values in the engine's layout: coordinates (xⱼ − cⱼ)·sⱼ, feature-major with a
    /// row stride that is a multiple of W; padding keys at +∞ distance with value 0.
    struct Layout<Scalar: BinaryFloatingPoint>: @unchecked Sendable {
        let n: Int, d: Int, p: Int, stride: Int
        let keys: UnsafeMutableBufferPointer<Scalar>
        let values: UnsafeMutableBufferPointer<Scalar>
        let center: [Double], scale: [Double]
        /// Whether every scaled key coordinate is finite in `Scalar`. Not so for keys or widths
        /// at the ends of the range (h = 5·10⁻³²⁴ makes the scale ∞; ±1.7·10³⁰⁸ minus a centre
        /// overflows; float32 ends at 3.4·10³⁸): then the engine cannot vouch for any query.
        let isFinite: Bool

        /// - Parameter unit: what one width becomes in the engine's coordinates: √(log₂e / 2) for
        ///   the Gaussian (so that a = ‖q′ − k′‖² is the negative base-2 log weight).
        init(_ problem: AttentionProblem, lanes: Int, unit: Double = (1.4426950408889634 / 2).squareRoot()) {
            let n = problem.keyCount, d = problem.featureCount, p = problem.values.width
            let stride = (n + lanes - 1) / lanes * lanes
            (self.n, self.d, self.p, self.stride) = (n, d, p, stride)
            let x = problem.keys
            // Centred on the median, not the midrange: a stored coordinate carries an absolute
            // error of half an ulp of its magnitude, so the bulk of the keys (where queries and
            // weights are) should sit near 0 even when an outlier stretches the range.
            center = (0..<d).map { j in
                let column = (0..<n).map { x[$0, j] }.sorted()
                return column[n / 2]
            }
            scale = problem.bandwidths.map { unit / $0 }
            let keys = UnsafeMutableBufferPointer<Scalar>.allocate(capacity: d * stride)
            let values = UnsafeMutableBufferPointer<Scalar>.allocate(capacity: p * stride)
            keys.initialize(repeating: Scalar.infinity)
            values.initialize(repeating: 0)
            let (center, scale) = (self.center, self.scale)
            var isFinite = true
            for k in 0..<n {
                for j in 0..<d {
                    let coordinate = Scalar((x[k, j] - center[j]) * scale[j])
                    keys[j * stride + k] = coordinate
                    isFinite = isFinite && coordinate.isFinite
                }
            }
            self.isFinite = isFinite
            (self.keys, self.values) = (keys, values)
            switch problem.values {
            case let .dense(v):
                for k in 0..<n { for c in 0..<p { values[c * stride + k] = Scalar(v[k, c]) } }
            case let .classes(indices, _):
                for k in 0..<n { values[indices[k] * stride + k] = 1 }
            }
        }

        func deallocate() {
            keys.deallocate()
            values.deallocate()
        }

        /// The queries of `range` in the keys' coordinates, padded to a multiple of `R` by
        /// repeating the last: (R·⌈count/R⌉ × d values, that padded count). The caller deallocates.
        func scaledQueries(_ queries: UnsafePointer<Double>, range: Range<Int>, multipleOf R: Int) -> (UnsafeMutablePointer<Scalar>, Int) {
            let padded = (range.count + R - 1) / R * R
            let q = UnsafeMutablePointer<Scalar>.allocate(capacity: padded * d)
            for slot in 0..<padded {
                let i = range.lowerBound + Swift.min(slot, range.count - 1)
                for j in 0..<d { q[slot * d + j] = Scalar((queries[i * d + j] - center[j]) * scale[j]) }
            }
            return (q, padded)
        }
    }

    static func pool(_ problem: AttentionProblem, queries: Matrix, threads: Int, precision: Precision) -> PooledResult {
        var result: PooledResult
        switch precision {
        case .double: result = run(SIMD8<Double>.self, problem, queries, threads)
        case .single: result = run(SIMD16<Float>.self, problem, queries, threads)
        }
        StreamingEngine.redoInLogSpace(problem, queries: queries, threads: threads, &result)
        return result
    }

    /// Attention pooling's kernel-moment states (``MomentSet/pooling(dimension:width:)``: the
    /// shift a* = max ln α and S = Σ e^{a−a*}, T꜀ = Σ e^{a−a*}v꜀) from the fused float64 pass, so
    /// that key shards merge exactly (``MomentState/merge(_:_:)``). Queries the fast path cannot
    /// vouch for are redone by the plain engine.
    ///
    /// - Complexity: O(m·n·(d + p)) time, O((n + m)·(d + p)) memory.
    static func states(_ problem: AttentionProblem, queries: Matrix, threads: Int) -> MomentStates {
        let m = queries.rows, p = problem.values.width
        var states = MomentStates(queries: m, count: 1 + p)
        let result = states.shifts.withUnsafeMutableBufferPointer { shifts in
            states.sums.withUnsafeMutableBufferPointer { sums in
                run(SIMD8<Double>.self, problem, queries, threads,
                    states: (SharedOutput(base: shifts.baseAddress!), SharedOutput(base: sums.baseAddress!)))
            }
        }
        let redo = (0..<m).filter { i in
            result.isEmpty[i] || !(0...p).allSatisfy { states.sums[i * (1 + p) + $0].isFinite }
        }
        if !redo.isEmpty {
            states = MomentEngine.plainStates(.pooling(problem), queries: queries, index: nil, threads: threads, only: redo, into: states)
        }
        return states
    }

    /// ln Σₖ e^{−‖(q − kₖ)/h‖²/2} for every query, in float64: the log of the Gaussian kernel sum
    /// a density needs, from the same pass as pooling. Queries the fast path cannot vouch for
    /// are redone in log space.
    ///
    /// - Complexity: O(m·n·d) time, O((n + m)·d) memory.
    static func logTotals(_ problem: AttentionProblem, queries: Matrix, threads: Int) -> [Double] {
        var totals = [Double](repeating: 0, count: queries.rows)
        let result = totals.withUnsafeMutableBufferPointer { out in
            run(SIMD8<Double>.self, problem, queries, threads, logTotals: SharedOutput(base: out.baseAddress!))
        }
        queries.elements.withUnsafeBufferPointer { qs in
            for i in 0..<queries.rows where result.isEmpty[i] || !totals[i].isFinite {
                totals[i] = StreamingEngine.logTotalWeight(problem, query: qs.baseAddress! + i * queries.columns)
            }
        }
        return totals
    }

    /// Runs the engine in vector type V; marks queries to redo as empty.
    /// With `states`, also writes each query's shift and sums [S, T₁…T_p] (float64 only).
    static func run<V: EngineVector>(_: V.Type, _ problem: AttentionProblem, _ queries: Matrix, _ threads: Int,
                                     logTotals: SharedOutput<Double>? = nil,
                                     states: (shifts: SharedOutput<Double>, sums: SharedOutput<Double>)? = nil) -> PooledResult {
        let layout = Layout<V.Scalar>(problem, lanes: V.scalarCount)
        defer { layout.deallocate() }
        let m = queries.rows, d = layout.d, p = layout.p
        guard layout.isFinite else { return .redoAll(queries: m, width: p) }
        var values = [Double](repeating: 0, count: m * p)
        var redo = [Bool](repeating: false, count: m)
        values.withUnsafeMutableBufferPointer { out in
            redo.withUnsafeMutableBufferPointer { flags in
                let output = SharedOutput(base: out.baseAddress!), redoFlags = SharedOutput(base: flags.baseAddress!)
                queries.elements.withUnsafeBufferPointer { qs in
                    let queryBase = SharedOutput(base: UnsafeMutablePointer(mutating: qs.baseAddress!))
                    Parallel.forEachBlock(count: m, blockSize: queriesPerBlock, threads: threads) { range in
                        let queries = UnsafePointer(queryBase.base)
                        if d < 8 {
                            let block = QueryBlock<V, 4>(layout: layout, queries: queries, range: range)
                            defer { block.deallocate() }
                            switch (d, p) {
                            case (1, 1): block.run(Fixed1.self, Fixed1.self)
                            case (2, 1): block.run(Fixed2.self, Fixed1.self)
                            case (3, 1): block.run(Fixed3.self, Fixed1.self)
                            case (4, 1): block.run(Fixed4.self, Fixed1.self)
                            case (_, 1): block.run(Dynamic.self, Fixed1.self)
                            default: block.run(Dynamic.self, Dynamic.self)
                            }
                            block.finish(into: output.base, redo: redoFlags.base, logTotals: logTotals?.base,
                                         states: states.map { ($0.shifts.base, $0.sums.base) })
                        } else {
                            let block = QueryBlock<V, 4>(layout: layout, queries: queries, range: range)
                            defer { block.deallocate() }
                            switch (d, p) {
                            case (8, 1): block.run(Fixed8.self, Fixed1.self)
                            case (16, 1): block.run(Fixed16.self, Fixed1.self)
                            case (_, 1): block.run(Dynamic.self, Fixed1.self)
                            default: block.run(Dynamic.self, Dynamic.self)
                            }
                            block.finish(into: output.base, redo: redoFlags.base, logTotals: logTotals?.base,
                                         states: states.map { ($0.shifts.base, $0.sums.base) })
                        }
                    }
                }
            }
        }
        return PooledResult(values: values, isEmpty: redo)
    }
}

extension GaussianEngine {
    /// The first index in x[0..<n] (ascending) whose value is ≥ value.
    static func lowerBound(_ x: UnsafeMutableBufferPointer<Double>, _ n: Int, _ value: Double) -> Int {
        var lo = 0, hi = n
        while lo < hi {
            let mid = (lo + hi) / 2
            if x[mid] < value { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }
}

/// A compile-time count (d or p) for the generic kernels; 0 means "read it at run time".
protocol FixedCount { static var value: Int { get } }
enum Fixed1: FixedCount { static var value: Int { 1 } }
enum Fixed2: FixedCount { static var value: Int { 2 } }
enum Fixed3: FixedCount { static var value: Int { 3 } }
enum Fixed4: FixedCount { static var value: Int { 4 } }
enum Fixed8: FixedCount { static var value: Int { 8 } }
enum Fixed16: FixedCount { static var value: Int { 16 } }
enum Dynamic: FixedCount { static var value: Int { 0 } }

/// The state of up to 64 queries while they stream over every key tile.
struct QueryBlock<V: EngineVector, let R: Int> {
    typealias Scalar = V.Scalar
    let layout: GaussianEngine.Layout<Scalar>
    let range: Range<Int>
    /// Queries padded to a multiple of R (the last one repeated), scaled: R·⌈len/R⌉ × d.
    let q: UnsafeMutablePointer<Scalar>
    let paddedCount: Int
    /// Per query and lane: running minimum a (as V), Float64 sums S and T (p per query).
    let minimum: UnsafeMutablePointer<V>
    let sums: UnsafeMutablePointer<Double>
    let weighted: UnsafeMutablePointer<Double>
    /// Scratch for one register block's tile sums.
    let tileSums: UnsafeMutablePointer<V>
    let tileWeighted: UnsafeMutablePointer<V>
    let previousMinimum: UnsafeMutablePointer<V>

    static var W: Int { V.scalarCount }

    init(layout: GaussianEngine.Layout<Scalar>, queries: UnsafePointer<Double>, range: Range<Int>) {
        self.layout = layout
        self.range = range
        let d = layout.d, p = layout.p, W = Self.W
        (q, paddedCount) = layout.scaledQueries(queries, range: range, multipleOf: R)
        minimum = .allocate(capacity: paddedCount)
        minimum.initialize(repeating: V(repeating: Scalar.greatestFiniteMagnitude), count: paddedCount)
        sums = .allocate(capacity: paddedCount * W)
        sums.initialize(repeating: 0, count: paddedCount * W)
        weighted = .allocate(capacity: paddedCount * W * p)
        weighted.initialize(repeating: 0, count: paddedCount * W * p)
        tileSums = .allocate(capacity: R)
        tileWeighted = .allocate(capacity: R * p)
        previousMinimum = .allocate(capacity: R)
    }

    func deallocate() {
        q.deallocate(); minimum.deallocate(); sums.deallocate(); weighted.deallocate()
        tileSums.deallocate(); tileWeighted.deallocate(); previousMinimum.deallocate()
    }

    /// Streams every key tile past every register block of this query block.
    func run<D: FixedCount, P: FixedCount>(_: D.Type, _: P.Type) {
        run(D.self, P.self, keys: 0..<layout.stride)
    }

    /// Streams the key vectors in `keys` (bounds multiples of W) past every register block.
    func run<D: FixedCount, P: FixedCount>(_: D.Type, _: P.Type, keys: Range<Int>) {
        let d = D.value == 0 ? layout.d : D.value
        let p = P.value == 0 ? layout.p : P.value
        let W = Self.W
        seedMinimum(d: d, first: keys.lowerBound)
        // Tiles of about 128 KiB of coordinates: resident in L2 while all blocks pass over them.
        let tile = Swift.max(W, (16384 / d) / W * W)
        var k0 = keys.lowerBound
        while k0 < keys.upperBound {
            let k1 = Swift.min(keys.upperBound, k0 + tile)
            var slot = 0
            while slot < paddedCount {
                previousMinimum.update(from: minimum + slot, count: R)
                tileSums.update(repeating: .zero, count: R)
                tileWeighted.update(repeating: .zero, count: R * p)
                registerBlock(D.self, P.self, d: d, p: p, from: k0, to: k1, queries: q + slot * d, minimum: minimum + slot)
                merge(slot: slot, p: p)
                slot += R
            }
            k0 = k1
        }
    }

    /// Starts each lane's running minimum at the a of its first key (padding: the largest finite
    /// value), so that m is a real distance from the start and m − e never cancels.
    func seedMinimum(d: Int, first: Int) {
        let X = layout.keys.baseAddress! + first, W = Self.W
        for slot in 0..<paddedCount {
            var a = V.zero
            for j in 0..<d {
                let diff = UnsafeRawPointer(X + j * layout.stride).loadUnaligned(as: V.self) - V(repeating: q[slot * d + j])
                a = a.addingProduct(diff, diff)
            }
            minimum[slot] = V.minimum(a, V(repeating: Scalar.greatestFiniteMagnitude))
        }
    }

    /// R queries × keys k0..<k1: the hot loop. Per lane it keeps e = m − a (the log₂ weight
    /// relative to the running minimum m of a = ‖q′ − k′‖²), computed as m − Σ diff² by fused
    /// negative multiply-adds, so a new minimum shows as e > 0.
    @inline(__always)
    func registerBlock<D: FixedCount, P: FixedCount>(_: D.Type, _: P.Type, d: Int, p: Int, from k0: Int, to k1: Int,
                                                     queries q: UnsafeMutablePointer<Scalar>, minimum: UnsafeMutablePointer<V>) {
        let X = UnsafePointer(layout.keys.baseAddress!), Y = UnsafePointer(layout.values.baseAddress!)
        let stride = layout.stride
        var m = InlineArray<R, V>(repeating: .zero)
        var s = InlineArray<R, V>(repeating: .zero)
        var t = InlineArray<R, V>(repeating: .zero)
        for r in 0..<R { m[r] = minimum[r] }
        var k = k0
        while k < k1 {
            // e = m − Σⱼ diffⱼ², the base-2 log weight relative to the lane's running minimum m,
            // by negative fused multiply-adds in two chains (even and odd features) to halve
            // the latency.
            let x = UnsafeRawPointer(X + k).loadUnaligned(as: V.self)
            var e = InlineArray<R, V>(repeating: .zero)
            for r in 0..<R {
                let diff = x - V(repeating: q[r &* d])
                e[r] = m[r].addingProduct(V.negated(diff), diff)
            }
            if d > 1 {
                var f = InlineArray<R, V>(repeating: .zero)
                var j = 1
                while j &+ 1 < d {
                    let xj = UnsafeRawPointer(X + (j &* stride &+ k)).loadUnaligned(as: V.self)
                    let xk = UnsafeRawPointer(X + ((j &+ 1) &* stride &+ k)).loadUnaligned(as: V.self)
                    for r in 0..<R {
                        let diff = xj - V(repeating: q[r &* d &+ j])
                        f[r] = f[r].addingProduct(V.negated(diff), diff)
                        let diff2 = xk - V(repeating: q[r &* d &+ j &+ 1])
                        e[r] = e[r].addingProduct(V.negated(diff2), diff2)
                    }
                    j &+= 2
                }
                if j < d {
                    let xj = UnsafeRawPointer(X + (j &* stride &+ k)).loadUnaligned(as: V.self)
                    for r in 0..<R {
                        let diff = xj - V(repeating: q[r &* d &+ j])
                        f[r] = f[r].addingProduct(V.negated(diff), diff)
                    }
                }
                for r in 0..<R { e[r] += f[r] }
            }
            if V.anyPositive(e) {
                // Some lane found a nearer key (e > 0): move its minimum down by e, to that key's
                // a, and rescale its sums by 2^(−e). Rare once keys come in no particular order.
                // m − e is a up to an ulp of m: harmless, m only has to be a consistent reference
                // near the smallest a, which the seeding in `run` guarantees from the start.
                for r in 0..<R {
                    let shift = V.maximum(e[r], .zero)
                    let factor = V.exp2NonPositive(V.negated(shift))
                    s[r] *= factor
                    if P.value == 1 {
                        t[r] *= factor
                    } else {
                        for c in 0..<p { tileWeighted[r &* p &+ c] *= factor }
                    }
                    m[r] -= shift
                    e[r] -= shift
                }
            }
            let w = V.exp2NonPositive(interleaving: e)
            for r in 0..<R { s[r] += w[r] }
            accumulateValues(P.self, weights: w, into: &t, scratch: tileWeighted, values: Y, key: k, stride: stride, p: p)
            k &+= Self.W
        }
        for r in 0..<R {
            minimum[r] = m[r]
            tileSums[r] = s[r]
            if P.value == 1 { tileWeighted[r] = t[r] }
        }
    }

    /// Folds one register block's tile sums (relative to the new minimum) into the Float64 state.
    func merge(slot: Int, p: Int) {
        let W = Self.W
        for r in 0..<R {
            let newMinimum = minimum[slot + r], oldMinimum = previousMinimum[r]
            let s = tileSums[r]
            for lane in 0..<W {
                let index = (slot + r) * W + lane
                let factor = newMinimum[lane] == oldMinimum[lane] ? 1 : Double.exp2(Double(newMinimum[lane]) - Double(oldMinimum[lane]))
                sums[index] = sums[index] * factor + Double(s[lane])
                for c in 0..<p {
                    let w = index * p + c
                    weighted[w] = weighted[w] * factor + Double(tileWeighted[r * p + c][lane])
                }
            }
        }
    }

    /// Reduces the lanes of each query and writes T/S; flags queries whose result cannot be
    /// trusted (distances overflowed, or a non-finite result).
    /// With `logTotals`, also writes ln Σₖ e^{−‖(q − kₖ)/h‖²/2} per query: (log₂ S − min a)·ln 2.
    /// With `states`, each query's shift −min a·ln 2 and its sums [S, T₁…T_p] relative to it.
    func finish(into output: UnsafeMutablePointer<Double>, redo: UnsafeMutablePointer<Bool>,
                logTotals: UnsafeMutablePointer<Double>? = nil,
                states: (shifts: UnsafeMutablePointer<Double>, sums: UnsafeMutablePointer<Double>)? = nil) {
        let W = Self.W, p = layout.p
        let factors = UnsafeMutablePointer<Double>.allocate(capacity: W)
        defer { factors.deallocate() }
        for slot in 0..<range.count {
            let i = range.lowerBound + slot
            let lanes = minimum[slot]
            var smallest = Double.infinity
            for lane in 0..<W { smallest = Swift.min(smallest, Double(lanes[lane])) }
            guard smallest < Double(Scalar.greatestFiniteMagnitude) / 4 else {
                redo[i] = true
                continue
            }
            var s = 0.0
            for lane in 0..<W {
                // exp2(0) = 1 exactly, and a lane with no weight contributes 0 whatever its
                // factor: both skip the call (small key sets, the mixed engine's cells, have many).
                let lane64 = Double(lanes[lane]), sum = sums[slot * W + lane]
                // Below 2⁻¹⁰⁷⁵ the factor is 0: skip libm's slow underflow path.
                let exponent = smallest - lane64
                factors[lane] = exponent == 0 ? 1 : sum == 0 || exponent < -1100 ? 0 : Double.exp2(exponent)
                s += sum * factors[lane]
            }
            if let logTotals { logTotals[i] = (Double.log2(s) - smallest) * 0.6931471805599453 }
            if let states {
                states.shifts[i] = -smallest * 0.6931471805599453
                states.sums[i * (1 + p)] = s
            }
            for c in 0..<p {
                var t = 0.0
                for lane in 0..<W { t += weighted[(slot * W + lane) * p + c] * factors[lane] }
                states?.sums[i * (1 + p) + 1 + c] = t
                let value = t / s
                output[i * p + c] = value
                if !value.isFinite { redo[i] = true }
            }
        }
    }
}

/// T += α·v over one key vector for R queries: in registers when p = 1 (`t`), in the tile
/// scratch otherwise (`scratch[r·p + c]`). Shared by the SIMD engines' hot loops.
@inline(__always)
func accumulateValues<V: EngineVector, P: FixedCount, let R: Int>(_: P.Type, weights w: borrowing InlineArray<R, V>,
                                                                   into t: inout InlineArray<R, V>, scratch: UnsafeMutablePointer<V>,
                                                                   values Y: UnsafePointer<V.Scalar>, key k: Int, stride: Int, p: Int) {
    if P.value == 1 {
        let y = UnsafeRawPointer(Y + k).loadUnaligned(as: V.self)
        for r in 0..<R { t[r] = t[r].addingProduct(w[r], y) }
    } else {
        for c in 0..<p {
            let y = UnsafeRawPointer(Y + (c &* stride &+ k)).loadUnaligned(as: V.self)
            for r in 0..<R { scratch[r &* p &+ c] = scratch[r &* p &+ c].addingProduct(w[r], y) }
        }
    }
}
