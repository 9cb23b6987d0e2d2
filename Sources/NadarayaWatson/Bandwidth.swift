/// How an estimator chooses its kernel widths h (one per feature): given, a rule of thumb, or
/// cross-validation — one vocabulary, resolved once, inside `fit`.
public enum Bandwidth: Sendable, Equatable {
    /// Given widths: one for every feature, or one per feature in column order.
    case widths([Double])
    /// A rule of thumb computed from the keys at `fit` time.
    case rule(BandwidthRule)
    /// The global minimiser of the estimator's own leave-one-out least-squares score
    /// (``CrossValidation``), for regressors; the fitted model reports the score.
    case crossValidation

    /// One width for every feature.
    public static func width(_ h: Double) -> Bandwidth { .widths([h]) }
    /// Scott's rule, ``BandwidthRule/scott``.
    public static var scott: Bandwidth { .rule(.scott) }
    /// Silverman's rule, ``BandwidthRule/silverman``.
    public static var silverman: Bandwidth { .rule(.silverman) }
    /// Leave-one-out cross-validation, ``crossValidation``.
    public static var cv: Bandwidth { .crossValidation }

    /// The widths for `keys`, one per feature, each checked positive and finite.
    ///
    /// - Throws: ``NadarayaWatsonError`` for invalid widths, a degenerate rule, or
    ///   ``crossValidation`` (it needs targets: fit a regressor).
    /// - Complexity: O(1) for given widths, O(n·d·log n) at most for a rule.
    public func resolve(for keys: Matrix) throws -> [Double] {
        try resolve(for: keys, weights: nil).widths
    }

    /// The widths for `keys` with frequency weights (nil: unit weights), and the cross-validation
    /// score when `select` (the estimator's own search) chose them.
    func resolve(for keys: Matrix, weights: [Double]?,
                 select: (() throws -> (bandwidths: [Double], score: Double))? = nil) throws -> (widths: [Double], score: Double?) {
        switch self {
        case let .widths(h): return (try Validation.bandwidths(h, features: keys.columns), nil)
        case let .rule(rule): return (try rule.bandwidths(for: keys, weights: weights), nil)
        case .crossValidation:
            guard let select else {
                throw NadarayaWatsonError.invalidArgument(
                    "cross-validation selects widths for regression (least squares); here give widths or a rule (scott, silverman)")
            }
            let (h, score) = try select()
            return (h, score)
        }
    }
}

/// Called after each evaluation of a cross-validation search with the count so far and the best
/// score yet (for a progress line; the library never prints).
public typealias SelectionProgress = @Sendable (_ evaluations: Int, _ best: Double) -> Void

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

extension Bandwidth {
    /// Given widths as every estimator takes them: one for every feature, or one per feature.
    ///
    /// - Returns: d widths.
    /// - Throws: ``NadarayaWatsonError/bandwidthCountMismatch(features:bandwidths:)`` or
    ///   ``NadarayaWatsonError/invalidBandwidth(feature:value:)`` for a width that is not positive
    ///   and finite.
    public static func expanded(_ widths: [Double], features d: Int) throws -> [Double] {
        try Validation.bandwidths(widths, features: d)
    }
}
