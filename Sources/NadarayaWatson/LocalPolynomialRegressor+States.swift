// Legend: M moments per query (the local design's sums and the response's), P the degree.

extension FittedLocalPolynomialRegressor {
    /// Each query's kernel-moment state over this fit's keys: the shift a* and the sums
    /// Σᵢ sᵢe^{aᵢ−a*}·x(uᵢ)x(uᵢ)ᵀ (the local design) and Σᵢ sᵢe^{aᵢ−a*}·yᵢx(uᵢ) (the response)
    /// of the degree-P monomials x(u), u = (k − q)/h. States over disjoint key sets (shards of
    /// the training rows fitted with the same widths) merge exactly with ``MomentState/merge(_:_:)``,
    /// and ``estimate(from:)`` of the merged state is the fit over all of them.
    ///
    /// - Throws: ``NadarayaWatsonError`` for queries of the wrong width or non-finite queries, or
    ///   with categorical or ordered features.
    /// - Complexity: O(m·n·(d + M)) time on all cores, O(m·M) memory.
    public func momentStates(_ queries: Matrix) throws -> [MomentState] {
        try requireContinuous("moment states")
        guard queries.columns == problem.featureCount else {
            throw NadarayaWatsonError.featureCountMismatch(expected: problem.featureCount, actual: queries.columns)
        }
        try Validation.requireFinite(queries, as: .queries)
        let states = MomentEngine.states(momentProblem(derivatives: false), queries: queries, threads: threads)
        return (0..<queries.rows).map { i in
            MomentState(shift: states.shifts[i], sums: Array(states.sums[(i * states.count)..<((i + 1) * states.count)]))
        }
    }

    /// f̂(q) from a (merged) state of ``momentStates(_:)``: the highest well-posed degree ≤ P, as
    /// ``predict(_:)`` solves it; nil for an empty state (no key with weight).
    public func estimate(from state: MomentState) -> Double? {
        Self.estimate(from: state, dimension: problem.featureCount, degree: degree)
    }

    /// ``estimate(from:)`` for a fit of `degree` over `dimension` features, without the fit
    /// itself (a process that holds no keys of its own can finish merged states).
    public static func estimate(from state: MomentState, dimension: Int, degree: Int) -> Double? {
        guard !state.isEmpty, state.sums[0] > 0 else { return nil }
        return solve(state.sums, set: MomentSet(dimension: dimension, degree: degree), degree: degree).estimate
    }

    /// M: the number of sums in a state of ``momentStates(_:)`` for `degree` over `dimension`
    /// features.
    public static func momentCount(dimension: Int, degree: Int) -> Int {
        MomentSet(dimension: dimension, degree: degree).count
    }
}
