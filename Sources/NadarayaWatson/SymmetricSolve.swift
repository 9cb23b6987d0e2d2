// Legend: p unknowns, A a p × p symmetric positive semi-definite matrix (row-major), b p values.

/// A small symmetric positive-definite solve with a condition check: the local design of local
/// polynomial regression.
///
/// A is first scaled to unit diagonal (Ã = DAD, D = diag(A)^{−1/2}: the condition then measures
/// the design, not the units of its monomials), factored by Cholesky, Ã = LLᵀ, and judged
/// well-posed when every pivot is positive and the ratio of the largest to the smallest squared
/// pivot, a cheap lower estimate of κ(Ã), is at most ``conditionLimit``.
enum SymmetricSolve {
    /// The largest accepted condition estimate: with κ ≤ 10¹⁰ the solution keeps about six
    /// significant digits beyond the statistical noise of any local fit; above it (a far query
    /// whose weights are one-hot, fewer distinct keys than monomials) the estimator falls back
    /// to a lower degree.
    static let conditionLimit = 1e10

    /// x with A x = b, or nil when A is singular or its condition estimate exceeds the limit.
    ///
    /// - Complexity: O(p³) time, O(p²) memory.
    static func solve(_ A: [Double], _ b: [Double], count p: Int) -> [Double]? {
        guard let factor = Factor(A, count: p) else { return nil }
        return factor.solve(b)
    }

    /// The scaled Cholesky factor of A.
    struct Factor {
        let p: Int
        /// D = diag(A)^{−1/2}.
        let scale: [Double]
        /// L (row-major, lower triangle) with Ã = LLᵀ.
        let lower: [Double]

        init?(_ A: [Double], count p: Int) {
            var scale = [Double](repeating: 0, count: p)
            for i in 0..<p {
                let diagonal = A[i * p + i]
                guard diagonal > 0, diagonal.isFinite else { return nil }
                scale[i] = 1 / diagonal.squareRoot()
            }
            var L = [Double](repeating: 0, count: p * p)
            var largest = 0.0, smallest = Double.infinity
            for i in 0..<p {
                for j in 0...i {
                    var sum = A[i * p + j] * scale[i] * scale[j]
                    for k in 0..<j { sum -= L[i * p + k] * L[j * p + k] }
                    if i == j {
                        guard sum > 0, sum.isFinite else { return nil }
                        largest = Swift.max(largest, sum)
                        smallest = Swift.min(smallest, sum)
                        L[i * p + i] = sum.squareRoot()
                    } else {
                        L[i * p + j] = sum / L[j * p + j]
                    }
                }
            }
            guard largest <= SymmetricSolve.conditionLimit * smallest else { return nil }
            self.p = p
            self.scale = scale
            self.lower = L
        }

        /// x with A x = b: D·(LLᵀ)⁻¹·D·b.
        func solve(_ b: [Double]) -> [Double] {
            var z = (0..<p).map { b[$0] * scale[$0] }
            for i in 0..<p {
                for k in 0..<i { z[i] -= lower[i * p + k] * z[k] }
                z[i] /= lower[i * p + i]
            }
            for i in stride(from: p - 1, through: 0, by: -1) {
                for k in (i + 1)..<p { z[i] -= lower[k * p + i] * z[k] }
                z[i] /= lower[i * p + i]
            }
            return (0..<p).map { z[$0] * scale[$0] }
        }
    }
}
