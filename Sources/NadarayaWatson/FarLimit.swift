import RealModule

// Legend: n keys, d features, h widths, u = (q − k)/h, r = ‖u‖.

extension AttentionProblem {
    /// The attention weights of a query so far from every key that each log weight is −∞ in
    /// `Double` (beyond ~10¹⁵⁴ widths, or ~10³⁰⁸ for a product-form factor), for kernels with
    /// infinite support.
    ///
    /// Works with wide magnitudes (``WideMagnitude``), finite for any finite input, and the
    /// kernels' asymptotic weights: for gaussian, laplacian and logistic the weight ratio of two
    /// keys is exp(−(r₁ − r₂)·…) with r₁ − r₂ itself astronomically large unless r₁ = r₂, so only
    /// the nearest key(s) keep weight, shared equally on exact ties (distance: ``wideFarDistance(_:_:)``);
    /// for cauchy the log weight −ln(1 + r²) (radial) or −Σⱼ ln(1 + uⱼ²) (product) is finite and
    /// computed exactly from log₂ of the wide squares.
    ///
    /// - Parameter excluded: a key left out (leave-one-out), or −1.
    /// - Returns: n weights summing to 1 (0 for the excluded key); all zero when no key is left.
    /// - Complexity: O(n·d).
    func farLimitWeights(query q: UnsafePointer<Double>, excluding excluded: Int = -1) -> [Double] {
        let n = keyCount, d = featureCount
        var weights = [Double](repeating: 0, count: n)
        keys.elements.withUnsafeBufferPointer { x in
            let key = { (k: Int) in x.baseAddress! + k * d }
            let candidates = (0..<n).filter { $0 != excluded }
            guard !candidates.isEmpty else { return }
            // Adaptive widths λₖ·h: offsets divided by λₖ, and the factor λₖ^{−d} kept.
            let inverse = { (k: Int) in keyScales?.inverse[k] ?? 1 }
            if kernel == .cauchy {
                let logWeights = candidates.map { k -> Double in
                    let logFactor = keyScales?.logFactor[k] ?? 0
                    let i2 = inverse(k) * inverse(k)
                    return form == .radial
                        ? -Self.logOnePlus(wideSquaredDistance(q, key(k)).times(i2)) - logFactor
                        : -scaledOffsets(q, key(k)).reduce(logFactor) {
                            $0 + Self.logOnePlus(WideMagnitude.sum([$1], power: 2).times(i2))
                        }
                }
                let top = logWeights.max()!
                for (k, w) in zip(candidates, logWeights) { weights[k] = Double.exp(w - top) }
            } else {
                let distances = candidates.map { wideFarDistance(q, key($0)).times(inverse($0)) }
                let nearest = distances.min()!
                for (k, r) in zip(candidates, distances) where r == nearest { weights[k] = 1 }
            }
        }
        let total = weights.reduce(0, +)
        return total > 0 ? weights.map { $0 / total } : weights
    }

    /// Gives every query an engine left empty its far-limit result, for kernels with infinite
    /// support (whose weights are never truly all zero: "empty" there means every log weight
    /// overflowed). Compact kernels' empty queries are left for the empty-neighbourhood policy.
    ///
    /// - Complexity: O(n·d) per empty query.
    func applyFarLimit(_ queries: Matrix, to result: inout PooledResult) {
        guard !kernel.isCompact, result.isEmpty.contains(true) else { return }
        let p = values.width, d = queries.columns
        let accumulator = UnsafeMutablePointer<Double>.allocate(capacity: p)
        defer { accumulator.deallocate() }
        queries.elements.withUnsafeBufferPointer { qs in
            for i in 0..<queries.rows where result.isEmpty[i] {
                let w = farLimitWeights(query: qs.baseAddress! + i * d, excluding: -1)
                accumulator.initialize(repeating: 0, count: p)
                for k in 0..<keyCount where w[k] > 0 { values.accumulate(key: k, weight: w[k], into: accumulator) }
                guard w.contains(where: { $0 > 0 }) else { continue }
                for c in 0..<p { result.values[i * p + c] = accumulator[c] }
                result.isEmpty[i] = false
            }
        }
    }

    /// ln(1 + t) for a wide t: log1p where t fits comfortably, else ln t (the dropped ln(1 + 1/t)
    /// is below 2⁻⁶⁰, far under rounding of a number above 42).
    static func logOnePlus(_ t: WideMagnitude) -> Double {
        t.exponent < 60 || t.significand == 0
            ? Double.log(onePlus: t.doubleValue)
            : t.log2 * 0.6931471805599453
    }

    /// The key nearest to `q` by the Euclidean norm of (q − k)/h, other than `excluded`; the
    /// first on ties. Defined for every finite input (distances as ``WideMagnitude``).
    ///
    /// - Returns: a key index, or −1 when no key is left.
    /// - Complexity: O(n·d).
    func nearestKey(to q: UnsafePointer<Double>, excluding excluded: Int = -1) -> Int {
        let d = featureCount
        var best = -1, bestDistance = WideMagnitude.zero
        keys.elements.withUnsafeBufferPointer { x in
            for k in 0..<keyCount where k != excluded {
                let squared = wideSquaredDistance(q, x.baseAddress! + k * d)
                if best < 0 || squared < bestDistance { bestDistance = squared; best = k }
            }
        }
        return best
    }
}
