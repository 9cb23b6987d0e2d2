import RealModule

// Legend: n keys, d features, h the global widths, λᵢ the local factor of key i, p̂ the pilot.

/// Abramson's square-root law for local (adaptive) widths, the local-density heuristic the
/// chapter cites: keys in sparse regions get wider kernels, keys in dense regions narrower ones.
///
///     hᵢ = λᵢ · h,   λᵢ = (g / p̂(xᵢ))^{1/2},   g = (∏ᵢ p̂(xᵢ))^{1/n},
///
/// with the pilot p̂ the fixed-width kernel density at the keys (every key included, so
/// p̂(xᵢ) > 0). g is its geometric mean, so the λᵢ have geometric mean 1 and h keeps its scale.
/// Kernel constants and 1/n cancel in g/p̂, so the pilot needs only the kernel sums. With per-key
/// widths the kernel's 1/hᵢᵈ factor no longer cancels in pooling:
///
///     f(q) = Σᵢ vᵢ λᵢ^{−d} α((q − kᵢ)/(λᵢh)) / Σⱼ λⱼ^{−d} α((q − kⱼ)/(λⱼh)).
///
/// On data of uniform density every λᵢ is 1 and the estimator is the fixed-width one.
public enum AdaptiveBandwidth {
    /// The factors λᵢ for the keys (n × d) with the pilot's kernel, form and widths.
    ///
    /// - Complexity: O(n²·d) (the pilot), O(n) memory beyond the keys.
    public static func abramsonFactors(keys: Matrix, kernel: Kernel, form: KernelForm, bandwidths h: [Double],
                                       threads: Int? = nil) throws -> [Double] {
        guard keys.rows > 0 else { throw NadarayaWatsonError.noKeys }
        try Validation.requireFinite(keys, as: .keys)
        let widths = try Validation.bandwidths(h, features: keys.columns)
        let problem = AttentionProblem(kernel: kernel, form: form, keys: keys, bandwidths: widths,
                                       values: .dense(Matrix(rows: keys.rows, columns: 1)))
        return factors(problem, threads: threads ?? Parallel.defaultThreads)
    }

    /// λᵢ = exp((mean ln S − ln Sᵢ)/2) with Sᵢ = Σⱼ α(xᵢ, xⱼ), in log space throughout.
    static func factors(_ problem: AttentionProblem, threads: Int) -> [Double] {
        let n = problem.keyCount
        let logSums = FittedParzenDensity.logKernelSums(problem, queries: problem.keys, threads: threads)
        let meanLog = logSums.reduce(0, +) / Double(n)
        return logSums.map { Double.exp((meanLog - $0) / 2) }
    }
}
