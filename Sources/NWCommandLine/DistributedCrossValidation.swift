import NadarayaWatson

// Legend: P ranks, nᵣ points on rank r (each its own row's key), d features, h widths, f₋ᵢ the
// leave-one-out estimate at point i, s weights.
//
// Implementation goals, in order of priority:
// 1. The widths one process selects: the library's own search (`CrossValidation.search`) runs
//    on every rank in lock-step on scores that are bit for bit the same everywhere (summed, then
//    rank 0's sum broadcast), from the same start (Scott's widths from global statistics).
// 2. Exact scores: point i's leave-one-out state is the ⊕ of every rank's state for xᵢ over its
//    shard, the owner's with row i masked in the engine; nothing is subtracted.
// 3. Memory O(nᵣ·(d + M)) per rank: each rank's points travel to the others once per evaluation
//    (a broadcast per owner) and their states come back by one reduction to the owner.

/// Leave-one-out least-squares cross-validation over key shards (`--bandwidth cv`,
/// `nw bandwidth --method cv`, regression of any degree, under mpirun).
enum DistributedCrossValidation {
    /// The widths minimising CV over every rank's rows, and CV at them (the same on every rank).
    ///
    /// - Throws: ``NadarayaWatsonError`` as ``CrossValidation/select(keys:targets:sampleWeights:progress:)``.
    static func select(_ cv: CrossValidation, keys: Matrix, targets: [Double], weights: [Double]?,
                       cluster: Cluster) throws -> (bandwidths: [Double], score: Double) {
        let d = keys.columns
        let rows = (0..<keys.rows).filter { (weights?[$0] ?? 1) > 0 }
        let x = Matrix(rows: rows.count, columns: d, elements: rows.flatMap { i in (0..<d).map { keys[i, $0] } })
        let s = weights.map { w in rows.map { w[$0] } }
        let count = Int(cluster.allSum([Int64(rows.count)])[0])
        guard count >= 2 else { throw NadarayaWatsonError.notEnoughData(needed: 2, actual: count, reason: "cross-validation") }
        // As select: CV(y) = 2²ᵏ·CV(y / 2ᵏ) for extreme targets (exact), the search on y / 2ᵏ.
        let top = cluster.allMax([rows.reduce(0) { max($0, targets[$1].magnitude) }])[0]
        let power = top > 0 && top.isFinite ? Double(sign: .plus, exponent: top.exponent, significand: 1) : 1
        let scale = power >= 0x1p-60 && power <= 0x1p60 ? 1 : power
        let y = rows.map { targets[$0] / scale }
        let base = cv.kernel == .dot ? dotStart(x, s, cluster: cluster)
            : try DistributedStatistics.rule(.scott, keys: x, weights: s, cluster: cluster)
        let totals = cluster.allSum([zip(y, s ?? Array(repeating: 1, count: y.count)).reduce(0) { $0 + $1.0 * $1.1 },
                                     s?.reduce(0, +) ?? Double(y.count)])
        let gaussian = cv.kernel == .gaussian && cv.degree == 0

        func evaluate(_ h: [Double], gradient: Bool) -> (score: Double, gradient: [Double]) {
            let width = 1 + cv.shardMomentCount(dimension: d, gradient: gradient)
            // [Σ s(y − f)², Σ s, ∞ flag, Σ s(f − y)·termₖ …] over this rank's points.
            var sums = [Double](repeating: 0, count: 3 + d)
            for owner in 0..<cluster.size {
                let points = cluster.broadcast(x.elements, root: owner)
                guard !points.isEmpty else { continue }
                let queries = Matrix(rows: points.count / d, columns: d, elements: points)
                let mine: [MomentState]? = cluster.rank == owner
                    ? cv.shardStates(keys: x, targets: y, sampleWeights: s, bandwidths: h, queries: nil, gradient: gradient)
                    : x.rows > 0 ? cv.shardStates(keys: x, targets: y, sampleWeights: s, bandwidths: h, queries: queries, gradient: gradient)
                    : nil
                let merged = cluster.reduceStates(DistributedJob.records(mine, count: queries.rows, width: width), width: width, root: owner)
                guard cluster.rank == owner else { continue }
                for i in 0..<x.rows {
                    let state = MomentState(shift: merged[i * width], sums: Array(merged[(i * width + 1)..<((i + 1) * width)]))
                    let weight = s?[i] ?? 1
                    var f: Double
                    if gradient, let (estimate, terms) = CrossValidation.gaussianTerms(from: state, dimension: d) {
                        f = estimate
                        for k in 0..<d { sums[3 + k] += weight * (f - y[i]) * terms[k] }
                    } else if !gradient, let estimate = FittedLocalPolynomialRegressor.estimate(from: state, dimension: d, degree: cv.degree) {
                        f = estimate
                    } else if cv.kernel.isCompact && cv.emptyPolicy == .mean {
                        f = (totals[0] - weight * y[i]) / (totals[1] - weight)
                    } else {
                        // nan/error policies score +∞; so (under mpirun) does a point whose every
                        // weight left the range (one process takes the far limit there).
                        sums[2] = 1
                        continue
                    }
                    sums[0] += weight * (y[i] - f) * (y[i] - f)
                    sums[1] += weight
                }
            }
            // Rank 0's sum on every rank, so that every rank's search takes the same steps.
            let all = cluster.broadcast(cluster.allSum(sums), root: 0)
            let score = all[2] > 0 || all[0].isNaN ? Double.infinity : all[0] / all[1]
            return (score, (0..<d).map { 2 * all[3 + $0] / all[1] })
        }

        let progress = cluster.rank == 0 ? SelectionReport.progress : nil
        let selected = try cv.search(start: base, score: { evaluate($0, gradient: false).score },
                                     scoreAndGradient: gaussian ? { evaluate($0, gradient: true) } : nil) { progress?($0, $1 * scale * scale) }
        return (selected.bandwidths, selected.score * scale * scale)
    }

    /// `Kernel.dotStartWidths` over every rank: h₀ = σ·d^¼, σ the root mean square coordinate.
    static func dotStart(_ x: Matrix, _ s: [Double]?, cluster: Cluster) -> [Double] {
        let d = x.columns
        var sum = 0.0, total = 0.0
        for k in 0..<x.rows {
            let weight = s?[k] ?? 1
            var row = 0.0
            for j in 0..<d { row += x[k, j] * x[k, j] }
            sum += weight * row
            total += weight * Double(d)
        }
        let both = cluster.allSum([sum, total])
        let rms = (both[0] / both[1]).squareRoot()
        return Array(repeating: (rms > 0 && rms.isFinite ? rms : 1) * Double(d).squareRoot().squareRoot(), count: d)
    }
}

extension DistributedCrossValidation {
    /// The classifier's and the density's leave-one-out criteria.
    enum PoolingCriterion {
        /// −Σ sᵢ ln max(p̂₋ᵢ(yᵢ), 2⁻⁵²) / N, class yᵢ = `classes[i]` (a column of the one-hot values).
        case crossEntropy(classes: [Int])
        /// −Σ sᵢ ln f̂₋ᵢ(xᵢ) / N; `logNormalization(h)` = ln c_d − Σ ln hⱼ.
        case likelihood(logNormalization: ([Double]) -> Double)
    }

    /// The classifier's (`values` one-hot) or the density's (`values` without columns) widths by
    /// leave-one-out over every rank's rows, with the search one process runs
    /// (`CrossValidation.searchWidths`).
    static func selectPooling(_ cv: CrossValidation, keys: Matrix, values: Matrix, weights: [Double]?,
                              criterion: PoolingCriterion, cluster: Cluster) throws -> (bandwidths: [Double], score: Double) {
        let d = keys.columns, p = values.columns
        let rows = (0..<keys.rows).filter { (weights?[$0] ?? 1) > 0 }
        let x = Matrix(rows: rows.count, columns: d, elements: rows.flatMap { i in (0..<d).map { keys[i, $0] } })
        let v = Matrix(rows: rows.count, columns: p, elements: rows.flatMap { i in (0..<p).map { values[i, $0] } })
        let s = weights.map { w in rows.map { w[$0] } }
        let count = Int(cluster.allSum([Int64(rows.count)])[0])
        guard count >= 2 else { throw NadarayaWatsonError.notEnoughData(needed: 2, actual: count, reason: "cross-validation") }
        let total = cluster.allSum([s?.reduce(0, +) ?? Double(rows.count)])[0]
        let base = cv.kernel == .dot ? dotStart(x, s, cluster: cluster)
            : try DistributedStatistics.rule(.scott, keys: x, weights: s, cluster: cluster)
        let classes: [Int]? = if case let .crossEntropy(all) = criterion { rows.map { all[$0] } } else { nil }
        let floor = 0x1p-52

        func score(_ h: [Double]) -> Double {
            let width = 2 + p
            var sum = 0.0
            let logNormalization: Double
            if case let .likelihood(normalization) = criterion { logNormalization = normalization(h) } else { logNormalization = 0 }
            for owner in 0..<cluster.size {
                let points = cluster.broadcast(x.elements, root: owner)
                guard !points.isEmpty else { continue }
                let queries = Matrix(rows: points.count / d, columns: d, elements: points)
                let mine: [MomentState]? = cluster.rank == owner
                    ? cv.shardPoolingStates(keys: x, values: v, sampleWeights: s, bandwidths: h, queries: nil)
                    : x.rows > 0 ? cv.shardPoolingStates(keys: x, values: v, sampleWeights: s, bandwidths: h, queries: queries) : nil
                let merged = cluster.reduceStates(DistributedJob.records(mine, count: queries.rows, width: width), width: width, root: owner)
                guard cluster.rank == owner else { continue }
                for i in 0..<x.rows {
                    let shift = merged[i * width], S = merged[i * width + 1], weight = s?[i] ?? 1
                    if let classes {
                        let probability = shift > -.infinity && S > 0 ? merged[i * width + 2 + classes[i]] / S : .nan
                        sum -= weight * Double.log(probability.isNaN ? floor : max(probability, floor))
                    } else {
                        let others = total - weight
                        let logDensity = shift > -.infinity && others > 0
                            ? shift + Double.log(S) + logNormalization - Double.log(others) : -.infinity
                        sum -= weight * logDensity
                    }
                }
            }
            let all = cluster.broadcast(cluster.allSum([sum]), root: 0)[0]
            return all.isNaN ? .infinity : all / total
        }

        let progress = cluster.rank == 0 ? SelectionReport.progress : nil
        return try CrossValidation.searchWidths(kernel: cv.kernel, start: base, score: score) { progress?($0, $1) }
    }
}
