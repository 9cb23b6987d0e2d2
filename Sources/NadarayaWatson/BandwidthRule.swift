import RealModule

/// Rules of thumb for the kernel width, one bandwidth per feature.
///
/// With n keys, d features, sdⱼ the sample standard deviation of feature j (divisor n − 1) and
/// IQRⱼ its interquartile range:
/// - `scott`:     hⱼ = 1.06 · sdⱼ · n^(−1/(d+4))
/// - `silverman`: hⱼ = 0.9 · min(sdⱼ, IQRⱼ / 1.349) · n^(−1/(d+4))
///
/// Quartiles are linear interpolations between order statistics (Hyndman–Fan type 7, NumPy's and
/// R's default): the p-quantile of sorted x₀ ≤ … ≤ xₙ₋₁ sits at position (n − 1)·p.
public enum BandwidthRule: String, CaseIterable, Sendable, Codable {
    case scott, silverman

    /// The rule's bandwidths for `keys` (n × d).
    ///
    /// - Throws: ``NadarayaWatsonError/notEnoughData(needed:actual:reason:)`` for fewer than two
    ///   keys (the standard deviation needs n − 1 > 0);
    ///   ``NadarayaWatsonError/degenerateBandwidth(feature:rule:reason:)`` when a width comes out
    ///   zero (a constant feature, or for silverman a zero interquartile range);
    ///   ``NadarayaWatsonError/nonFiniteInput(matrix:row:column:value:)`` for NaN or ±∞ keys.
    /// - Complexity: O(n·d) for scott, O(n·d·log n) for silverman (it sorts each feature).
    public func bandwidths(for keys: Matrix) throws -> [Double] {
        try bandwidths(for: keys, weights: nil)
    }

    /// The rule with frequency weights sᵢ (nil: unit weights): n = Σ sᵢ, the weighted standard
    /// deviation (divisor n − 1) and, for silverman, the weighted type 7 quartiles
    /// (``Statistics/weightedQuantile(sorted:weights:_:)``) — with integer weights exactly the
    /// rule on the rows repeated sᵢ times.
    public func bandwidths(for keys: Matrix, weights: [Double]?) throws -> [Double] {
        let kept = try SampleWeights(weights, count: keys.rows)
        let keys = kept.select(keys), weights = kept.weights
        let d = keys.columns
        let n = weights?.reduce(0, +) ?? Double(keys.rows)
        guard d > 0 else { throw NadarayaWatsonError.noFeatures }
        guard n >= 2 else {
            throw NadarayaWatsonError.notEnoughData(needed: 2, actual: Int(n.rounded(.down)), reason: "the \(rawValue) rule")
        }
        try Validation.requireFinite(keys, as: .keys)
        let factor = Double.pow(n, -1 / Double(d + 4))
        return try (0..<d).map { j in
            // On x / 2ᵏ (exact), so that neither the spread of ±10³⁰⁸ nor that of 5·10⁻³²⁴ leaves
            // the range; the power of two is multiplied back last.
            let column = keys.column(j)
            let (sd, scale) = weights.map { Statistics.weightedScaledStandardDeviation(column, $0) }
                ?? Statistics.scaledStandardDeviation(column)
            let h: Double
            switch self {
            case .scott:
                guard sd > 0 else {
                    throw NadarayaWatsonError.degenerateBandwidth(feature: j, rule: rawValue, reason: "the feature is constant")
                }
                h = 1.06 * sd * factor * scale
            case .silverman:
                let iqr: Double
                if let weights {
                    let order = column.indices.sorted { column[$0] < column[$1] }
                    let sorted = order.map { column[$0] / scale }, sortedWeights = order.map { weights[$0] }
                    iqr = Statistics.weightedQuantile(sorted: sorted, weights: sortedWeights, 0.75)
                        - Statistics.weightedQuantile(sorted: sorted, weights: sortedWeights, 0.25)
                } else {
                    let sorted = column.map { $0 / scale }.sorted()
                    iqr = Statistics.quantile(sorted: sorted, 0.75) - Statistics.quantile(sorted: sorted, 0.25)
                }
                let spread = Swift.min(sd, iqr / 1.349)
                guard spread > 0 else {
                    let reason = sd > 0 ? "its interquartile range is 0" : "the feature is constant"
                    throw NadarayaWatsonError.degenerateBandwidth(feature: j, rule: rawValue, reason: reason)
                }
                h = 0.9 * spread * factor * scale
            }
            guard h.isFinite, h > 0 else {
                let reason = h > 0 ? "the width exceeds the largest finite number" : "the width is below the smallest positive number"
                throw NadarayaWatsonError.degenerateBandwidth(feature: j, rule: rawValue, reason: reason)
            }
            return h
        }
    }
}

/// Small, careful descriptive statistics, defined for any finite data: each works on x / 2ᵏ with
/// 2ᵏ the power of two just at or below max |x| (exact: a power-of-two scale changes no significand),
/// so no sum, difference or square overflows or underflows, and scales back at the end.
enum Statistics {
    /// The power of two 2ᵏ ≤ max |xᵢ| < 2ᵏ⁺¹ (1 for all-zero or empty data).
    static func scale(_ x: [Double]) -> Double {
        let top = x.reduce(0) { Swift.max($0, $1.magnitude) }
        guard top > 0, top.isFinite else { return 1 }
        return Double(sign: .plus, exponent: top.exponent, significand: 1)
    }

    /// The power of two that brings max |xᵢ| into [1, 2) when it lies outside [2⁻⁶⁰, 2⁶⁰], else 1:
    /// dividing by it is exact and changes nothing for ordinary data, and keeps sums of n such
    /// numbers (in float32 as in float64) far from overflow and underflow.
    static func normalizingScale(_ x: [Double]) -> Double {
        let s = scale(x)
        return s >= 0x1p-60 && s <= 0x1p60 ? 1 : s
    }

    /// Mean by compensated (Neumaier) summation of x / 2ᵏ: finite for finite data, inside
    /// [min x, max x].
    static func mean(_ x: [Double]) -> Double {
        let s = scale(x)
        var sum = 0.0, compensation = 0.0
        for value in x {
            let v = value / s
            let t = sum + v
            compensation += sum.magnitude >= v.magnitude ? (sum - t) + v : (v - t) + sum
            sum = t
        }
        return (sum + compensation) / Double(x.count) * s
    }

    /// Sample standard deviation (divisor n − 1) as `(sd of x / 2ᵏ, 2ᵏ)`: two passes — the mean
    /// first, then the squared deviations from it — so a large common offset does not cancel
    /// catastrophically, and neither the squares of 10³⁰⁸ nor those of 5·10⁻³²⁴ leave the range.
    /// The product of the two may overflow (sd of ±1.7·10³⁰⁸ is 2.4·10³⁰⁸); keep them apart until
    /// the result is known to be finite.
    static func scaledStandardDeviation(_ x: [Double]) -> (sd: Double, scale: Double) {
        let s = scale(x)
        let y = x.map { $0 / s }
        let m = mean(y)
        var sum = 0.0, compensation = 0.0
        for v in y {
            let e = (v - m) * (v - m)
            let t = sum + e
            compensation += (sum - t) + e
            sum = t
        }
        return (((sum + compensation) / Double(x.count - 1)).squareRoot(), s)
    }

    /// Sample standard deviation (divisor n − 1); +∞ only where the true value exceeds the
    /// largest `Double`.
    static func standardDeviation(_ x: [Double]) -> Double {
        let (sd, s) = scaledStandardDeviation(x)
        return sd * s
    }

    /// Hyndman–Fan type 7 quantile of sorted data: position (n − 1)·p, linear interpolation,
    /// as x₍ₗ₎·(1 − f) + x₍ₗ₊₁₎·f, which cannot overflow (x₍ₗ₊₁₎ − x₍ₗ₎ can).
    static func quantile(sorted x: [Double], _ p: Double) -> Double {
        let position = Double(x.count - 1) * p
        let lower = Int(position.rounded(.down))
        let fraction = position - Double(lower)
        guard lower + 1 < x.count, fraction > 0 else { return x[lower] }
        let (a, b) = (x[lower], x[lower + 1])
        let difference = b - a
        return difference.isFinite ? a + fraction * difference : a * (1 - fraction) + b * fraction
    }
}

/// Input checks shared by the estimators.
enum Validation {
    static func requireFinite(_ m: Matrix, as which: NadarayaWatsonError.InputMatrix) throws {
        for (index, value) in m.elements.enumerated() where !value.isFinite {
            throw NadarayaWatsonError.nonFiniteInput(matrix: which, row: index / m.columns, column: index % m.columns, value: value)
        }
    }

    /// Expands one bandwidth to all features and checks each is positive and finite.
    static func bandwidths(_ h: [Double], features d: Int) throws -> [Double] {
        guard h.count == 1 || h.count == d else {
            throw NadarayaWatsonError.bandwidthCountMismatch(features: d, bandwidths: h.count)
        }
        let expanded = h.count == d ? h : Array(repeating: h[0], count: d)
        for (j, value) in expanded.enumerated() where !(value.isFinite && value > 0) {
            throw NadarayaWatsonError.invalidBandwidth(feature: j, value: value)
        }
        return expanded
    }
}
