import RealModule

// Legend: n keys, m queries, d features, p value components, h widths (one per feature).

/// The plain implementation of attention pooling, written for obviousness, not speed:
/// for each query, every log weight ℓₖ = log α(q, kₖ) in an array, then the softmax with the
/// maximum subtracted, f(q) = Σₖ e^{ℓₖ − M} vₖ / Σₖ e^{ℓₖ − M}, M = maxₖ ℓₖ.
///
/// It is the yardstick the fast engines are tested against, and it computes the attention
/// weight matrix when one is asked for.
///
/// - Complexity: O(m·n·(d + p)) time, O(n) extra memory per query.
enum ReferenceEngine {
    /// The normalised attention weights of one query (n of them, summing to 1), or nil when
    /// every weight is zero (an empty neighbourhood).
    static func weights(_ problem: AttentionProblem, query q: UnsafePointer<Double>) -> [Double]? {
        let n = problem.keyCount
        var logWeights = (0..<n).map { problem.logAttention(query: q, key: $0) }
        let maximum = logWeights.max() ?? -.infinity
        guard maximum > -.infinity else { return nil }
        var total = 0.0
        for k in 0..<n {
            logWeights[k] = Double.exp(logWeights[k] - maximum)
            total += logWeights[k]
        }
        for k in 0..<n { logWeights[k] /= total }
        return logWeights
    }

    static func pool(_ problem: AttentionProblem, queries: Matrix) -> PooledResult {
        let m = queries.rows, d = queries.columns, p = problem.values.width
        var result = PooledResult(values: Array(repeating: 0, count: m * p), isEmpty: Array(repeating: false, count: m))
        queries.elements.withUnsafeBufferPointer { qs in
            result.values.withUnsafeMutableBufferPointer { out in
                for i in 0..<m {
                    guard let w = weights(problem, query: qs.baseAddress! + i * d) else {
                        result.isEmpty[i] = true
                        continue
                    }
                    let row = out.baseAddress! + i * p
                    for k in 0..<problem.keyCount where w[k] != 0 {
                        problem.values.accumulate(key: k, weight: w[k], into: row)
                    }
                }
            }
        }
        return result
    }
}
