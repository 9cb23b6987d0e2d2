import RealModule

// Legend: M moments, a the log weights, a* their running maximum (the online softmax's shift).

/// The kernel-moment state of one query: the shift a* = maxᵢ aᵢ of the log weights seen so far
/// and the sums S[m] = Σᵢ e^{aᵢ − a*}·mᵢ of the requested moments.
///
/// Every estimator of the library is a ratio or a small solve on such sums, and the shift cancels
/// in all of them except densities (which add it back). Two states over disjoint key sets merge
/// exactly, in any order — threads, SIMD lanes, key shards on other machines:
///
///     (a, S) ⊕ (b, T) = (c, S·e^{a−c} + T·e^{b−c}),   c = max(a, b).
///
/// An empty state (no key with weight) has shift −∞ and zero sums; it is the identity of ⊕.
public struct MomentState: Sendable, Equatable, Codable {
    /// a*: the largest log weight seen, −∞ when none.
    public var shift: Double
    /// S[m], relative to e^{a*}.
    public var sums: [Double]

    /// The empty state with `count` moments.
    public init(count: Int) {
        shift = -.infinity
        sums = Array(repeating: 0, count: count)
    }

    public init(shift: Double, sums: [Double]) {
        self.shift = shift
        self.sums = sums
    }

    /// Whether some key carried weight.
    public var isEmpty: Bool { shift == -.infinity }

    /// The exact merge of two states over disjoint keys (associative and commutative up to
    /// rounding; the empty state is its identity).
    ///
    /// - Precondition: both states have the same number of moments.
    /// - Complexity: O(M).
    public static func merge(_ a: MomentState, _ b: MomentState) -> MomentState {
        precondition(a.sums.count == b.sums.count, "merged states should have the same moments, but have \(a.sums.count) and \(b.sums.count)")
        if b.isEmpty { return a }
        if a.isEmpty { return b }
        let shift = Swift.max(a.shift, b.shift)
        let fa = Double.exp(a.shift - shift), fb = Double.exp(b.shift - shift)
        return MomentState(shift: shift, sums: zip(a.sums, b.sums).map { $0 * fa + $1 * fb })
    }
}
