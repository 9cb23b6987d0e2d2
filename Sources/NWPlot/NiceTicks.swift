/// "Nice" axis ticks: steps of 1, 2, 2.5 or 5 times a power of ten (Heckbert, *Graphics Gems*,
/// 1990, with matplotlib's 2.5), and labels with just enough decimals.
public enum NiceTicks {
    /// The nice step for about `count` intervals over `span`: the smallest of 1, 2, 2.5, 5, 10
    /// times 10^⌊log₁₀(span/count)⌋ that is at least span/count.
    ///
    /// - Complexity: O(1).
    public static func step(span: Double, count: Int = 6) -> Double {
        guard span > 0, span.isFinite, count > 0 else { return 1 }
        return step(raw: span / Double(count))
    }

    /// The nice step for about `count` intervals over [lower, upper], for any finite ends: the
    /// span is taken in halves (upper − lower overflows for ±1.7·10³⁰⁸), the same number where
    /// it does not.
    public static func step(from lower: Double, to upper: Double, count: Int = 6) -> Double {
        let halfSpan = upper / 2 - lower / 2
        guard halfSpan > 0, halfSpan.isFinite, count > 0 else { return 1 }
        return step(raw: halfSpan / (Double(count) / 2))
    }

    static func step(raw: Double) -> Double {
        let magnitude = power10(Int((log10(raw)).rounded(.down)))
        for factor in [1, 2, 2.5, 5, 10] where factor * magnitude >= raw * (1 - 1e-9) {
            return factor * magnitude
        }
        return 10 * magnitude
    }

    /// The multiples of a nice step inside [lower, upper], at most about `count` + 1 of them.
    ///
    /// - Complexity: O(count).
    public static func ticks(from lower: Double, to upper: Double, count: Int = 6) -> [Double] {
        guard lower.isFinite, upper.isFinite, upper > lower else { return lower.isFinite ? [lower] : [] }
        let step = step(from: lower, to: upper, count: count)
        let first = (lower / step - 1e-9).rounded(.up), last = (upper / step + 1e-9).rounded(.down)
        guard last >= first else { return [] }
        return (0...Int(last - first)).map { ((first + Double($0)) * step).nonNegativeZero }
    }

    /// The decimals a label needs to show multiples of `step` exactly (0 for 1, 1 for 0.5, 2 for 0.25).
    public static func decimals(for step: Double) -> Int {
        guard step > 0, step.isFinite else { return 0 }
        var decimals = 0
        while decimals < 12, ((step * power10(decimals)).rounded() - step * power10(decimals)).magnitude > 1e-6 * step * power10(decimals) {
            decimals += 1
        }
        return decimals
    }

    /// 10ⁿ, exactly for |n| ≤ 22.
    static func power10(_ n: Int) -> Double {
        var result = 1.0
        for _ in 0..<abs(n) { result *= 10 }
        return n < 0 ? 1 / result : result
    }

    /// log₁₀ without Foundation: by repeated scaling, then the series of ln around 1.
    static func log10(_ x: Double) -> Double {
        var x = x, exponent = 0.0
        while x >= 10 { x /= 10; exponent += 1 }
        while x < 1 { x *= 10; exponent -= 1 }
        // x ∈ [1, 10): ln x = 2 atanh((x − 1)/(x + 1)).
        let z = (x - 1) / (x + 1), z2 = z * z
        var term = z, sum = 0.0
        for k in stride(from: 1, through: 81, by: 2) {
            sum += term / Double(k)
            term *= z2
        }
        return exponent + 2 * sum / 2.302585092994046
    }
}

extension Double {
    /// −0 as +0, so labels never read "-0".
    var nonNegativeZero: Double { self == 0 ? 0 : self }
}
