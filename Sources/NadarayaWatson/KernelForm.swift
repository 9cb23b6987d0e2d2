/// How a one-dimensional kernel profile becomes a weight on d-dimensional keys.
///
/// With scaled differences uⱼ = (qⱼ − kⱼ)/hⱼ, one bandwidth hⱼ per feature:
/// - `radial` (default): α(q, k) = K(‖u‖₂), the kernel of the scaled Euclidean distance;
/// - `product`: α(q, k) = ∏ⱼ K(uⱼ), a product of one-dimensional kernels.
///
/// For `gaussian` the two agree exactly; for `constant` both are 1. For compact kernels the
/// radial support is a ball (an ellipsoid in the original units), the product support a box.
public enum KernelForm: String, CaseIterable, Sendable, Codable {
    case radial, product
}
