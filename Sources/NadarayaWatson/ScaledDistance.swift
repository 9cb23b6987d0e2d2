import RealModule

// Legend: d features, h widths (one per feature), u = (q − k)/h the scaled offset.
//
// Implementation goals, in order of priority:
// 1. Defined for every finite input: q − k may overflow (|q − k| up to 2·1.8·10³⁰⁸), uⱼ = (qⱼ − kⱼ)/hⱼ
//    may overflow (h down to 5·10⁻³²⁴) or underflow (h up to 1.8·10³⁰⁸), and ‖u‖² overflows beyond
//    ~10¹⁵⁴ widths; none of that may turn a distance into ∞, 0 or NaN.
// 2. Equal to the engines' plain arithmetic where that arithmetic is exact enough: the fast path
//    is ‖u‖² by division and squares, used whenever it is a normal number.
// 3. Cheap enough for the rare paths that need it (nearest keys, far limits): O(d) per pair.

/// A non-negative number `significand · 2^exponent` with an unbounded exponent: the magnitudes of
/// scaled distances of finite inputs, which a `Double` cannot always hold.
struct WideMagnitude: Comparable, Sendable {
    /// In [1, 2), or 0 for the number zero.
    let significand: Double
    /// The binary exponent (irrelevant for zero).
    let exponent: Int

    static let zero = WideMagnitude(significand: 0, exponent: 0)

    /// The exact value of a finite non-negative `Double`.
    init(_ x: Double) {
        if x == 0 {
            self = .zero
        } else {
            self.init(significand: x.significand, exponent: Int(x.exponent))
        }
    }

    private init(significand: Double, exponent: Int) {
        self.significand = significand
        self.exponent = exponent
    }

    /// `x · 2^scale` for a finite non-negative `x`, normalised.
    init(_ x: Double, timesTwoTo scale: Int) {
        let w = WideMagnitude(x)
        self = w.significand == 0 ? .zero : WideMagnitude(significand: w.significand, exponent: w.exponent + scale)
    }

    /// log₂ of the value: −∞ for zero, finite otherwise.
    var log2: Double {
        significand == 0 ? -.infinity : Double(exponent) + Double.log2(significand)
    }

    /// The value as a `Double`: ∞ past the largest finite, 0 below the smallest subnormal.
    var doubleValue: Double {
        guard significand != 0 else { return 0 }
        if exponent > Int(Double.greatestFiniteMagnitude.exponent) { return .infinity }
        if exponent < -1100 { return 0 }
        return Double(sign: .plus, exponent: Double.Exponent(exponent), significand: significand)
    }

    /// The value times a finite positive `factor`.
    func times(_ factor: Double) -> WideMagnitude {
        guard significand != 0 else { return .zero }
        return WideMagnitude(significand * factor.significand, timesTwoTo: exponent + Int(factor.exponent))
    }

    /// The square root (the exponent halved exactly, the significand's root rounded once).
    var squareRoot: WideMagnitude {
        guard significand != 0 else { return .zero }
        let odd = exponent & 1
        return WideMagnitude((significand * Double(1 + odd)).squareRoot(), timesTwoTo: (exponent - odd) / 2)
    }

    static func < (a: WideMagnitude, b: WideMagnitude) -> Bool {
        if a.significand == 0 || b.significand == 0 { return a.significand < b.significand }
        return a.exponent != b.exponent ? a.exponent < b.exponent : a.significand < b.significand
    }

    /// Σ tᵢ^power for magnitudes tᵢ (power 1 or 2), summed relative to the largest term so that
    /// no partial sum overflows; terms 2⁻¹⁰⁰⁰ below the largest vanish, as they would in a sum.
    static func sum(_ terms: [WideMagnitude], power: Int) -> WideMagnitude {
        guard let top = terms.max(), top.significand != 0 else { return .zero }
        var total = 0.0
        for t in terms where t.significand != 0 {
            let shift = t.exponent - top.exponent
            guard shift > -1000 / power else { continue }
            let scaled = Double(sign: .plus, exponent: Double.Exponent(shift), significand: t.significand)
            total += power == 2 ? scaled * scaled : scaled
        }
        return WideMagnitude(total, timesTwoTo: power * top.exponent)
    }
}

extension AttentionProblem {
    /// |uⱼ| = |qⱼ − kⱼ| / hⱼ for every feature, exactly as wide magnitudes (rounded once per
    /// division), for any finite query and key.
    func scaledOffsets(_ q: UnsafePointer<Double>, _ key: UnsafePointer<Double>) -> [WideMagnitude] {
        (0..<featureCount).map { j in
            var difference = (q[j] - key[j]).magnitude, extra = 0
            if !difference.isFinite {
                // |q − k| > 1.8·10³⁰⁸: both halves are exact (the inputs are that large).
                difference = (q[j] / 2 - key[j] / 2).magnitude
                extra = 1
            }
            guard difference > 0 else { return .zero }
            let h = bandwidths[j]
            let ratio = difference.significand / h.significand
            return WideMagnitude(ratio, timesTwoTo: Int(difference.exponent) - Int(h.exponent) + extra)
        }
    }

    /// ‖(q − k)/h‖² for any finite query and key, without overflow or underflow. Where the plain
    /// arithmetic (``squaredScaledDistance(_:_:)``) gives a normal number it is that number.
    ///
    /// - Complexity: O(d).
    func wideSquaredDistance(_ q: UnsafePointer<Double>, _ key: UnsafePointer<Double>) -> WideMagnitude {
        let plain = squaredScaledDistance(q, key)
        if plain.isNormal { return WideMagnitude(plain) }
        return WideMagnitude.sum(scaledOffsets(q, key), power: 2)
    }

    /// The distance whose ordering decides a kernel's far limit: the Euclidean ‖u‖ for the radial
    /// form, Σⱼ|uⱼ| for the product form (the log weight of laplacian and logistic kernels is
    /// −Σⱼ|uⱼ| + O(1) there; for gaussian both forms are radial).
    func wideFarDistance(_ q: UnsafePointer<Double>, _ key: UnsafePointer<Double>) -> WideMagnitude {
        if form == .radial || kernel == .gaussian { return wideSquaredDistance(q, key).squareRoot }
        return WideMagnitude.sum(scaledOffsets(q, key), power: 1)
    }
}
