import RealModule

// Legend: a, b two values of one discrete feature, c its number of categories, λ its smoothing
// parameter.

/// What a feature column holds, as R np's and statsmodels' `var_type` (`c`, `u`, `o`).
public enum FeatureKind: String, Sendable, CaseIterable, Codable {
    /// A real number, smoothed by the continuous kernel with a width h.
    case continuous
    /// An unordered category (any values, compared exactly), smoothed by the Aitchison–Aitken
    /// kernel with λ ∈ [0, (c − 1)/c].
    case categorical
    /// An ordered category holding numbers, smoothed by the Wang–van Ryzin kernel with λ ∈ [0, 1].
    case ordered

    /// Whether the feature is smoothed by a discrete kernel.
    public var isDiscrete: Bool { self != .continuous }
}

/// One discrete feature's kernel l(a, b; λ), the factor it contributes to every attention weight:
///
/// - Aitchison–Aitken (categorical): l = 1 − λ if a = b, else λ/(c − 1), λ ∈ [0, (c − 1)/c];
///   at λ = 0 only equal categories carry weight, at λ = (c − 1)/c every category weighs 1/c
///   (the feature is ignored).
/// - Wang–van Ryzin (ordered): l = 1 − λ if a = b, else ½(1 − λ)·λ^|a−b|, λ ∈ [0, 1].
///
/// Both sum to 1 over their categories (Wang–van Ryzin over the integers), so a product with a
/// continuous density kernel is a mixed density. The engines use the *relative* log factor
/// (``relativeLogFactor(_:_:)``): Wang–van Ryzin's common factor 1 − λ is the same for every key
/// and cancels in every ratio (regression, classification), so it is dropped there and added back
/// for densities (``commonLogFactor``). That keeps λ = 1 meaningful for ratios: the limit λ → 1,
/// where every key of another category weighs ½ relative to its own.
struct DiscreteKernel: Sendable, Equatable {
    let kind: FeatureKind
    /// c: the number of distinct values among the keys (categorical; unused for ordered).
    let categories: Int
    let lambda: Double
    /// The logs the factor needs, once: categorical ln(1 − λ) and ln(λ/(c − 1)); ordered ln λ.
    private let logEqual: Double
    private let logOther: Double

    init(kind: FeatureKind, categories: Int, lambda: Double) {
        self.kind = kind
        self.categories = categories
        self.lambda = lambda
        if kind == .categorical {
            logEqual = Double.log(onePlus: -lambda)
            logOther = lambda > 0 ? Double.log(lambda / Double(categories - 1)) : -.infinity
        } else {
            logEqual = 0
            logOther = lambda > 0 ? Double.log(lambda) : -.infinity
        }
    }

    /// λ's largest value: (c − 1)/c (categorical) or 1 (ordered).
    static func upperBound(_ kind: FeatureKind, categories c: Int) -> Double {
        kind == .categorical ? Double(c - 1) / Double(c) : 1
    }

    var upperBound: Double { Self.upperBound(kind, categories: categories) }

    /// ln l(a, b) up to the common factor: categorical ln(1 − λ) or ln(λ/(c − 1)); ordered 0 or
    /// ln ½ + |a − b|·ln λ. −∞ where the factor is 0 (λ = 0 and a ≠ b).
    ///
    /// - Complexity: O(1).
    @inline(__always)
    func relativeLogFactor(_ a: Double, _ b: Double) -> Double {
        if a == b { return logEqual }
        if kind == .categorical || logOther == -.infinity { return logOther }
        return -Self.ln2 + (a - b).magnitude * logOther
    }

    /// The factor every key shares, dropped from ``relativeLogFactor(_:_:)``: ln(1 − λ) for
    /// ordered features (−∞ at λ = 1), 0 for categorical ones.
    var commonLogFactor: Double { kind == .ordered ? Double.log(onePlus: -lambda) : 0 }

    static let ln2 = 0.6931471805599453
}
