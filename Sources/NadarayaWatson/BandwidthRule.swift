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
        let n = keys.rows, d = keys.columns
        guard d > 0 else { throw NadarayaWatsonError.noFeatures }
        guard n >= 2 else { throw NadarayaWatsonError.notEnoughData(needed: 2, actual: n, reason: "the \(rawValue) rule") }
        try Validation.requireFinite(keys, as: .keys)
        let factor = Double.pow(Double(n), -1 / Double(d + 4))
        return try (0..<d).map { j in
            let column = keys.column(j)
            let sd = Statistics.standardDeviation(column)
            let h: Double
            switch self {
            case .scott:
                guard sd > 0 else {
                    throw NadarayaWatsonError.degenerateBandwidth(feature: j, rule: rawValue, reason: "the feature is constant")
                }
                h = 1.06 * sd * factor
            case .silverman:
                let sorted = column.sorted()
                let iqr = Statistics.quantile(sorted: sorted, 0.75) - Statistics.quantile(sorted: sorted, 0.25)
                let spread = Swift.min(sd, iqr / 1.349)
                guard spread > 0 else {
                    let reason = sd > 0 ? "its interquartile range is 0" : "the feature is constant"
                    throw NadarayaWatsonError.degenerateBandwidth(feature: j, rule: rawValue, reason: reason)
                }
                h = 0.9 * spread * factor
            }
            guard h.isFinite, h > 0 else {
                throw NadarayaWatsonError.degenerateBandwidth(feature: j, rule: rawValue, reason: "the width underflows or overflows (\(h))")
            }
            return h
        }
    }
}

/// Small, careful descriptive statistics.
enum Statistics {
    /// Mean by pairwise-free compensated (Neumaier) summation.
    static func mean(_ x: [Double]) -> Double {
        var sum = 0.0, compensation = 0.0
        for v in x {
            let t = sum + v
            compensation += sum.magnitude >= v.magnitude ? (sum - t) + v : (v - t) + sum
            sum = t
        }
        return (sum + compensation) / Double(x.count)
    }

    /// Sample standard deviation (divisor n − 1), two passes: the mean first, then the squared
    /// deviations from it, so a large common offset does not cancel catastrophically.
    static func standardDeviation(_ x: [Double]) -> Double {
        let m = mean(x)
        var sum = 0.0, compensation = 0.0
        for v in x {
            let e = (v - m) * (v - m)
            let t = sum + e
            compensation += (sum - t) + e
            sum = t
        }
        return ((sum + compensation) / Double(x.count - 1)).squareRoot()
    }

    /// Hyndman–Fan type 7 quantile of sorted data: position (n − 1)·p, linear interpolation.
    static func quantile(sorted x: [Double], _ p: Double) -> Double {
        let position = Double(x.count - 1) * p
        let lower = Int(position.rounded(.down))
        let fraction = position - Double(lower)
        guard lower + 1 < x.count, fraction > 0 else { return x[lower] }
        return x[lower] + fraction * (x[lower + 1] - x[lower])
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
