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

/// The moment problem: keys, one target column, optional sample weights (all positive: rows of
/// weight 0 are removed by the estimator), the kernel and widths.
struct MomentProblem: Sendable {
    let attention: AttentionProblem
    let targets: [Double]
    /// ln sᵢ per key, or nil for unit weights.
    let logWeights: [Double]?
    let moments: MomentSet
    /// Leave-one-out: the queries are the keys, and query i leaves key i out.
    var leaveOneOut = false
    /// The power of the kernel the moments weigh by: 1, or 2 for Σ sᵢαᵢ²·mᵢ (the norm ‖l(q)‖²
    /// of a linear smoother's weights).
    var kernelPower = 1.0
}

enum MomentEngine {
    static let queriesPerBlock = 32

    /// The moment states of every query, by the engine ``Engine/choose(for:task:strategy:)`` picks.
    ///
    /// - Complexity: O(m·n·(d + M)) for dense engines, O(m·(log n + neighbours)·(d + M)) through
    ///   the compact-kernel index; O(m·M) memory.
    static func states(_ problem: MomentProblem, queries: Matrix, threads: Int) -> MomentStates {
        switch Engine.choose(for: problem.attention, task: .moments) {
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
    /// the definition (``AttentionProblem/logAttention(query:key:)``), the online softmax.
    /// With `only`, just those queries (a redo); the others keep their states.
    static func plainStates(_ problem: MomentProblem, queries: Matrix, index: KeyIndex?, threads: Int,
                            only: [Int]?, into existing: MomentStates? = nil) -> MomentStates {
        let set = problem.moments, M = set.count, d = queries.columns, n = problem.attention.keyCount
        var result = existing ?? MomentStates(queries: queries.rows, count: M)
        let todo = only ?? Array(0..<queries.rows)
        let monomials = set.monomials, G = set.designCount, p = set.basisCount(degree: set.degree)
        let h = problem.attention.bandwidths, kernel = problem.attention.kernel, radial = problem.attention.form == .radial
        result.shifts.withUnsafeMutableBufferPointer { shiftBuffer in
            result.sums.withUnsafeMutableBufferPointer { sumBuffer in
                let shifts = SharedOutput(base: shiftBuffer.baseAddress!), sums = SharedOutput(base: sumBuffer.baseAddress!)
                queries.elements.withUnsafeBufferPointer { qs in
                    problem.attention.keys.elements.withUnsafeBufferPointer { xs in
                        let queryBase = SharedOutput(base: UnsafeMutablePointer(mutating: qs.baseAddress!))
                        let keyBase = SharedOutput(base: UnsafeMutablePointer(mutating: xs.baseAddress!))
                        Parallel.forEachBlock(count: todo.count, blockSize: 16, threads: threads) { range in
                            let u = UnsafeMutablePointer<Double>.allocate(capacity: d)
                            let values = UnsafeMutablePointer<Double>.allocate(capacity: G)
                            defer { u.deallocate(); values.deallocate() }
                            var ranges: [Range<Int>] = []
                            for i in todo[range] {
                                let q = UnsafePointer(queryBase.base + i * d)
                                let out = sums.base + i * M
                                out.update(repeating: 0, count: M)
                                var shift = -Double.infinity
                                let excluded = problem.leaveOneOut ? i : -1
                                func visit(_ k: Int) {
                                    guard k != excluded else { return }
                                    var a = problem.kernelPower * problem.attention.logAttention(query: q, key: k)
                                    if let w = problem.logWeights { a += w[k] }
                                    guard a > -.infinity else { return }
                                    if a > shift {
                                        let factor = Double.exp(shift - a)
                                        for c in 0..<M { out[c] *= factor }
                                        shift = a
                                    }
                                    let e = Double.exp(a - shift)
                                    let key = keyBase.base + k * d
                                    for j in 0..<d { u[j] = (key[j] - q[j]) / h[j] }
                                    monomials.evaluate(u, into: values)
                                    let y = problem.targets[k]
                                    for g in 0..<G { out[g] += e * values[g] }
                                    for r in 0..<p { out[G + r] += e * y * values[r] }
                                    if set.scores {
                                        // ∂ log α/∂qⱼ = (ψ(r)/r)·vⱼ/hⱼ with v = (q − k)/h = −u (radial;
                                        // product: ψ(|vⱼ|)/|vⱼ| per feature).
                                        let r = radial ? (0..<d).reduce(0.0) { $0 + u[$1] * u[$1] }.squareRoot() : 0
                                        for j in 0..<d {
                                            let slope = kernel.logSlopeOverDistance(radial ? r : u[j].magnitude)
                                            let score = -slope * u[j] / h[j]
                                            out[set.scoreOffset + j] += e * score
                                            out[set.scoreOffset + d + j] += e * y * score
                                        }
                                    }
                                }
                                if let index {
                                    index.candidates(near: q, radial: radial, into: &ranges)
                                    for run in ranges { for position in run { visit(index.order[position]) } }
                                } else {
                                    for k in 0..<n { visit(k) }
                                }
                                shifts.base[i] = shift
                            }
                        }
                    }
                }
            }
        }
        return result
    }
}
