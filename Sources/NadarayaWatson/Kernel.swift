import RealModule

/// A kernel profile K(u) of a scaled distance u, with constants dropped (they cancel in
/// Nadaraya–Watson pooling).
///
/// | kernel       | K(u)                 | support        |
/// |--------------|----------------------|----------------|
/// | gaussian     | exp(−u²/2)           | ℝ              |
/// | boxcar       | 1                    | \|u\| < 1      |
/// | constant     | 1                    | ℝ (average pooling) |
/// | epanechnikov | 1 − u²               | \|u\| < 1      |
/// | triangular   | 1 − \|u\|            | \|u\| < 1      |
/// | biweight     | (1 − u²)²            | \|u\| < 1      |
/// | triweight    | (1 − u²)³            | \|u\| < 1      |
/// | tricube      | (1 − \|u\|³)³        | \|u\| < 1      |
/// | cosine       | cos(πu/2)            | \|u\| < 1      |
/// | logistic     | 1/(eᵘ + 2 + e⁻ᵘ)     | ℝ              |
/// | cauchy       | 1/(1 + u²)           | ℝ              |
/// | laplacian    | exp(−\|u\|)          | ℝ              |
/// | dot          | exp(Σⱼ qⱼkⱼ / hⱼ²)   | ℝᵈ (not a function of u) |
///
/// `dot` is the softmax of a scaled dot product, the attention of a Transformer (hⱼ = d^¼ for
/// all j gives its 1/√d). It is not a function of the distance: on unit vectors
/// (‖q‖ = ‖k‖ = 1, equal widths h) q·k/h² = (1 − ‖q − k‖²/2)/h², so it gives the Gaussian's
/// weights exactly, and its profile functions below are the Gaussian's. Radial and product
/// forms are the same kernel. It has no density normalisation (it is not a density kernel).
///
/// Compact kernels have **open** support: K(u) = 0 for |u| ≥ 1, so a key at exactly one width
/// from the query gets no weight (for cosine that is also the profile's own value there).
///
/// A note on names: the *Dive into Deep Learning* chapter calls `max(0, 1 − |u|)` "Epanechikov".
/// That formula is the **triangular** kernel; the Epanechnikov kernel is `1 − u²`. We use the
/// standard names.
public enum Kernel: String, CaseIterable, Sendable, Codable {
    case gaussian, boxcar, constant, epanechnikov, triangular, biweight, triweight, tricube, cosine
    case logistic, cauchy, laplacian
    case dot

    /// Whether K vanishes for |u| ≥ 1 (compact, open support) rather than being positive everywhere.
    ///
    /// Compact kernels are evaluated in linear space and can leave a query with no weight at all
    /// (an *empty neighbourhood*); kernels with infinite support are evaluated in log space and
    /// never do.
    @inlinable
    public var isCompact: Bool {
        switch self {
        case .boxcar, .epanechnikov, .triangular, .biweight, .triweight, .tricube, .cosine: true
        case .gaussian, .constant, .logistic, .cauchy, .laplacian, .dot: false
        }
    }

    /// The profile K(u), without normalising constant.
    ///
    /// Exact to a few ulps (one or two libm calls). Returns 0 outside a compact support,
    /// including at |u| = 1 exactly. For `u = ±∞`, kernels with infinite support return 0 and
    /// `constant` returns 1. `u` should not be NaN.
    ///
    /// - Complexity: O(1).
    @inlinable
    public func profile(_ u: Double) -> Double {
        let a = u.magnitude
        switch self {
        case .gaussian, .dot: return Double.exp(-0.5 * u * u)
        case .constant: return 1
        case .logistic:
            // 1/(eᵘ + 2 + e⁻ᵘ) = e^{−|u|} / (1 + e^{−|u|})², which never overflows.
            let e = Double.exp(-a)
            return e / ((1 + e) * (1 + e))
        case .cauchy: return 1 / (1 + u * u)
        case .laplacian: return Double.exp(-a)
        default:
            guard a < 1 else { return 0 }
            return compactProfile(a)
        }
    }

    /// log K(u): the profile in log space, as used by the engines for kernels with infinite
    /// support. Returns −∞ where K(u) = 0.
    ///
    /// Accurate to a few ulps; never loses the tail to underflow (for gaussian it is simply
    /// −u²/2, finite for every |u| < 1.3·10¹⁵⁴).
    ///
    /// - Complexity: O(1).
    @inlinable
    public func logProfile(_ u: Double) -> Double {
        let a = u.magnitude
        switch self {
        case .gaussian, .dot: return -0.5 * u * u
        case .constant: return 0
        case .logistic: return -a - 2 * Double.log(onePlus: Double.exp(-a))
        case .cauchy: return -Double.log(onePlus: u * u)
        case .laplacian: return -a
        default:
            guard a < 1 else { return -.infinity }
            return Double.log(compactProfile(a))
        }
    }

    /// The profile of a compact kernel at 0 ≤ a < 1.
    @usableFromInline
    func compactProfile(_ a: Double) -> Double {
        switch self {
        case .boxcar: return 1
        case .epanechnikov: return 1 - a * a
        case .triangular: return 1 - a
        case .biweight:
            let t = 1 - a * a
            return t * t
        case .triweight:
            let t = 1 - a * a
            return t * t * t
        case .tricube:
            let t = 1 - a * a * a
            return t * t * t
        case .cosine: return Double.cos(Double.pi / 2 * a)
        case .gaussian, .constant, .logistic, .cauchy, .laplacian, .dot:
            preconditionFailure("\(self) is not a compact kernel")
        }
    }
}
