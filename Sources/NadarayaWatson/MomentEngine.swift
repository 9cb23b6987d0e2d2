import RealModule

// Legend: n keys, m queries, d features, h widths, s sample weights, u = (k − q)/h,
// G design monomials (degree ≤ 2P), p basis monomials (degree ≤ P), W = 8 SIMD lanes.
//
// Implementation goals, in order of priority:
// 1. Exact: every sum relative to the running maximum of the log weights (the online softmax),
//    so no weight underflows relative to the largest; queries whose every log weight is −∞
//    (beyond ~10¹⁵⁴ widths) or whose fast sums are not finite are redone by the plain engine and
//    left empty only where no key truly has weight.
// 2. One choice of engine (`states`): the Gaussian on SIMD registers (the monomials come from the
//    same coordinate differences as the distance, a few multiplies per pair beside the exp2),
//    compact kernels through the key index, the rest plainly in log space.
// 3. Memory O((n + m)·d + m·M): no n × m matrix; all cores over query blocks; results identical
//    whatever the thread count (each query is summed by one thread in key order).

/// Kernel-moment states for many queries, flat: query i's shift is `shifts[i]`, its sums
/// `sums[i·count ..< (i+1)·count]`.
struct MomentStates: Sendable {
    let count: Int
    var shifts: [Double]
    var sums: [Double]

    init(queries m: Int, count: Int) {
        self.count = count
        shifts = Array(repeating: -.infinity, count: m)
        sums = Array(repeating: 0, count: m * count)
    }

    func state(_ i: Int) -> MomentState {
        MomentState(shift: shifts[i], sums: Array(sums[i * count ..< (i + 1) * count]))
    }
}

/// The moment problem: keys, their values (the attention problem's: one target column for local
/// polynomials, w columns or classes for pooling), optional sample weights (all positive: rows
/// of weight 0 are removed by the estimator), the kernel and widths.
struct MomentProblem: Sendable {
    let attention: AttentionProblem
    /// ln sᵢ per key, or nil for unit weights.
    let logWeights: [Double]?
    /// sᵢ per key (for the linear-space sums of compact kernels), or nil for unit weights.
    let weights: [Double]?
    let moments: MomentSet
    /// Leave-one-out: the queries are the keys, and query i leaves key i out.
    var leaveOneOut = false
    /// The power of the kernel the moments weigh by: 1, or 2 for Σ sᵢαᵢ²·mᵢ (the norm ‖l(q)‖²
    /// of a linear smoother's weights).
    var kernelPower = 1.0

    init(attention: AttentionProblem, logWeights: [Double]?, moments: MomentSet, leaveOneOut: Bool = false,
         kernelPower: Double = 1) {
        precondition(moments.responseWidth == attention.values.width || moments.responseWidth == 0,
                     "the moments' response width should be the values' (\(attention.values.width)) or 0, but is \(moments.responseWidth)")
        self.attention = attention
        self.logWeights = logWeights
        weights = attention.kernel.isCompact ? logWeights?.map { Double.exp($0) } : nil
        self.moments = moments
        self.leaveOneOut = leaveOneOut
        self.kernelPower = kernelPower
    }

    /// Attention pooling's problem: S and T = Σ αv of every value component, unit weights.
    static func pooling(_ attention: AttentionProblem) -> MomentProblem {
        MomentProblem(attention: attention, logWeights: nil,
                      moments: .pooling(dimension: attention.featureCount, width: attention.values.width))
    }
}

enum MomentEngine {
    static let queriesPerBlock = 32

    /// The moment states of every query, by the engine ``Engine/choose(for:)`` picks.
    ///
    /// - Complexity: O(m·n·(d + M)) for dense engines, O(m·(log n + neighbours)·(d + M)) through
    ///   the compact-kernel index; O(m·M) memory.
    static func states(_ problem: MomentProblem, queries: Matrix, threads: Int) -> MomentStates {
        switch Engine.choose(for: problem) {
        case .gaussian:
            return GaussianEngine.states(problem.attention, queries: queries, threads: threads)
        case .embedding:
            return EmbeddingEngine.states(problem, queries: queries, threads: threads)
        case .gaussianMoments:
            return GaussianMoments.states(problem, queries: queries, threads: threads)
        case let .plainMoments(indexed):
            let index = indexed ? KeyIndex(keys: problem.attention.keys, bandwidths: problem.attention.bandwidths) : nil
            return plainStates(problem, queries: queries, index: index, threads: threads, only: nil)
        default:
            preconditionFailure("Engine.choose returns a moment engine for moments")
        }
    }

    /// The plain engine: for each query, every key (or the index's candidates), log weights by
    /// the definition (``AttentionProblem/logAttention(query:key:)``), the online softmax in
    /// natural logs (compact kernels first in linear space, unless `linearSpace` is false). With
    /// `only`, just those queries (a redo); the others keep their states.
    static func plainStates(_ problem: MomentProblem, queries: Matrix, index: KeyIndex?, threads: Int,
                            only: [Int]?, into existing: MomentStates? = nil, linearSpace: Bool = true) -> MomentStates {
        let M = problem.moments.count, d = queries.columns
        var result = existing ?? MomentStates(queries: queries.rows, count: M)
        let todo = only ?? Array(0..<queries.rows)
        result.shifts.withUnsafeMutableBufferPointer { shiftBuffer in
            result.sums.withUnsafeMutableBufferPointer { sumBuffer in
                let shifts = SharedOutput(base: shiftBuffer.baseAddress!), sums = SharedOutput(base: sumBuffer.baseAddress!)
                queries.elements.withUnsafeBufferPointer { qs in
                    let queryBase = SharedOutput(base: UnsafeMutablePointer(mutating: qs.baseAddress!))
                    Parallel.forEachBlock(count: todo.count, blockSize: 16, threads: threads) { range in
                        var scratch = PlainScratch(problem.moments)
                        defer { scratch.deallocate() }
                        for i in todo[range] {
                            shifts.base[i] = plainState(problem, query: queryBase.base + i * d, excluding: problem.leaveOneOut ? i : -1,
                                                        index: index, scratch: &scratch, into: sums.base + i * M,
                                                        linearSpace: linearSpace)
                        }
                    }
                }
            }
        }
        return result
    }

    /// Per-thread buffers of the plain engine: the offsets u, the monomials uᵍ, the index's runs.
    struct PlainScratch {
        let u: UnsafeMutablePointer<Double>
        let values: UnsafeMutablePointer<Double>
        var ranges: [Range<Int>] = []

        init(_ set: MomentSet) {
            u = .allocate(capacity: set.dimension)
            values = .allocate(capacity: set.designCount)
        }

        func deallocate() { u.deallocate(); values.deallocate() }
    }

    /// One query's moment state by the definition — the library's one log-space sum, which every
    /// fast engine's redo and every plain estimator (pooling, densities, leave-one-out) calls:
    /// aₖ = power·ln α(q, kₖ) + ln sₖ, and with the running maximum a* the sums
    /// S[m] = Σₖ e^{aₖ−a*}·mₖ over every key but `excluded` (or the index's candidates).
    /// Compact kernels go first in linear space (a* = 0), and in log space when their total is
    /// below ``StreamingEngine/linearSpaceFloor`` (`linearSpace` false forces log space).
    ///
    /// - Returns: a* (−∞ when no key has weight; the sums are then 0); the sums in `out`.
    /// - Complexity: O(n·(d + M)), or O((log n + neighbours)·(d + M)) through `index`.
    static func plainState(_ problem: MomentProblem, query q: UnsafePointer<Double>, excluding excluded: Int,
                           index: KeyIndex?, scratch: inout PlainScratch, into out: UnsafeMutablePointer<Double>,
                           linearSpace: Bool = true) -> Double {
        let set = problem.moments, M = set.count, d = set.dimension
        let monomials = set.monomials, G = set.designCount, p = set.responseCount, w = set.responseWidth
        let h = problem.attention.bandwidths, kernel = problem.attention.kernel, radial = problem.attention.form == .radial
        let values = problem.attention.values, u = scratch.u, powers = scratch.values
        // Degree 0 without scores needs no offsets: pooling's and densities' sums stay O(n·d).
        let needsOffsets = G > 1 || set.scores
        out.update(repeating: 0, count: M)
        // Compact kernels first in linear space (shift 0: their weights are at most 1 per unit
        // sample weight), redone in log space below when the total is so small that it may have
        // lost digits to underflow.
        let linear = linearSpace && problem.attention.kernel.isCompact && problem.attention.keyScales == nil
        var shift = linear ? 0 : -Double.infinity
        problem.attention.keys.elements.withUnsafeBufferPointer { xs in
            func visit(_ k: Int) {
                guard k != excluded else { return }
                let e: Double
                if linear {
                    var w = problem.attention.attention(query: q, key: k)
                    guard w > 0 else { return }
                    if problem.kernelPower != 1 { w = Double.pow(w, problem.kernelPower) }
                    if let weights = problem.weights { w *= weights[k] }
                    e = w
                } else {
                    var a = problem.kernelPower * problem.attention.logAttention(query: q, key: k)
                    if let logWeights = problem.logWeights { a += logWeights[k] }
                    guard a > -.infinity else { return }
                    if a > shift {
                        let factor = Double.exp(shift - a)
                        for c in 0..<M { out[c] *= factor }
                        shift = a
                    }
                    e = Double.exp(a - shift)
                }
                if needsOffsets {
                    let key = xs.baseAddress! + k * d
                    for j in 0..<d { u[j] = (key[j] - q[j]) / h[j] }
                    monomials.evaluate(u, into: powers)
                } else {
                    powers[0] = 1
                }
                for g in 0..<G { out[g] += e * powers[g] }
                if w > 0 {
                    for r in 0..<p { values.accumulate(key: k, weight: e * powers[r], into: out + G + r * w) }
                }
                if set.scores {
                    // ∂ log α/∂qⱼ = (ψ(r)/r)·vⱼ/hⱼ with v = (q − k)/h = −u (radial;
                    // product: ψ(|vⱼ|)/|vⱼ| per feature).
                    let r = radial ? (0..<d).reduce(0.0) { $0 + u[$1] * u[$1] }.squareRoot() : 0
                    for j in 0..<d {
                        // dot: ∂(Σ qⱼkⱼ/hⱼ²)/∂qⱼ = kⱼ/hⱼ².
                        let score = kernel == .dot ? xs[k * d + j] / (h[j] * h[j])
                            : -kernel.logSlopeOverDistance(radial ? r : u[j].magnitude) * u[j] / h[j]
                        out[set.scoreOffset + j] += e * score
                        if w > 0 { values.accumulate(key: k, weight: e * score, into: out + set.scoreOffset + d + j * w) }
                    }
                }
            }
            if let index {
                index.candidates(near: q, radial: radial, into: &scratch.ranges)
                for run in scratch.ranges { for position in run { visit(index.order[position]) } }
            } else {
                for k in 0..<problem.attention.keyCount { visit(k) }
            }
        }
        if linear {
            if out[0] == 0 { return -.infinity }
            if !(out[0] >= StreamingEngine.linearSpaceFloor) || !(0..<M).allSatisfy({ out[$0].isFinite }) {
                return plainState(problem, query: q, excluding: excluded, index: index, scratch: &scratch, into: out, linearSpace: false)
            }
        }
        return shift
    }
}
