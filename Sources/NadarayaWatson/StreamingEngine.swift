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
        var values = Array(repeating: 0.0, count: m * p)
        var isEmpty = Array(repeating: false, count: m)
        values.withUnsafeMutableBufferPointer { out in
            isEmpty.withUnsafeMutableBufferPointer { empty in
                let output = SharedOutput(base: out.baseAddress!)
                let emptyFlags = SharedOutput(base: empty.baseAddress!)
                queries.elements.withUnsafeBufferPointer { qs in
                    let queryBase = SharedOutput(base: UnsafeMutablePointer(mutating: qs.baseAddress!))
                    Parallel.forEachBlock(count: m, blockSize: 16, threads: threads) { range in
                        for i in range {
                            let q = UnsafePointer(queryBase.base + i * d)
                            let row = output.base + i * p
                            var total = 0.0
                            if problem.kernel.isCompact {
                                total = poolLinear(problem, query: q, into: row)
                                if total < linearSpaceFloor && total > 0 {
                                    total = poolLogSpace(problem, query: q, into: row)
                                }
                            } else {
                                total = poolLogSpace(problem, query: q, into: row)
                            }
                            if total > 0 {
                                for c in 0..<p { row[c] /= total }
                            } else {
                                emptyFlags.base[i] = true
                            }
                        }
                    }
                }
            }
        }
        return PooledResult(values: values, isEmpty: isEmpty)
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
    /// weight is zero), in log space for kernels with infinite support or tiny compact sums.
    ///
    /// - Complexity: O(n·d).
    static func logTotalWeight(_ problem: AttentionProblem, query q: UnsafePointer<Double>, excluding excluded: Int = -1) -> Double {
        if problem.kernel.isCompact {
            var total = 0.0
            for k in 0..<problem.keyCount where k != excluded { total += problem.attention(query: q, key: k) }
            if total >= linearSpaceFloor || total == 0 { return Double.log(total) }
        }
        var maximum = -Double.infinity, total = 0.0
        for k in 0..<problem.keyCount where k != excluded {
            let logWeight = problem.logAttention(query: q, key: k)
            guard logWeight > -.infinity else { continue }
            if logWeight > maximum {
                total *= Double.exp(maximum - logWeight)
                maximum = logWeight
            }
            total += Double.exp(logWeight - maximum)
        }
        return maximum + Double.log(total)
    }

    /// Log-space online softmax over every key but `excluded`: T·e^{−M} in `row`, returns
    /// S·e^{−M} (so T/S is the answer).
    static func poolLogSpace(_ problem: AttentionProblem, query q: UnsafePointer<Double>, into row: UnsafeMutablePointer<Double>,
                             excluding excluded: Int = -1) -> Double {
        let p = problem.values.width
        for c in 0..<p { row[c] = 0 }
        var maximum = -Double.infinity, total = 0.0
        for k in 0..<problem.keyCount where k != excluded {
            let logWeight = problem.logAttention(query: q, key: k)
            guard logWeight > -.infinity else { continue }
            if logWeight > maximum {
                let scale = Double.exp(maximum - logWeight)
                total *= scale
                for c in 0..<p { row[c] *= scale }
                maximum = logWeight
            }
            let w = Double.exp(logWeight - maximum)
            total += w
            problem.values.accumulate(key: k, weight: w, into: row)
        }
        return total
    }

    /// Redoes, exactly in log space and on all cores, the queries a fast engine flagged (as
    /// empty) because it could not vouch for their result; those with positive total weight are
    /// no longer empty.
    /// With `leaveOneOut`, the queries are the keys and query i excludes key i.
    static func redoInLogSpace(_ problem: AttentionProblem, queries: Matrix, threads: Int, leaveOneOut: Bool = false,
                               _ result: inout PooledResult) {
        let redo = result.isEmpty.indices.filter { result.isEmpty[$0] }
        guard !redo.isEmpty else { return }
        let p = problem.values.width, d = queries.columns
        result.values.withUnsafeMutableBufferPointer { out in
            result.isEmpty.withUnsafeMutableBufferPointer { empty in
                let output = SharedOutput(base: out.baseAddress!), flags = SharedOutput(base: empty.baseAddress!)
                queries.elements.withUnsafeBufferPointer { qs in
                    let queryBase = SharedOutput(base: UnsafeMutablePointer(mutating: qs.baseAddress!))
                    Parallel.forEachBlock(count: redo.count, blockSize: 4, threads: threads) { range in
                        let row = UnsafeMutablePointer<Double>.allocate(capacity: p)
                        defer { row.deallocate() }
                        for i in redo[range] {
                            let total = poolLogSpace(problem, query: queryBase.base + i * d, into: row, excluding: leaveOneOut ? i : -1)
                            if total > 0 {
                                for c in 0..<p { output.base[i * p + c] = row[c] / total }
                                flags.base[i] = false
                            }
                        }
                    }
                }
            }
        }
    }
}
