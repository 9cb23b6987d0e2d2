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

    static func pool(_ problem: AttentionProblem, queries: Matrix, threads: Int) -> PooledResult {
        let m = queries.rows, d = queries.columns, p = problem.values.width
        var result = PooledResult(values: Array(repeating: 0, count: m * p), isEmpty: Array(repeating: true, count: m))
        guard problem.kernel.isCompact else {
            redoInLogSpace(problem, queries: queries, threads: threads, &result)
            return result
        }
        // Compact kernels in linear space; tiny totals flagged (empty) for the log-space redo,
        // truly empty neighbourhoods (total 0) kept empty without one.
        var tiny = Array(repeating: false, count: m)
        result.values.withUnsafeMutableBufferPointer { out in
            result.isEmpty.withUnsafeMutableBufferPointer { empty in
                tiny.withUnsafeMutableBufferPointer { tinyBuffer in
                    let output = SharedOutput(base: out.baseAddress!), emptyFlags = SharedOutput(base: empty.baseAddress!)
                    let tinyFlags = SharedOutput(base: tinyBuffer.baseAddress!)
                    queries.elements.withUnsafeBufferPointer { qs in
                        let queryBase = SharedOutput(base: UnsafeMutablePointer(mutating: qs.baseAddress!))
                        Parallel.forEachBlock(count: m, blockSize: 16, threads: threads) { range in
                            for i in range {
                                let row = output.base + i * p
                                let total = poolLinear(problem, query: queryBase.base + i * d, into: row)
                                if total >= linearSpaceFloor {
                                    for c in 0..<p { row[c] /= total }
                                    emptyFlags.base[i] = false
                                } else if total > 0 {
                                    tinyFlags.base[i] = true
                                }
                            }
                        }
                    }
                }
            }
        }
        redoInLogSpace(problem, queries: queries, threads: threads, only: tiny.indices.filter { tiny[$0] }, &result)
        return result
    }

    /// Linear-space pass over every key but `excluded`: T in `row`, returns S.
    static func poolLinear(_ problem: AttentionProblem, query q: UnsafePointer<Double>, into row: UnsafeMutablePointer<Double>,
                           excluding excluded: Int = -1) -> Double {
        let p = problem.values.width
        for c in 0..<p { row[c] = 0 }
        var total = 0.0
        for k in 0..<problem.keyCount where k != excluded {
            let w = problem.attention(query: q, key: k)
            guard w > 0 else { continue }
            total += w
            problem.values.accumulate(key: k, weight: w, into: row)
        }
        return total
    }

    /// ln Σₖ α(q, kₖ) over every key but `excluded`: the log of the kernel sum (−∞ when every
    /// weight is zero); linear first for compact kernels, else (or for tiny compact sums) the
    /// shift plus the log of the sum of the library's one log-space sum
    /// (``MomentEngine/plainState(_:query:excluding:index:scratch:into:)``).
    ///
    /// - Complexity: O(n·d).
    static func logTotalWeight(_ problem: AttentionProblem, query q: UnsafePointer<Double>, excluding excluded: Int = -1) -> Double {
        if problem.kernel.isCompact {
            var total = 0.0
            for k in 0..<problem.keyCount where k != excluded { total += problem.attention(query: q, key: k) }
            if total >= linearSpaceFloor || total == 0 { return Double.log(total) }
        }
        let moments = MomentProblem(attention: problem, logWeights: nil, moments: MomentSet(dimension: problem.featureCount, degree: 0, responseWidth: 0))
        var scratch = MomentEngine.PlainScratch(moments.moments)
        defer { scratch.deallocate() }
        var total = 0.0
        let shift = MomentEngine.plainState(moments, query: q, excluding: excluded, index: nil, scratch: &scratch, into: &total,
                                            linearSpace: false)
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
    /// no longer empty. `only` overrides the flags with a list of queries.
    static func redoInLogSpace(_ problem: AttentionProblem, queries: Matrix, threads: Int, only: [Int]? = nil,
                               _ result: inout PooledResult) {
        let redo = only ?? result.isEmpty.indices.filter { result.isEmpty[$0] }
        guard !redo.isEmpty else { return }
        let moments = MomentProblem.pooling(problem)
        let states = MomentEngine.plainStates(moments, queries: queries, index: nil, threads: threads, only: redo,
                                              linearSpace: false)
        let p = problem.values.width
        for i in redo where states.sums[i * (1 + p)] > 0 {
            let total = states.sums[i * (1 + p)]
            for c in 0..<p { result.values[i * p + c] = states.sums[i * (1 + p) + 1 + c] / total }
            result.isEmpty[i] = false
        }
    }
}
