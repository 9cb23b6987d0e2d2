// Legend: n rows, s their observation (frequency) weights, N = Σ sᵢ.

/// Observation weights as frequencies: a row of weight sᵢ counts as sᵢ copies of itself. Rows of
/// weight 0 are removed before anything is computed.
struct SampleWeights {
    /// The kept rows' weights (all positive), or nil when none were given.
    let weights: [Double]?
    /// The kept rows, in order (nil: all).
    let kept: [Int]?

    /// Validates the weights (each finite and ≥ 0, not all 0) and keeps the positive ones.
    init(_ weights: [Double]?, count n: Int) throws {
        guard let weights else { (self.weights, kept) = (nil, nil); return }
        guard weights.count == n else {
            throw NadarayaWatsonError.invalidArgument("there should be one sample weight per row (\(n)), but there are \(weights.count)")
        }
        for (i, w) in weights.enumerated() where !(w.isFinite && w >= 0) {
            throw NadarayaWatsonError.invalidSampleWeight(row: i, value: w)
        }
        let kept = weights.indices.filter { weights[$0] > 0 }
        guard !kept.isEmpty else { throw NadarayaWatsonError.invalidArgument("every sample weight is 0: no row is left") }
        self.kept = kept.count == n ? nil : kept
        self.weights = kept.map { weights[$0] }
    }

    func select(_ m: Matrix) -> Matrix {
        guard let kept else { return m }
        return Matrix(rows: kept.count, columns: m.columns, elements: kept.flatMap { m.row($0) })
    }

    func select(_ x: [Double]) -> [Double] {
        guard let kept else { return x }
        return kept.map { x[$0] }
    }

    /// Σ sᵢxᵢ / Σ sᵢ (the plain mean without weights), on x / 2ᵏ so no sum overflows.
    static func weightedMean(_ x: [Double], _ s: [Double]?) -> Double {
        guard let s else { return Statistics.mean(x) }
        let scale = Statistics.scale(x)
        var sum = 0.0, total = 0.0
        for (v, w) in zip(x, s) { sum += w * (v / scale); total += w }
        return sum / total * scale
    }
}

extension Statistics {
    /// The frequency-weighted standard deviation as `(sd of x / 2ᵏ, 2ᵏ)`:
    /// √(Σ sᵢ(xᵢ − x̄)² / (N − 1)), x̄ = Σ sᵢxᵢ/N — with integer weights, that of the repeated
    /// rows. Requires N > 1.
    static func weightedScaledStandardDeviation(_ x: [Double], _ s: [Double]) -> (sd: Double, scale: Double) {
        let scale = Statistics.scale(x)
        let y = x.map { $0 / scale }
        let total = s.reduce(0, +)
        let mean = zip(y, s).reduce(0) { $0 + $1.0 * $1.1 } / total
        let squares = zip(y, s).reduce(0) { $0 + $1.1 * ($1.0 - mean) * ($1.0 - mean) }
        return ((squares / (total - 1)).squareRoot(), scale)
    }

    /// The frequency-weighted analogue of the type 7 quantile: position t = (N − 1)·p in the
    /// expanded sample, where the expanded sample's element at position t ≥ 0 is the sorted row
    /// r with Cᵣ₋₁ ≤ t < Cᵣ (C the cumulative weights, C₋₁ = 0); then x(⌊t⌋) + f·(x(⌊t⌋ + 1) −
    /// x(⌊t⌋)), f = t − ⌊t⌋. With integer weights, exactly type 7 on the repeated rows.
    static func weightedQuantile(sorted x: [Double], weights s: [Double], _ p: Double) -> Double {
        let total = s.reduce(0, +)
        let position = (total - 1) * p
        let lower = position.rounded(.down), fraction = position - lower
        func element(_ t: Double) -> Double {
            var cumulative = 0.0
            for (value, w) in zip(x, s) {
                cumulative += w
                if t < cumulative { return value }
            }
            return x[x.count - 1]
        }
        let a = element(lower)
        guard fraction > 0 else { return a }
        let b = element(lower + 1)
        let difference = b - a
        return difference.isFinite ? a + fraction * difference : a * (1 - fraction) + b * fraction
    }
}
