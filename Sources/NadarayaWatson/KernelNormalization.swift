import RealModule

// Legend: d features (the dimension of the density), r = ‖u‖ the radius of a radial kernel.
//
// Nadaraya–Watson pooling never needs a kernel's normalising constant (it cancels in the
// ratio); a density does. The constants below make ∫ c·K = 1 over ℝᵈ.

extension Kernel {
    /// The normalising constant c of the 1-D profile, ∫ c·K(u) du = 1, or nil for `constant`
    /// and `dot`, which do not integrate.
    ///
    /// | kernel | c | | kernel | c |
    /// |---|---|---|---|---|
    /// | gaussian | 1/√(2π) | | triweight | 35/32 |
    /// | boxcar | 1/2 | | tricube | 70/81 |
    /// | epanechnikov | 3/4 | | cosine | π/4 |
    /// | triangular | 1 | | logistic | 1 |
    /// | biweight | 15/16 | | cauchy | 1/π |
    /// | laplacian | 1/2 | | constant | — |
    ///
    /// - Complexity: O(1).
    public var normalizingConstant: Double? {
        switch self {
        case .gaussian: 1 / (2 * Double.pi).squareRoot()
        case .boxcar: 0.5
        case .constant: nil
        case .epanechnikov: 0.75
        case .triangular: 1
        case .biweight: 15.0 / 16
        case .triweight: 35.0 / 32
        case .tricube: 70.0 / 81
        case .cosine: Double.pi / 4
        case .logistic: 1
        case .cauchy: 1 / Double.pi
        case .laplacian: 0.5
        case .dot: nil
        }
    }

    /// The constant c_d with ∫_{ℝᵈ} c_d·α(u) du = 1, for α(u) = K(‖u‖) (radial) or ∏ⱼ K(uⱼ)
    /// (product); nil when the kernel does not integrate in that form (`constant`; radial
    /// `cauchy` for d ≥ 2, whose tail r⁻² is too heavy).
    ///
    /// Product: c₁ᵈ. Radial: 1 / (S_{d−1} · I_d) with S_{d−1} = 2π^{d/2}/Γ(d/2) the area of the
    /// unit sphere and I_d = ∫₀^∞ K(r) r^{d−1} dr in closed form:
    /// gaussian 2^{d/2−1}Γ(d/2) (so c_d = (2π)^{−d/2}); boxcar 1/d; epanechnikov 2/(d(d+2));
    /// triangular 1/(d(d+1)); biweight 1/d − 2/(d+2) + 1/(d+4); triweight 1/d − 3/(d+2) +
    /// 3/(d+4) − 1/(d+6); tricube 1/d − 3/(d+3) + 3/(d+6) − 1/(d+9); laplacian Γ(d);
    /// logistic Γ(d)·η(d−1) with η the Dirichlet eta function (η(0) = ½, η(1) = ln 2);
    /// cosine Σₖ (−1)ᵏ (π/2)²ᵏ / ((2k)! (2k + d)), summed to convergence. In 1-D both forms
    /// give the table of ``normalizingConstant``.
    ///
    /// - Precondition: d ≥ 1.
    /// - Complexity: O(1) (the series: at most 60 terms).
    public func normalizingConstant(dimension d: Int, form: KernelForm) -> Double? {
        precondition(d >= 1, "the dimension should be at least 1, but is \(d)")
        guard let c1 = normalizingConstant else { return nil }
        if d == 1 { return c1 }
        if form == .product { return Double.pow(c1, Double(d)) }
        let D = Double(d)
        let sphere = 2 * Double.pow(Double.pi, D / 2) / Double.gamma(D / 2)
        let radial: Double
        switch self {
        case .gaussian: radial = Double.pow(2, D / 2 - 1) * Double.gamma(D / 2)
        case .boxcar: radial = 1 / D
        case .epanechnikov: radial = 2 / (D * (D + 2))
        case .triangular: radial = 1 / (D * (D + 1))
        case .biweight: radial = 1 / D - 2 / (D + 2) + 1 / (D + 4)
        case .triweight: radial = 1 / D - 3 / (D + 2) + 3 / (D + 4) - 1 / (D + 6)
        case .tricube: radial = 1 / D - 3 / (D + 3) + 3 / (D + 6) - 1 / (D + 9)
        case .laplacian: radial = Double.gamma(D)
        case .logistic: radial = Double.gamma(D) * Self.dirichletEta(D - 1)
        case .cosine:
            var sum = 0.0, term = 1.0 // (π/2)^{2k} / (2k)!
            for k in 0..<60 {
                sum += (k % 2 == 0 ? 1 : -1) * term / (2 * Double(k) + D)
                let a = 2 * Double(k) + 1, b = 2 * Double(k) + 2
                term *= (Double.pi / 2) * (Double.pi / 2) / (a * b)
                if term < 1e-18 { break }
            }
            radial = sum
        case .cauchy, .constant, .dot: return nil
        }
        return 1 / (sphere * radial)
    }

    /// η(s) = Σ_{k≥1} (−1)^{k+1} / kˢ for integer s ≥ 1 (η(0) = ½ by Abel summation), by
    /// Borwein's algorithm (n = 40 terms: error below 10⁻¹⁶ · 3^{−...}, far below rounding).
    static func dirichletEta(_ s: Double) -> Double {
        if s == 0 { return 0.5 }
        let n = 40
        // d_k = n Σ_{i=0}^{k} (n + i − 1)! 4ⁱ / ((n − i)! (2i)!)
        var d = [Double](repeating: 0, count: n + 1)
        var term = 1.0 / Double(n) // i = 0: (n−1)!/(n!·0!) = 1/n
        var sum = term
        d[0] = Double(n) * sum
        for i in 1...n {
            term *= Double(n + i - 1) * Double(n - i + 1) * 4 / (Double(2 * i - 1) * Double(2 * i))
            sum += term
            d[i] = Double(n) * sum
        }
        var eta = 0.0
        for k in 0..<n {
            eta += (k % 2 == 0 ? 1 : -1) * (d[n] - d[k]) / Double.pow(Double(k + 1), s)
        }
        return eta / d[n]
    }
}
