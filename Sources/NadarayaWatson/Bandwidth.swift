/// How an estimator chooses its kernel widths h (one per feature).
public enum Bandwidth: Sendable, Equatable {
    /// Given widths: one for every feature, or one per feature in column order.
    case widths([Double])
    /// A rule of thumb computed from the keys at `fit` time.
    case rule(BandwidthRule)

    /// One width for every feature.
    public static func width(_ h: Double) -> Bandwidth { .widths([h]) }
    /// Scott's rule, ``BandwidthRule/scott``.
    public static var scott: Bandwidth { .rule(.scott) }
    /// Silverman's rule, ``BandwidthRule/silverman``.
    public static var silverman: Bandwidth { .rule(.silverman) }

    /// The widths for `keys`, one per feature, each checked positive and finite.
    ///
    /// - Complexity: O(1) for given widths, O(n·d·log n) at most for a rule.
    public func resolve(for keys: Matrix) throws -> [Double] {
        try resolve(for: keys, weights: nil)
    }

    /// The widths for `keys` with frequency weights (nil: unit weights).
    func resolve(for keys: Matrix, weights: [Double]?) throws -> [Double] {
        switch self {
        case let .widths(h): try Validation.bandwidths(h, features: keys.columns)
        case let .rule(rule): try rule.bandwidths(for: keys, weights: weights)
        }
    }
}

/// Which engine evaluates attention pooling. All give the same answer to rounding (tested);
/// they differ in speed and memory.
public enum EvaluationStrategy: String, CaseIterable, Sendable, Codable {
    /// The fastest engine for the kernel and data.
    case automatic
    /// The plain implementation: an array of n log weights per query. O(n) extra memory per query.
    case reference
    /// The fused online-softmax engine, scalar: one pass over the keys per query, no n × m matrix.
    case streaming
    /// The fused online-softmax engine on SIMD registers for the Gaussian kernel; for compact
    /// kernels, the dense loop over all keys in the index's order.
    case vectorized
    /// Compact kernels through a spatial index (sorted keys in 1-D, a k-d tree above): each query
    /// visits only keys that can lie in its support. Bit for bit the dense result.
    case indexed
}
