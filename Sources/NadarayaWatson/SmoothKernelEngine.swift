// Legend: n keys, m queries, d features, p value components, h widths (one per feature),
// W SIMD lanes (8 doubles or 16 floats), R = 4 queries per register block.
//
// Implementation goals, in order of priority:
// 1. Exact: these kernels decay slowly (cauchy as r⁻², laplacian and logistic as e^{−r}), so
//    weights are summed in linear space, which is exact while a query's total weight stays far
//    above the underflow threshold; every query below `linearSpaceFloor`, or with a non-finite
//    result, is redone by the log-space streaming engine. Tile sums are merged into Float64.
// 2. Memory O((n + m)·d): the Gaussian engine's key layout, O(W) state per query.
// 3. Fast: keys centred and pre-scaled so that one width is `unit`; R queries share each key
//    load; the vectorised exp2; query blocks spread over all cores. No allocation per query.

/// A kernel profile on whole registers: each feature's scaled difference is folded into an
/// accumulator, which then becomes the (linear-space) weight.
protocol VectorProfile: SendableMetatype {
    /// What one width becomes in the engine's coordinates.
    static var unit: Double { get }
    static func start<V: EngineVector>(_: V.Type) -> V
    static func fold<V: EngineVector>(_ accumulator: V, _ difference: V) -> V
    /// Merges two accumulators of disjoint feature sets (the two latency chains).
    static func combine<V: EngineVector>(_ a: V, _ b: V) -> V
    static func weight<V: EngineVector>(_ accumulator: V) -> V
}

/// Radial cauchy: 1 / (1 + ‖u‖²).
enum RadialCauchy: VectorProfile {
    static var unit: Double { 1 }
    @inline(__always) static func start<V: EngineVector>(_: V.Type) -> V { .zero }
    @inline(__always) static func fold<V: EngineVector>(_ a: V, _ x: V) -> V { a.addingProduct(x, x) }
    @inline(__always) static func combine<V: EngineVector>(_ a: V, _ b: V) -> V { a + b }
    @inline(__always) static func weight<V: EngineVector>(_ a: V) -> V { V.reciprocal(a + V(repeating: 1)) }
}

/// Product cauchy: 1 / ∏ⱼ (1 + uⱼ²).
enum ProductCauchy: VectorProfile {
    static var unit: Double { 1 }
    @inline(__always) static func start<V: EngineVector>(_: V.Type) -> V { V(repeating: 1) }
    @inline(__always) static func fold<V: EngineVector>(_ a: V, _ x: V) -> V { a.addingProduct(a * x, x) }
    @inline(__always) static func combine<V: EngineVector>(_ a: V, _ b: V) -> V { a * b }
    @inline(__always) static func weight<V: EngineVector>(_ a: V) -> V { V.reciprocal(a) }
}

/// Radial laplacian: 2^(−‖u′‖) with u′ = log₂e · u.
enum RadialLaplacian: VectorProfile {
    static var unit: Double { 1.4426950408889634 }
    @inline(__always) static func start<V: EngineVector>(_: V.Type) -> V { .zero }
    @inline(__always) static func fold<V: EngineVector>(_ a: V, _ x: V) -> V { a.addingProduct(x, x) }
    @inline(__always) static func combine<V: EngineVector>(_ a: V, _ b: V) -> V { a + b }
    @inline(__always) static func weight<V: EngineVector>(_ a: V) -> V { V.exp2NonPositive(V.negated(V.squareRoot(a))) }
}

/// Product laplacian: 2^(−Σⱼ |u′ⱼ|) with u′ = log₂e · u.
enum ProductLaplacian: VectorProfile {
    static var unit: Double { 1.4426950408889634 }
    @inline(__always) static func start<V: EngineVector>(_: V.Type) -> V { .zero }
    @inline(__always) static func fold<V: EngineVector>(_ a: V, _ x: V) -> V { a + V.magnitude(x) }
    @inline(__always) static func combine<V: EngineVector>(_ a: V, _ b: V) -> V { a + b }
    @inline(__always) static func weight<V: EngineVector>(_ a: V) -> V { V.exp2NonPositive(V.negated(a)) }
}

/// Radial logistic: e / (1 + e)² with e = 2^(−‖u′‖) = e^(−‖u‖), which never overflows.
enum RadialLogistic: VectorProfile {
    static var unit: Double { 1.4426950408889634 }
    @inline(__always) static func start<V: EngineVector>(_: V.Type) -> V { .zero }
    @inline(__always) static func fold<V: EngineVector>(_ a: V, _ x: V) -> V { a.addingProduct(x, x) }
    @inline(__always) static func combine<V: EngineVector>(_ a: V, _ b: V) -> V { a + b }
    @inline(__always) static func weight<V: EngineVector>(_ a: V) -> V { logistic(V.squareRoot(a)) }
}

/// Product logistic: ∏ⱼ eⱼ / (1 + eⱼ)² with eⱼ = e^(−|uⱼ|).
enum ProductLogistic: VectorProfile {
    static var unit: Double { 1.4426950408889634 }
    @inline(__always) static func start<V: EngineVector>(_: V.Type) -> V { V(repeating: 1) }
    @inline(__always) static func fold<V: EngineVector>(_ a: V, _ x: V) -> V { a * logistic(V.magnitude(x)) }
    @inline(__always) static func combine<V: EngineVector>(_ a: V, _ b: V) -> V { a * b }
    @inline(__always) static func weight<V: EngineVector>(_ a: V) -> V { a }
}

/// e / (1 + e)² with e = 2^(−a), for a ≥ 0 in log₂e units.
@inline(__always)
private func logistic<V: EngineVector>(_ a: V) -> V {
    let e = V.exp2NonPositive(V.negated(a))
    let onePlus = e + V(repeating: 1)
    return e * V.reciprocal(onePlus * onePlus)
}

/// The fused SIMD engine for the logistic, cauchy and laplacian kernels, both forms.
///
/// - Complexity: O(m·n·(d + p)) time, O((n + m)·d + m·p) memory.
enum SmoothKernelEngine {
    static let queriesPerBlock = 64

    /// Below this total weight (relative to a largest possible weight of 1) a query is redone in
    /// log space. The exp2 floors each weight's absolute error at 2⁻¹⁰²⁰ (double) or 2⁻¹²⁴
    /// (float): these floors keep that error below 2⁻⁶⁰ of the total for any n < 2⁶⁰ or 2⁴⁰.
    static func linearSpaceFloor<Scalar: BinaryFloatingPoint>(_: Scalar.Type) -> Double {
        Scalar.self == Double.self ? 0x1p-900 : 0x1p-60
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

    static func run<V: EngineVector>(_ vector: V.Type, _ problem: AttentionProblem, _ queries: Matrix, _ threads: Int) -> PooledResult {
        // In 1-D both forms are the same kernel; the product profiles avoid a square root.
        let radial = problem.form == .radial && problem.featureCount > 1
        switch (problem.kernel, radial) {
        case (.cauchy, true): return run(V.self, RadialCauchy.self, problem, queries, threads)
        case (.cauchy, false): return run(V.self, ProductCauchy.self, problem, queries, threads)
        case (.laplacian, true): return run(V.self, RadialLaplacian.self, problem, queries, threads)
        case (.laplacian, false): return run(V.self, ProductLaplacian.self, problem, queries, threads)
        case (.logistic, true): return run(V.self, RadialLogistic.self, problem, queries, threads)
        case (.logistic, false): return run(V.self, ProductLogistic.self, problem, queries, threads)
        default: preconditionFailure("\(problem.kernel) has no smooth-kernel profile")
        }
    }

    /// Runs the engine in vector type V with profile K; marks queries to redo as empty.
    static func run<V: EngineVector, K: VectorProfile>(_: V.Type, _: K.Type, _ problem: AttentionProblem, _ queries: Matrix,
                                                      _ threads: Int) -> PooledResult {
        let layout = GaussianEngine.Layout<V.Scalar>(problem, lanes: V.scalarCount, unit: K.unit)
        defer { layout.deallocate() }
        let m = queries.rows, d = layout.d, p = layout.p
        guard layout.isFinite else { return .redoAll(queries: m, width: p) }
        let floor = linearSpaceFloor(V.Scalar.self)
        var values = [Double](repeating: 0, count: m * p)
        var redo = [Bool](repeating: false, count: m)
        values.withUnsafeMutableBufferPointer { out in
            redo.withUnsafeMutableBufferPointer { flags in
                let output = SharedOutput(base: out.baseAddress!), redoFlags = SharedOutput(base: flags.baseAddress!)
                queries.elements.withUnsafeBufferPointer { qs in
                    let queryBase = SharedOutput(base: UnsafeMutablePointer(mutating: qs.baseAddress!))
                    Parallel.forEachBlock(count: m, blockSize: queriesPerBlock, threads: threads) { range in
                        let block = LinearQueryBlock<V, K, 4>(layout: layout, queries: UnsafePointer(queryBase.base), range: range)
                        defer { block.deallocate() }
                        switch (d, p) {
                        case (1, 1): block.run(Fixed1.self, Fixed1.self)
                        case (2, 1): block.run(Fixed2.self, Fixed1.self)
                        case (4, 1): block.run(Fixed4.self, Fixed1.self)
                        case (16, 1): block.run(Fixed16.self, Fixed1.self)
                        case (_, 1): block.run(Dynamic.self, Fixed1.self)
                        default: block.run(Dynamic.self, Dynamic.self)
                        }
                        block.finish(into: output.base, redo: redoFlags.base, floor: floor)
                    }
                }
            }
        }
        return PooledResult(values: values, isEmpty: redo)
    }
}

/// The Float64 sums of up to 64 queries while they stream over every key tile.
struct LinearQueryBlock<V: EngineVector, K: VectorProfile, let R: Int> {
    typealias Scalar = V.Scalar
    let layout: GaussianEngine.Layout<Scalar>
    let range: Range<Int>
    /// Queries padded to a multiple of R (the last one repeated), scaled: R·⌈len/R⌉ × d.
    let q: UnsafeMutablePointer<Scalar>
    let paddedCount: Int
    /// Per query: S = Σ α and T = Σ α·v (p per query).
    let sums: UnsafeMutablePointer<Double>
    let weighted: UnsafeMutablePointer<Double>
    let tileWeighted: UnsafeMutablePointer<V>

    init(layout: GaussianEngine.Layout<Scalar>, queries: UnsafePointer<Double>, range: Range<Int>) {
        self.layout = layout
        self.range = range
        let d = layout.d, p = layout.p
        (q, paddedCount) = layout.scaledQueries(queries, range: range, multipleOf: R)
        sums = .allocate(capacity: paddedCount)
        sums.initialize(repeating: 0, count: paddedCount)
        weighted = .allocate(capacity: paddedCount * p)
        weighted.initialize(repeating: 0, count: paddedCount * p)
        tileWeighted = .allocate(capacity: R * p)
    }

    func deallocate() {
        q.deallocate(); sums.deallocate(); weighted.deallocate(); tileWeighted.deallocate()
    }

    func run<D: FixedCount, P: FixedCount>(_: D.Type, _: P.Type) {
        let d = D.value == 0 ? layout.d : D.value
        let p = P.value == 0 ? layout.p : P.value
        let W = V.scalarCount
        let tile = Swift.max(W, (16384 / d) / W * W)
        var k0 = 0
        while k0 < layout.stride {
            let k1 = Swift.min(layout.stride, k0 + tile)
            var slot = 0
            while slot < paddedCount {
                registerBlock(D.self, P.self, d: d, p: p, from: k0, to: k1, slot: slot)
                slot += R
            }
            k0 = k1
        }
    }

    /// R queries × keys k0..<k1, then the tile sums folded into the Float64 state.
    @inline(__always)
    func registerBlock<D: FixedCount, P: FixedCount>(_: D.Type, _: P.Type, d: Int, p: Int, from k0: Int, to k1: Int, slot: Int) {
        let X = UnsafePointer(layout.keys.baseAddress!), Y = UnsafePointer(layout.values.baseAddress!)
        let stride = layout.stride, q = self.q + slot * d
        var s = InlineArray<R, V>(repeating: .zero)
        var t = InlineArray<R, V>(repeating: .zero)
        if P.value != 1 { tileWeighted.update(repeating: .zero, count: R * p) }
        var k = k0
        while k < k1 {
            // Two chains (even and odd features) to halve the latency of the fold.
            var a = InlineArray<R, V>(repeating: K.start(V.self))
            var b = InlineArray<R, V>(repeating: K.start(V.self))
            var j = 0
            while j &+ 1 < d {
                let xj = UnsafeRawPointer(X + (j &* stride &+ k)).loadUnaligned(as: V.self)
                let xk = UnsafeRawPointer(X + ((j &+ 1) &* stride &+ k)).loadUnaligned(as: V.self)
                for r in 0..<R {
                    a[r] = K.fold(a[r], xj - V(repeating: q[r &* d &+ j]))
                    b[r] = K.fold(b[r], xk - V(repeating: q[r &* d &+ j &+ 1]))
                }
                j &+= 2
            }
            if j < d {
                let xj = UnsafeRawPointer(X + (j &* stride &+ k)).loadUnaligned(as: V.self)
                for r in 0..<R { a[r] = K.fold(a[r], xj - V(repeating: q[r &* d &+ j])) }
            }
            if d > 1 { for r in 0..<R { a[r] = K.combine(a[r], b[r]) } }
            // Weights two queries at a time (R is even): two independent exp2 / square-root
            // chains in straight-line code, which the optimiser does not produce from a loop this long.
            var w = InlineArray<R, V>(repeating: .zero)
            var r = 0
            while r < R {
                let w0 = K.weight(a[r]), w1 = K.weight(a[r &+ 1])
                w[r] = w0
                w[r &+ 1] = w1
                s[r] += w0
                s[r &+ 1] += w1
                r &+= 2
            }
            accumulateValues(P.self, weights: w, into: &t, scratch: tileWeighted, values: Y, key: k, stride: stride, p: p)
            k &+= V.scalarCount
        }
        for r in 0..<R {
            sums[slot + r] += Self.laneSum(s[r])
            if P.value == 1 {
                weighted[slot + r] += Self.laneSum(t[r])
            } else {
                for c in 0..<p { weighted[(slot + r) * p + c] += Self.laneSum(tileWeighted[r * p + c]) }
            }
        }
    }

    /// The lanes summed in Float64, in a fixed order.
    @inline(__always)
    static func laneSum(_ v: V) -> Double {
        var total = 0.0
        for lane in 0..<V.scalarCount { total += Double(v[lane]) }
        return total
    }

    /// Writes T/S; flags queries whose total weight is below `floor` or whose result is not finite.
    func finish(into output: UnsafeMutablePointer<Double>, redo: UnsafeMutablePointer<Bool>, floor: Double) {
        let p = layout.p
        for slot in 0..<range.count {
            let i = range.lowerBound + slot
            let s = sums[slot]
            guard s >= floor else {
                redo[i] = true
                continue
            }
            for c in 0..<p {
                let value = weighted[slot * p + c] / s
                output[i * p + c] = value
                if !value.isFinite { redo[i] = true }
            }
        }
    }
}
