// Legend: n keys, m queries, d features.

/// The engines of the library, and the one function that chooses among them for a problem and
/// a task (as scikit-learn's `_choose_algorithm` does): every estimator asks here.
///
/// All engines give the same answer to rounding (each is tested against the plain definition);
/// they differ in speed and in what they support.
enum Engine: Equatable {
    /// The plain definition: an array of n log weights per query (``ReferenceEngine``).
    case reference
    /// The scalar online softmax, α per pair: any kernel, per-key widths (``StreamingEngine``).
    case streaming
    /// The fused SIMD online softmax for the Gaussian (``GaussianEngine``).
    case gaussian
    /// SIMD linear-space sums for logistic, cauchy and laplacian (``SmoothKernelEngine``).
    case smooth
    /// Compact kernels, dense or through the key index (``CompactEngine``).
    case compact(indexed: Bool)
    /// The constant kernel: the mean once (average pooling).
    case constant
    /// Kernel moments on SIMD registers, the Gaussian (``GaussianMoments``).
    case gaussianMoments
    /// Kernel moments by the definition, compact kernels through the key index (``MomentEngine``).
    case plainMoments(indexed: Bool)
    /// Products q′·k′ by a register-blocked micro-kernel fused with the softmax: `dot`, and the
    /// Gaussian at high d (``EmbeddingEngine``).
    case embedding

    /// What the engine is asked for.
    enum Task {
        /// Pooled values f(q) = Σ αv / Σ α (Nadaraya–Watson, classification).
        case pool
        /// ln Σᵢ α(q, kᵢ): densities and the adaptive widths' pilot.
        case kernelSums
        /// Kernel-moment states (local polynomials, weights, derivatives, their CV).
        case moments
    }

    /// The engine for `task` on `problem`; `strategy` forces one for pooling (tests, benchmarks).
    ///
    /// - Complexity: O(1).
    static func choose(for problem: AttentionProblem, task: Task, strategy: EvaluationStrategy = .automatic) -> Engine {
        let kernel = problem.kernel, perKeyWidths = problem.keyScales != nil
        switch task {
        case .pool:
            if strategy == .reference { return .reference }
            // Per-key widths: only the plain engines (which evaluate α per pair) support them.
            if strategy == .streaming || perKeyWidths { return .streaming }
            if EmbeddingEngine.supports(problem) { return .embedding }
            if kernel == .gaussian { return .gaussian }
            if kernel.isCompact { return .compact(indexed: strategy != .vectorized) }
            return kernel == .constant ? .constant : .smooth
        case .kernelSums:
            return kernel == .gaussian && !perKeyWidths ? .gaussian : .streaming
        case .moments:
            if kernel == .gaussian && !perKeyWidths { return .gaussianMoments }
            return .plainMoments(indexed: kernel.isCompact)
        }
    }

    /// The engine for a kernel-moment problem: attention pooling's own sums (S, T₁…T_p) of the
    /// Gaussian, without sample weights, masking or a kernel power, go to the fused pooling
    /// engine (R queries per key load: its hot loop, which exports its states); other Gaussian
    /// sums of one target to the SIMD moment engine; the rest to the plain engine.
    ///
    /// - Complexity: O(1).
    static func choose(for problem: MomentProblem) -> Engine {
        let attention = problem.attention, set = problem.moments
        let pooling = set.degree == 0 && !set.scores && !set.monomials.squaresOnly && set.responseWidth == attention.values.width
        // The embedding engine adds per-key log weights and masks the own key itself.
        if pooling && problem.kernelPower == 1 && EmbeddingEngine.supports(attention) { return .embedding }
        let family = choose(for: attention, task: .moments)
        guard family == .gaussianMoments else { return family }
        if pooling && problem.logWeights == nil && !problem.leaveOneOut && problem.kernelPower == 1 { return .gaussian }
        return set.responseWidth == 1 ? .gaussianMoments : .plainMoments(indexed: false)
    }
}
