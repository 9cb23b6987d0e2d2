import RealModule

// Legend: n keys, d features, h widths.

extension AttentionProblem {
    /// The attention weights of a query so far from every key that the squared scaled distances
    /// overflow a `Double` (beyond ~10¹⁵⁴ widths), for kernels with infinite support.
    ///
    /// Works with L = log₂ ‖(q − k)/h‖, finite for any finite input, and the kernels' asymptotic
    /// weights: for gaussian, laplacian and logistic the weight ratio of two keys is
    /// exp(−(r₁ − r₂)·…), so only the nearest key(s) keep weight (shared equally on exact ties);
    /// for cauchy 1/(1 + r²) → r⁻², so weights ∝ 2^(−2(L − L_min)).
    ///
    /// - Returns: n weights summing to 1.
    /// - Complexity: O(n·d).
    func farLimitWeights(query q: UnsafePointer<Double>) -> [Double] {
        let n = keyCount, d = featureCount
        var logDistance = [Double](repeating: 0, count: n)
        keys.elements.withUnsafeBufferPointer { x in
            for k in 0..<n {
                // log₂|uⱼ| per feature, computed without overflow: |q − k| as 4·|q/4 − k/4|.
                var terms = [Double](repeating: -.infinity, count: d)
                for j in 0..<d {
                    let difference = (q[j] / 4 - x[k * d + j] / 4).magnitude
                    terms[j] = difference > 0 ? Double.log2(difference) + 2 - Double.log2(bandwidths[j]) : -.infinity
                }
                // Radial: ½·log₂ Σ 2^(2Lⱼ); product: the largest term dominates the sum of |uⱼ|.
                let top = terms.max()!
                guard top > -.infinity else { logDistance[k] = -.infinity; continue }
                switch form {
                case .radial:
                    var sum = 0.0
                    for t in terms { sum += Double.exp2(2 * (t - top)) }
                    logDistance[k] = top + Double.log2(sum) / 2
                case .product:
                    var sum = 0.0
                    for t in terms { sum += Double.exp2(t - top) }
                    logDistance[k] = top + Double.log2(sum)
                }
            }
        }
        let nearest = logDistance.min()!
        var weights: [Double]
        if kernel == .cauchy {
            weights = logDistance.map { Double.exp2(-2 * ($0 - nearest)) }
        } else {
            weights = logDistance.map { $0 == nearest ? 1 : 0 }
        }
        let total = weights.reduce(0, +)
        return weights.map { $0 / total }
    }
}
