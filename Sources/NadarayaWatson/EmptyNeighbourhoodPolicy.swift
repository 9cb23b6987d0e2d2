/// What a query gets when every attention weight is zero: with a compact kernel, no key lies
/// inside its support.
///
/// Kernels with infinite support never produce an empty neighbourhood (they are evaluated in log
/// space), unless the scaled distances overflow a `Double` (beyond about 10¹⁵⁴ widths).
public enum EmptyNeighbourhoodPolicy: String, CaseIterable, Sendable, Codable {
    /// The prediction is NaN (and so are the query's attention weights and class probabilities).
    case nan
    /// The value of the nearest key by the Euclidean distance of the scaled difference (q − k)/h;
    /// ties go to the first key in training order. Its attention weight is 1.
    case nearest
    /// The mean of all values: average pooling, with uniform weights 1/n.
    case mean
    /// Throw ``NadarayaWatsonError/emptyNeighbourhood(query:)`` naming the first such query.
    case error
}
