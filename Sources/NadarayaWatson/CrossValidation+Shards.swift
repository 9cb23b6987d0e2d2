// Legend: n points on this shard (each a key and, for its owner, a query), d features, P the
// local polynomial's degree, S, Uₖ, T, Vₖ the squares set's sums (see GaussianLeaveOneOutLoss).

extension CrossValidation {
    /// The kernel-moment states leave-one-out CV needs, over one shard of the training rows:
    /// the shard's points as queries, each leaving its own row out (`queries` nil), or another
    /// shard's points (`queries`), for which nothing is left out. Merged over every shard with
    /// ``MomentState/merge(_:_:)``, a point's state is that of the whole data without its row:
    /// ``FittedLocalPolynomialRegressor/estimate(from:dimension:degree:)`` of it is f₋ᵢ(xᵢ), and
    /// with `gradient` (the Gaussian's squares set) ``gaussianTerms(from:dimension:)`` gives
    /// the score's derivative terms.
    ///
    /// - Parameters:
    ///   - keys: the shard's n × d keys; `targets` their values; `sampleWeights` positive
    ///     frequency weights (nil: 1).
    ///   - bandwidths: the widths, one per feature.
    ///   - gradient: the Gaussian's squares set (1, uₖ², y, y·uₖ²) instead of the degree-P set.
    /// - Complexity: O(m·n·(d + M)) on all cores, O(m·M) memory.
    public func shardStates(keys: Matrix, targets: [Double], sampleWeights: [Double]?, bandwidths: [Double],
                            queries: Matrix?, gradient: Bool = false) -> [MomentState] {
        let problem = AttentionProblem(kernel: gradient ? .gaussian : kernel, form: gradient ? .radial : form, keys: keys,
                                       bandwidths: bandwidths, values: .dense(Matrix(column: targets)))
        let set = gradient ? MomentSet.squares(dimension: keys.columns) : MomentSet(dimension: keys.columns, degree: degree)
        let moments = MomentProblem(attention: problem, logWeights: sampleWeights?.map { Double.log($0) }, moments: set,
                                    leaveOneOut: queries == nil)
        let states = MomentEngine.states(moments, queries: queries ?? keys, threads: threads ?? Parallel.defaultThreads)
        return (0..<(queries ?? keys).rows).map { i in
            MomentState(shift: states.shifts[i], sums: Array(states.sums[(i * states.count)..<((i + 1) * states.count)]))
        }
    }

    /// The number of sums in a state of ``shardStates(keys:targets:sampleWeights:bandwidths:queries:gradient:)``.
    public func shardMomentCount(dimension: Int, gradient: Bool = false) -> Int {
        (gradient ? MomentSet.squares(dimension: dimension) : MomentSet(dimension: dimension, degree: degree)).count
    }

    /// From a merged squares-set state: f = T/S and the derivative terms (Vₖ − f·Uₖ)/S, with
    /// which ∂CV/∂log hₖ = (2/Σs) Σᵢ sᵢ(fᵢ − yᵢ)·termₖ; nil for an empty state.
    public static func gaussianTerms(from state: MomentState, dimension d: Int) -> (estimate: Double, terms: [Double])? {
        guard !state.isEmpty, state.sums[0] > 0 else { return nil }
        let T = MomentSet.squares(dimension: d).responseOffset, sums = state.sums
        let f = sums[T] / sums[0]
        return (f, (0..<d).map { k in (sums[T + 1 + k] - f * sums[1 + k]) / sums[0] })
    }
}

extension CrossValidation {
    /// Attention pooling's leave-one-out states over one shard, for the classifier's and the
    /// density's criteria: the sums [S, T₁ … T_p] of `values` (one-hot classes; no columns for a
    /// density), the shard's points leaving their own rows out (`queries` nil) or another
    /// shard's points (`queries`). The merged state of point i gives p̂₋ᵢ(c) = T_c/S, and
    /// ln f̂₋ᵢ = a* + ln S + ln c_d − Σ ln hⱼ − ln(N − sᵢ) for a density.
    ///
    /// - Complexity: O(m·n·(d + p)) on all cores.
    public func shardPoolingStates(keys: Matrix, values: Matrix, sampleWeights: [Double]?, bandwidths: [Double],
                                   queries: Matrix?) -> [MomentState] {
        let problem = AttentionProblem(kernel: kernel, form: form, keys: keys, bandwidths: bandwidths,
                                       values: .dense(values.columns > 0 ? values : Matrix(rows: keys.rows, columns: 1)))
        let set = MomentSet(dimension: keys.columns, degree: 0, responseWidth: values.columns)
        let moments = MomentProblem(attention: problem, logWeights: sampleWeights?.map { Double.log($0) }, moments: set,
                                    leaveOneOut: queries == nil)
        let states = MomentEngine.states(moments, queries: queries ?? keys, threads: threads ?? Parallel.defaultThreads)
        return (0..<(queries ?? keys).rows).map { i in
            MomentState(shift: states.shifts[i], sums: Array(states.sums[(i * states.count)..<((i + 1) * states.count)]))
        }
    }

    /// The classifier's and the density's search (leave-one-out cross-entropy or likelihood, as
    /// `bandwidth: .crossValidation` runs it for continuous features) over any score of the
    /// widths: a scan of the common factor on `start`, Brent in every local minimum's bracket,
    /// then sweeps over each width to 10⁻⁴ in log h.
    ///
    /// - Throws: ``NadarayaWatsonError/invalidArgument(_:)`` when no width gives a finite score.
    public static func searchWidths(kernel: Kernel, start: [Double], score: ([Double]) -> Double,
                                    progress: (_ evaluations: Int, _ best: Double) -> Void = { _, _ in })
        throws -> (bandwidths: [Double], score: Double) {
        let found = try MixedCrossValidation.search(kernel: kernel, start: start, upper: [], score: { h, _ in score(h) },
                                                    progress: progress)
        return (found.widths, found.score)
    }
}
