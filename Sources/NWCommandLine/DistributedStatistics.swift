import NadarayaWatson

// Legend: P ranks, n = Σ sᵢ over every rank, x a feature's values on this rank, 2ᵏ the global
// power-of-two scale of max |x|.

/// The rules of thumb over key shards: the same formulas as ``BandwidthRule`` on the union of
/// every rank's rows. Means and spreads are sums merged over ranks (equal to the one-process
/// values to rounding); quartiles are exact order statistics, found by bisection on the
/// ordered bit patterns of the doubles with one global count per step (≤ 64 steps).
enum DistributedStatistics {
    /// The rule's widths, one per feature (the same on every rank).
    ///
    /// - Throws: ``NadarayaWatsonError`` as ``BandwidthRule/bandwidths(for:weights:)``.
    static func rule(_ rule: BandwidthRule, keys: Matrix, weights: [Double]?, cluster: Cluster) throws -> [Double] {
        let d = keys.columns
        let rows = (0..<keys.rows).filter { (weights?[$0] ?? 1) > 0 }
        let s = rows.map { weights?[$0] ?? 1 }
        let n = cluster.allSum([s.reduce(0, +)])[0]
        guard d > 0 else { throw NadarayaWatsonError.noFeatures }
        guard n >= 2 else {
            throw NadarayaWatsonError.notEnoughData(needed: 2, actual: Int(n.rounded(.down)), reason: "the \(rule.rawValue) rule")
        }
        let factor = Double.pow(n, -1 / Double(d + 4))
        return try (0..<d).map { j in
            let column = rows.map { keys[$0, j] }
            let top = cluster.allMax([column.reduce(0) { max($0, $1.magnitude) }])[0]
            let scale = top > 0 && top.isFinite ? Double(sign: .plus, exponent: top.exponent, significand: 1) : 1
            let y = column.map { $0 / scale }
            let mean = cluster.allSum([zip(y, s).reduce(0) { $0 + $1.0 * $1.1 }])[0] / n
            let squares = cluster.allSum([zip(y, s).reduce(0) { $0 + $1.1 * ($1.0 - mean) * ($1.0 - mean) }])[0]
            let sd = (squares / (n - 1)).squareRoot()
            let h: Double
            switch rule {
            case .scott:
                guard sd > 0 else {
                    throw NadarayaWatsonError.degenerateBandwidth(feature: j, rule: rule.rawValue, reason: "the feature is constant")
                }
                h = 1.06 * sd * factor * scale
            case .silverman:
                let order = y.indices.sorted { y[$0] < y[$1] }
                let sorted = order.map { y[$0] }, sortedWeights = order.map { s[$0] }
                let iqr = quantile(sorted: sorted, weights: sortedWeights, total: n, 0.75, cluster: cluster)
                    - quantile(sorted: sorted, weights: sortedWeights, total: n, 0.25, cluster: cluster)
                let spread = min(sd, iqr / 1.349)
                guard spread > 0 else {
                    let reason = sd > 0 ? "its interquartile range is 0" : "the feature is constant"
                    throw NadarayaWatsonError.degenerateBandwidth(feature: j, rule: rule.rawValue, reason: reason)
                }
                h = 0.9 * spread * factor * scale
            }
            guard h.isFinite, h > 0 else {
                let reason = h > 0 ? "the width exceeds the largest finite number" : "the width is below the smallest positive number"
                throw NadarayaWatsonError.degenerateBandwidth(feature: j, rule: rule.rawValue, reason: reason)
            }
            return h
        }
    }

    /// The weighted type 7 quantile over every rank (`Statistics.weightedQuantile` on the union):
    /// position t = (n − 1)·p, x(⌊t⌋) + f·(x(⌊t⌋ + 1) − x(⌊t⌋)).
    static func quantile(sorted x: [Double], weights s: [Double], total n: Double, _ p: Double, cluster: Cluster) -> Double {
        let position = (n - 1) * p
        let lower = position.rounded(.down), fraction = position - lower
        let a = element(lower, sorted: x, weights: s, cluster: cluster)
        guard fraction > 0 else { return a }
        let b = element(lower + 1, sorted: x, weights: s, cluster: cluster)
        let difference = b - a
        return difference.isFinite ? a + fraction * difference : a * (1 - fraction) + b * fraction
    }

    /// The expanded sample's element at position t: the least value v with W(x ≤ v) > t (the
    /// largest value when t ≥ n), by bisection over the doubles' order-preserving bit patterns.
    static func element(_ t: Double, sorted x: [Double], weights s: [Double], cluster: Cluster) -> Double {
        var cumulative = [Double](repeating: 0, count: x.count + 1)
        for i in 0..<x.count { cumulative[i + 1] = cumulative[i] + s[i] }
        // W(x ≤ v) on this rank, from the sorted values and their cumulative weights.
        func weightAtOrBelow(_ v: Double) -> Double {
            var lo = 0, hi = x.count
            while lo < hi {
                let mid = (lo + hi) / 2
                if x[mid] <= v { lo = mid + 1 } else { hi = mid }
            }
            return cumulative[lo]
        }
        let smallest = cluster.allMax([-(x.first ?? .infinity)])[0], largest = cluster.allMax([x.last ?? -.infinity])[0]
        var lo = ordered(-smallest), hi = ordered(largest)
        // Invariant: W(x ≤ value(hi)) > t or hi is the largest value; W(x ≤ value(lo − 1)) ≤ t.
        while lo < hi {
            let mid = lo + (hi - lo) / 2
            if cluster.allSum([weightAtOrBelow(value(mid))])[0] > t { hi = mid } else { lo = mid + 1 }
        }
        return value(lo)
    }

    /// The doubles' total order as unsigned integers (−0 before +0; no NaN here).
    static func ordered(_ x: Double) -> UInt64 {
        let bits = x.bitPattern
        return bits & (1 << 63) != 0 ? ~bits : bits | (1 << 63)
    }

    static func value(_ key: UInt64) -> Double {
        Double(bitPattern: key & (1 << 63) != 0 ? key & ~(1 << 63) : ~key)
    }
}
