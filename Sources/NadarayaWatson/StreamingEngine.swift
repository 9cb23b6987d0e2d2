import RealModule

// Legend: n keys, m queries, d features, p value components, h widths (one per feature).
//
// Implementation goals, in order of priority:
// 1. Exact: the softmax of log weights with a running maximum (the online softmax of
//    FlashAttention), so no weight underflows relative to the largest; compact kernels in
//    linear space, with an exact log-space retry when their weights become tiny.
// 2. Memory O((n + m)·d): one pass over the keys per query, no n × m matrix.
// 3. Fast: all cores over query blocks; results identical whatever the thread count, because
//    each query is computed by one thread in key order.

/// The fused streaming engine: for each query, one pass over the keys keeping the running
/// maximum M of log weights, the sum S = Σ e^{ℓₖ−M} and the weighted sum T = Σ e^{ℓₖ−M} vₖ;
/// f(q) = T / S. When M grows, S and T are rescaled by e^{M_old − M_new}.
///
/// - Complexity: O(m·n·(d + p)) time, O((n + m)·d + m·p) memory.
enum StreamingEngine {
    /// Below this total weight a compact kernel's linear-space sums may have lost precision to
    /// underflow; the query is redone in log space.
    static let linearSpaceFloor = 0x1p-600

    /// Every query by the plain moment engine (compact kernels in linear space first, log space
    /// below ``linearSpaceFloor``): f(q) = T/S, empty where no key has weight.
    static func pool(_ problem: AttentionProblem, queries: Matrix, threads: Int) -> PooledResult {
        let m = queries.rows, p = problem.values.width
        var result = PooledResult(values: Array(repeating: 0, count: m * p), isEmpty: Array(repeating: true, count: m))
        let states = MomentEngine.plainStates(.pooling(problem), queries: queries, index: nil, threads: threads, only: nil)
        result.finish(states, queries: 0..<m)
        return result
    }

    /// ln Σₖ α(q, kₖ) over every key but `excluded`: the log of the kernel sum (−∞ when every
    /// weight is zero): the shift plus the log of the sum of the library's one plain sum
    /// (``MomentEngine/plainState(_:query:excluding:index:scratch:into:linearSpace:)``; compact
    /// kernels in linear space first).
    ///
    /// - Complexity: O(n·d).
    static func logTotalWeight(_ problem: AttentionProblem, query q: UnsafePointer<Double>, excluding excluded: Int = -1) -> Double {
        let moments = MomentProblem(attention: problem, logWeights: nil, moments: MomentSet(dimension: problem.featureCount, degree: 0, responseWidth: 0))
        var scratch = MomentEngine.PlainScratch(moments.moments)
        defer { scratch.deallocate() }
        var total = 0.0
        let shift = MomentEngine.plainState(moments, query: q, excluding: excluded, index: nil, scratch: &scratch, into: &total)
        return shift + Double.log(total)
    }

    /// The log-space online softmax over every key but `excluded`, by the library's one log-space
    /// sum: T·e^{−M} in `row`, returns S·e^{−M} (so T/S is the answer).
    static func poolLogSpace(_ problem: AttentionProblem, query q: UnsafePointer<Double>, into row: UnsafeMutablePointer<Double>,
                             excluding excluded: Int = -1) -> Double {
        let moments = MomentProblem.pooling(problem), p = problem.values.width
        var scratch = MomentEngine.PlainScratch(moments.moments)
        let sums = UnsafeMutablePointer<Double>.allocate(capacity: 1 + p)
        defer { scratch.deallocate(); sums.deallocate() }
        _ = MomentEngine.plainState(moments, query: q, excluding: excluded, index: nil, scratch: &scratch, into: sums,
                                    linearSpace: false)
        row.update(from: sums + 1, count: p)
        return sums[0]
    }

    /// Redoes, exactly in log space and on all cores, the queries a fast engine flagged (as
    /// empty) because it could not vouch for their result; those with positive total weight are
    /// no longer empty.
    static func redoInLogSpace(_ problem: AttentionProblem, queries: Matrix, threads: Int, _ result: inout PooledResult) {
        let redo = result.isEmpty.indices.filter { result.isEmpty[$0] }
        guard !redo.isEmpty else { return }
        let states = MomentEngine.plainStates(.pooling(problem), queries: queries, index: nil, threads: threads, only: redo,
                                              linearSpace: false)
        result.finish(states, queries: redo)
    }
}

extension PooledResult {
    /// Writes T/S of `queries` from their degree-0 pooling states (S = sums[0], T = the rest);
    /// those with S > 0 are no longer empty.
    mutating func finish(_ states: MomentStates, queries: some Sequence<Int>) {
        let p = states.count - 1
        for i in queries where states.sums[i * (1 + p)] > 0 {
            let total = states.sums[i * (1 + p)]
            for c in 0..<p { values[i * p + c] = states.sums[i * (1 + p) + 1 + c] / total }
            isEmpty[i] = false
        }
    }
}
