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
    static let queriesPerRegisterBlock = 4
    static let queriesPerBlock = 64

    /// Keys and values in the engine's layout: coordinates (xⱼ − cⱼ)·sⱼ, feature-major with a
    /// row stride that is a multiple of W; padding keys at +∞ distance with value 0.
    struct Layout<Scalar: BinaryFloatingPoint>: @unchecked Sendable {
        let n: Int, d: Int, p: Int, stride: Int
        let keys: UnsafeMutableBufferPointer<Scalar>
        let values: UnsafeMutableBufferPointer<Scalar>
        let center: [Double], scale: [Double]

        init(_ problem: AttentionProblem, lanes: Int) {
            let n = problem.keyCount, d = problem.featureCount, p = problem.values.width
            let stride = (n + lanes - 1) / lanes * lanes
            (self.n, self.d, self.p, self.stride) = (n, d, p, stride)
            let x = problem.keys
            center = (0..<d).map { j in
                var lo = Double.infinity, hi = -Double.infinity
                for k in 0..<n { lo = Swift.min(lo, x[k, j]); hi = Swift.max(hi, x[k, j]) }
                return lo / 2 + hi / 2
            }
            let log2eOver2 = 1.4426950408889634 / 2
            scale = problem.bandwidths.map { log2eOver2.squareRoot() / $0 }
            let keys = UnsafeMutableBufferPointer<Scalar>.allocate(capacity: d * stride)
            let values = UnsafeMutableBufferPointer<Scalar>.allocate(capacity: p * stride)
            keys.initialize(repeating: Scalar.infinity)
            values.initialize(repeating: 0)
            let (center, scale) = (self.center, self.scale)
            for k in 0..<n {
                for j in 0..<d { keys[j * stride + k] = Scalar((x[k, j] - center[j]) * scale[j]) }
            }
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
    }

    static func pool(_ problem: AttentionProblem, queries: Matrix, threads: Int, precision: Precision) -> PooledResult {
        var result: PooledResult
        switch precision {
        case .double: result = run(SIMD8<Double>.self, problem, queries, threads)
        case .single: result = run(SIMD16<Float>.self, problem, queries, threads)
        }
        // Queries the fast path could not vouch for are redone by the plain streaming engine.
        let p = problem.values.width
        queries.elements.withUnsafeBufferPointer { qs in
            for i in 0..<queries.rows where result.isEmpty[i] {
                let row = UnsafeMutablePointer<Double>.allocate(capacity: p)
                defer { row.deallocate() }
                let total = StreamingEngine.poolLogSpace(problem, query: qs.baseAddress! + i * queries.columns, into: row)
                if total > 0 {
                    for c in 0..<p { result.values[i * p + c] = row[c] / total }
                    result.isEmpty[i] = false
                }
            }
        }
        return result
    }

    /// Runs the engine in vector type V; marks queries to redo as empty.
    static func run<V: EngineVector>(_: V.Type, _ problem: AttentionProblem, _ queries: Matrix, _ threads: Int) -> PooledResult {
        let layout = Layout<V.Scalar>(problem, lanes: V.scalarCount)
        defer { layout.deallocate() }
        let m = queries.rows, d = layout.d, p = layout.p
        var values = [Double](repeating: 0, count: m * p)
        var redo = [Bool](repeating: false, count: m)
        values.withUnsafeMutableBufferPointer { out in
            redo.withUnsafeMutableBufferPointer { flags in
                let output = SharedOutput(base: out.baseAddress!), redoFlags = SharedOutput(base: flags.baseAddress!)
                queries.elements.withUnsafeBufferPointer { qs in
                    let queryBase = SharedOutput(base: UnsafeMutablePointer(mutating: qs.baseAddress!))
                    Parallel.forEachBlock(count: m, blockSize: queriesPerBlock, threads: threads) { range in
                        let block = QueryBlock<V>(layout: layout, queries: UnsafePointer(queryBase.base), range: range)
                        defer { block.deallocate() }
                        switch (d, p) {
                        case (1, 1): block.run(Fixed1.self, Fixed1.self)
                        case (2, 1): block.run(Fixed2.self, Fixed1.self)
                        case (3, 1): block.run(Fixed3.self, Fixed1.self)
                        case (4, 1): block.run(Fixed4.self, Fixed1.self)
                        case (8, 1): block.run(Fixed8.self, Fixed1.self)
                        case (16, 1): block.run(Fixed16.self, Fixed1.self)
                        case (_, 1): block.run(Dynamic.self, Fixed1.self)
                        default: block.run(Dynamic.self, Dynamic.self)
                        }
                        block.finish(into: output.base, redo: redoFlags.base)
                    }
                }
            }
        }
        return PooledResult(values: values, isEmpty: redo)
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
struct QueryBlock<V: EngineVector> {
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

    static var R: Int { GaussianEngine.queriesPerRegisterBlock }
    static var W: Int { V.scalarCount }

    init(layout: GaussianEngine.Layout<Scalar>, queries: UnsafePointer<Double>, range: Range<Int>) {
        self.layout = layout
        self.range = range
        let d = layout.d, p = layout.p, R = Self.R, W = Self.W
        paddedCount = (range.count + R - 1) / R * R
        q = .allocate(capacity: paddedCount * d)
        for slot in 0..<paddedCount {
            let i = range.lowerBound + Swift.min(slot, range.count - 1)
            for j in 0..<d { q[slot * d + j] = Scalar((queries[i * d + j] - layout.center[j]) * layout.scale[j]) }
        }
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
        let d = D.value == 0 ? layout.d : D.value
        let p = P.value == 0 ? layout.p : P.value
        let R = Self.R, W = Self.W
        // Tiles of about 128 KiB of coordinates: resident in L2 while all blocks pass over them.
        let tile = Swift.max(W, (16384 / d) / W * W)
        var k0 = 0
        while k0 < layout.stride {
            let k1 = Swift.min(layout.stride, k0 + tile)
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

    /// R queries × keys k0..<k1: the hot loop.
    @inline(__always)
    func registerBlock<D: FixedCount, P: FixedCount>(_: D.Type, _: P.Type, d: Int, p: Int, from k0: Int, to k1: Int,
                                                     queries q: UnsafeMutablePointer<Scalar>, minimum: UnsafeMutablePointer<V>) {
        let X = UnsafePointer(layout.keys.baseAddress!), Y = UnsafePointer(layout.values.baseAddress!)
        let stride = layout.stride
        var m0 = minimum[0], m1 = minimum[1], m2 = minimum[2], m3 = minimum[3]
        var s0 = V.zero, s1 = V.zero, s2 = V.zero, s3 = V.zero
        var t0 = V.zero, t1 = V.zero, t2 = V.zero, t3 = V.zero
        var k = k0
        while k < k1 {
            let x = UnsafeRawPointer(X + k).loadUnaligned(as: V.self)
            var e0 = x - V(repeating: q[0]), e1 = x - V(repeating: q[d]), e2 = x - V(repeating: q[2 * d]), e3 = x - V(repeating: q[3 * d])
            var a0 = e0 * e0, a1 = e1 * e1, a2 = e2 * e2, a3 = e3 * e3
            var j = 1
            while j < d {
                let xj = UnsafeRawPointer(X + j * stride + k).loadUnaligned(as: V.self)
                e0 = xj - V(repeating: q[j]); a0 = a0.addingProduct(e0, e0)
                e1 = xj - V(repeating: q[d + j]); a1 = a1.addingProduct(e1, e1)
                e2 = xj - V(repeating: q[2 * d + j]); a2 = a2.addingProduct(e2, e2)
                e3 = xj - V(repeating: q[3 * d + j]); a3 = a3.addingProduct(e3, e3)
                j += 1
            }
            if V.anyLess(a0, m0, a1, m1, a2, m2, a3, m3) {
                // Some lane found a nearer key: rescale its sums to the new minimum (rare once
                // the keys have been seen in random order; exact: the factors are powers of 2^−).
                let n0 = V.minimum(m0, a0), n1 = V.minimum(m1, a1), n2 = V.minimum(m2, a2), n3 = V.minimum(m3, a3)
                let f0 = V.exp2NonPositive(n0 - m0), f1 = V.exp2NonPositive(n1 - m1)
                let f2 = V.exp2NonPositive(n2 - m2), f3 = V.exp2NonPositive(n3 - m3)
                s0 *= f0; s1 *= f1; s2 *= f2; s3 *= f3
                if P.value == 1 {
                    t0 *= f0; t1 *= f1; t2 *= f2; t3 *= f3
                } else {
                    for c in 0..<p {
                        tileWeighted[c] *= f0; tileWeighted[p + c] *= f1
                        tileWeighted[2 * p + c] *= f2; tileWeighted[3 * p + c] *= f3
                    }
                }
                m0 = n0; m1 = n1; m2 = n2; m3 = n3
            }
            let w0 = V.exp2NonPositive(m0 - a0), w1 = V.exp2NonPositive(m1 - a1)
            let w2 = V.exp2NonPositive(m2 - a2), w3 = V.exp2NonPositive(m3 - a3)
            s0 += w0; s1 += w1; s2 += w2; s3 += w3
            if P.value == 1 {
                let y = UnsafeRawPointer(Y + k).loadUnaligned(as: V.self)
                t0 = t0.addingProduct(w0, y); t1 = t1.addingProduct(w1, y)
                t2 = t2.addingProduct(w2, y); t3 = t3.addingProduct(w3, y)
            } else {
                for c in 0..<p {
                    let y = UnsafeRawPointer(Y + c * stride + k).loadUnaligned(as: V.self)
                    tileWeighted[c] = tileWeighted[c].addingProduct(w0, y)
                    tileWeighted[p + c] = tileWeighted[p + c].addingProduct(w1, y)
                    tileWeighted[2 * p + c] = tileWeighted[2 * p + c].addingProduct(w2, y)
                    tileWeighted[3 * p + c] = tileWeighted[3 * p + c].addingProduct(w3, y)
                }
            }
            k += Self.W
        }
        minimum[0] = m0; minimum[1] = m1; minimum[2] = m2; minimum[3] = m3
        tileSums[0] = s0; tileSums[1] = s1; tileSums[2] = s2; tileSums[3] = s3
        if P.value == 1 {
            tileWeighted[0] = t0; tileWeighted[1] = t1; tileWeighted[2] = t2; tileWeighted[3] = t3
        }
    }

    /// Folds one register block's tile sums (relative to the new minimum) into the Float64 state.
    func merge(slot: Int, p: Int) {
        let W = Self.W
        for r in 0..<Self.R {
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
    func finish(into output: UnsafeMutablePointer<Double>, redo: UnsafeMutablePointer<Bool>) {
        let W = Self.W, p = layout.p
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
            var factors = [Double](repeating: 0, count: W)
            for lane in 0..<W {
                factors[lane] = Double.exp2(smallest - Double(lanes[lane]))
                s += sums[slot * W + lane] * factors[lane]
            }
            for c in 0..<p {
                var t = 0.0
                for lane in 0..<W { t += weighted[(slot * W + lane) * p + c] * factors[lane] }
                let value = t / s
                output[i * p + c] = value
                if !value.isFinite { redo[i] = true }
            }
        }
    }
}
