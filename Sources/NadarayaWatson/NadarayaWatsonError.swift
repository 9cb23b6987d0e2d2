/// Errors thrown by the library. The library never prints; callers decide how to report.
///
/// Row and column indices are 0-based positions in the matrices the caller passed in.
public enum NadarayaWatsonError: Error, Equatable, Sendable {
    /// No keys (training rows) were given.
    case noKeys
    /// Keys have no feature columns.
    case noFeatures
    /// The number of values (rows) differs from the number of keys.
    case valueCountMismatch(keys: Int, values: Int)
    /// A query matrix has a different number of features than the keys.
    case featureCountMismatch(expected: Int, actual: Int)
    /// The number of bandwidths is neither 1 nor the number of features.
    case bandwidthCountMismatch(features: Int, bandwidths: Int)
    /// A bandwidth is not a positive finite number.
    case invalidBandwidth(feature: Int, value: Double)
    /// A key, query or value is NaN or infinite.
    case nonFiniteInput(matrix: InputMatrix, row: Int, column: Int, value: Double)
    /// A rule-of-thumb bandwidth came out as zero (or not finite) for a feature, e.g. because the
    /// feature is constant. `reason` says which statistic vanished.
    case degenerateBandwidth(feature: Int, rule: String, reason: String)
    /// A rule needs more data than was given.
    case notEnoughData(needed: Int, actual: Int, reason: String)
    /// Under ``EmptyNeighbourhoodPolicy/error``: the first query with zero total weight.
    case emptyNeighbourhood(query: Int)
    /// A classifier was given no labels or a label index out of range.
    case invalidLabels(reason: String)
    /// An argument is outside its domain; the message says "should be …, but is x".
    case invalidArgument(String)
    /// A sample weight is negative or not finite (0-based row).
    case invalidSampleWeight(row: Int, value: Double)
    /// A bandwidth that does not fit mixed features: a λ outside its range, a single number for
    /// several features, or a rule of thumb (which has no λ); the message says which.
    case invalidMixedBandwidth(String)

    /// Which input a ``nonFiniteInput(matrix:row:column:value:)`` error is about.
    public enum InputMatrix: String, Sendable {
        case keys, values, queries
    }
}

extension NadarayaWatsonError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .noKeys: "there should be at least one key (training row), but there are none"
        case .noFeatures: "keys should have at least one feature, but have none"
        case let .valueCountMismatch(keys, values):
            "there should be one value per key (\(keys)), but there are \(values)"
        case let .featureCountMismatch(expected, actual):
            "queries should have \(expected) feature\(expected == 1 ? "" : "s"), but have \(actual)"
        case let .bandwidthCountMismatch(features, bandwidths):
            "there should be 1 or \(features) bandwidths (one per feature), but there are \(bandwidths)"
        case let .invalidBandwidth(feature, value):
            "bandwidth \(feature + 1) should be a positive finite number, but is \(value)"
        case let .nonFiniteInput(matrix, row, column, value):
            "\(matrix.rawValue) should be finite, but row \(row + 1), column \(column + 1) is \(value)"
        case let .degenerateBandwidth(feature, rule, reason):
            "the \(rule) bandwidth of feature \(feature + 1) is unusable: \(reason)"
        case let .notEnoughData(needed, actual, reason):
            "\(reason) needs at least \(needed) rows, but there \(actual == 1 ? "is" : "are") \(actual)"
        case let .emptyNeighbourhood(query):
            "query \(query + 1) has no key within the kernel's support"
        case let .invalidLabels(reason): reason
        case let .invalidArgument(message): message
        case let .invalidMixedBandwidth(message): message
        case let .invalidSampleWeight(row, value):
            "sample weights should be finite and at least 0, but row \(row + 1) is \(value)"
        }
    }
}
