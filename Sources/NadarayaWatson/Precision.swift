/// The floating-point format the Gaussian engine computes pair terms in.
///
/// Sums across key tiles, lane reductions and the final division are always in `Double`.
public enum Precision: String, CaseIterable, Sendable, Codable {
    /// Float64 throughout: results within ~1e-13 of the plain reference.
    case double
    /// Float32 distances and exponentials, twice the SIMD width: about twice the throughput,
    /// relative errors around 1e-6 of max |y| (documented and tested at 1e-4).
    case single
}
