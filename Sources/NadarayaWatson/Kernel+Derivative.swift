import RealModule

extension Kernel {
    /// ψ(a)/a with ψ = K′/K = (log K)′, for 0 ≤ a inside the support: what the derivative of a
    /// log weight needs — ∂ log K(‖v‖)/∂vⱼ = ψ(r)/r · vⱼ (radial), ∂ log K(vⱼ)/∂vⱼ = ψ(vⱼ)/vⱼ · vⱼ
    /// (product). Finite at a = 0 (the limit ψ′(0), or 0 where K has a kink at 0: laplacian and
    /// triangular, whose one-sided slopes cancel by symmetry).
    ///
    /// | kernel | ψ(a) |
    /// |---|---|
    /// | gaussian | −a |
    /// | boxcar, constant | 0 |
    /// | epanechnikov, biweight, triweight | −2a/(1 − a²), −4a/(1 − a²), −6a/(1 − a²) |
    /// | triangular | −1/(1 − a) |
    /// | tricube | −9a²/(1 − a³) |
    /// | cosine | −(π/2)·tan(πa/2) |
    /// | logistic | −tanh(a/2) |
    /// | cauchy | −2a/(1 + a²) |
    /// | laplacian | −1 |
    ///
    /// - Complexity: O(1).
    func logSlopeOverDistance(_ a: Double) -> Double {
        switch self {
        case .gaussian: return -1
        case .boxcar, .constant: return 0
        case .epanechnikov: return -2 / (1 - a * a)
        case .biweight: return -4 / (1 - a * a)
        case .triweight: return -6 / (1 - a * a)
        case .triangular: return a > 0 ? -1 / ((1 - a) * a) : 0
        case .tricube: return -9 * a / (1 - a * a * a)
        case .cosine:
            let half = Double.pi / 2
            return a > 0 ? -half * Double.tan(half * a) / a : -half * half
        case .logistic: return a > 1e-8 ? -Double.tanh(a / 2) / a : -0.5
        case .cauchy: return -2 / (1 + a * a)
        case .laplacian: return a > 0 ? -1 / a : 0
        case .dot: preconditionFailure("the dot kernel is not a function of the distance: its score is kⱼ/hⱼ²")
        }
    }
}
