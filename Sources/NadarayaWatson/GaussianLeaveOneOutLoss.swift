import RealModule

// Legend: n training points (each is both a query and a key), d features, w scales (one per
// feature, w = 1/h), u = (xⱼ − xᵢ)·|w| the scaled offsets, s frequency weights.
//
// Implementation goals, in order of priority:
// 1. Exact: the loss and gradient from leave-one-out kernel-moment states (the online softmax,
//    the point's own key masked in the engine), queries whose every weight overflowed given
//    the far limit, whose one-hot weights do not move with w (gradient terms 0).
// 2. One engine: the sums are the moment engine's squares set (``MomentSet/squares(dimension:)``);
//    nothing here evaluates a kernel.
// 3. Fast: 1-D points sorted once so the engine visits only each block's window of keys.

/// The leave-one-out (or include-self) Gaussian loss of parametric attention pooling and its
/// gradient in the scales w.
///
/// For every point i, with αᵢⱼ the softmax of −½‖uᵢⱼ‖² over j ≠ i (all j with `includeSelf`),
/// weighted by sⱼ:
///
///     fᵢ = Σⱼ αᵢⱼ yⱼ,      L = Σᵢ sᵢ·½ (fᵢ − yᵢ)²,
///     ∂L/∂wₖ = −(1/wₖ) Σᵢ sᵢ(fᵢ − yᵢ) Σⱼ αᵢⱼ (yⱼ − fᵢ) uᵢⱼₖ²
///            = −(1/wₖ) Σᵢ sᵢ(fᵢ − yᵢ)·(Vₖ − fᵢUₖ)/S,
///
/// with S = Σ sα, Uₖ = Σ sα uₖ², Vₖ = Σ sα y uₖ² the squares set's moments. L depends on w only
/// through w², so L(−w) = L(w) and the gradient is odd in each wₖ (0 where wₖ = 0).
enum GaussianLeaveOneOutLoss {
    struct Result: Sendable {
        /// fᵢ for every point.
        var predictions: [Double]
        /// L = Σᵢ sᵢ·½ (fᵢ − yᵢ)².
        var loss: Double
        /// ∂L/∂wₖ, one per feature.
        var gradient: [Double]
    }

    /// - Parameter sampleWeights: frequency weights sᵢ > 0 (nil: 1).
    /// - Complexity: O(n²·d) time (O(n·neighbours) in 1-D at narrow widths), O(n·d) memory.
    static func evaluate(keys: Matrix, targets: [Double], scales w: [Double], includeSelf: Bool,
                         sampleWeights: [Double]? = nil, threads: Int) -> Result {
        let n = keys.rows, d = keys.columns
        if d == 1, (1..<n).contains(where: { keys.elements[$0 - 1] > keys.elements[$0] }) {
            // Sorted, so the engine visits only the keys that can carry weight; L and its
            // gradient are sums over the points, the predictions are put back in order.
            let order = RadixSort.sortedOrder(keys.elements)
            var sorted = evaluate(keys: Matrix(column: order.map { keys.elements[$0] }), targets: order.map { targets[$0] },
                                  scales: w, includeSelf: includeSelf, sampleWeights: sampleWeights.map { s in order.map { s[$0] } },
                                  threads: threads)
            var predictions = [Double](repeating: 0, count: n)
            for (position, i) in order.enumerated() { predictions[i] = sorted.predictions[position] }
            sorted.predictions = predictions
            return sorted
        }
        let widths = w.map { Swift.min(1 / $0.magnitude, .greatestFiniteMagnitude) }
        let problem = AttentionProblem(kernel: .gaussian, form: .radial, keys: keys, bandwidths: widths,
                                       values: .dense(Matrix(column: targets)))
        let set = MomentSet.squares(dimension: d)
        let moments = MomentProblem(attention: problem, logWeights: sampleWeights?.map { Double.log($0) }, moments: set,
                                    leaveOneOut: !includeSelf)
        let states = MomentEngine.states(moments, queries: keys, threads: threads)
        let T = set.responseOffset, M = states.count
        var predictions = [Double](repeating: 0, count: n)
        var loss = 0.0, terms = [Double](repeating: 0, count: d)
        states.sums.withUnsafeBufferPointer { all in
            for i in 0..<n {
                let sums = all.baseAddress! + i * M, weight = sampleWeights?[i] ?? 1
                let f: Double
                if states.shifts[i] > -.infinity {
                    f = sums[T] / sums[0]
                    let residual = weight * (f - targets[i])
                    for k in 0..<d { terms[k] += residual * (sums[T + 1 + k] - f * sums[1 + k]) / sums[0] }
                } else {
                    f = farLimit(problem, targets: targets, point: i, includeSelf: includeSelf, sampleWeights: sampleWeights)
                }
                predictions[i] = f
                loss += 0.5 * weight * (f - targets[i]) * (f - targets[i])
            }
        }
        let gradient = (0..<d).map { k in w[k] == 0 ? 0 : -terms[k] / w[k] }
        return Result(predictions: predictions, loss: loss, gradient: gradient)
    }

    /// fᵢ where every other key's log weight is −∞ (keys ~10¹⁵⁴ widths apart): the nearest other
    /// key(s), by ``AttentionProblem/farLimitWeights(query:excluding:)``, weighted by s.
    static func farLimit(_ problem: AttentionProblem, targets: [Double], point i: Int, includeSelf: Bool, sampleWeights: [Double]?) -> Double {
        let d = problem.featureCount
        let weights = problem.keys.elements.withUnsafeBufferPointer {
            problem.farLimitWeights(query: $0.baseAddress! + i * d, excluding: includeSelf ? -1 : i)
        }
        var f = 0.0, total = 0.0
        for k in weights.indices where weights[k] > 0 {
            let s = weights[k] * (sampleWeights?[k] ?? 1)
            f += s * targets[k]
            total += s
        }
        return f / total
    }
}
