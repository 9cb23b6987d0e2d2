// Legend: n keys, m queries, d features, p value components, h widths (one per feature).

/// Fitted attention pooling, shared by the regressor and the classifier: validated keys, values
/// and widths, the empty-neighbourhood policy, and the engine choice.
struct AttentionPooling: Sendable {
    let problem: AttentionProblem
    let emptyPolicy: EmptyNeighbourhoodPolicy
    let strategy: EvaluationStrategy
    let precision: Precision
    let threads: Int
    /// Per result column, the power of two the pooled values were divided by (nil: none).
    let valueScales: [Double]?
    /// Per result column, [min v, max v] of the values: every pooled value is a convex
    /// combination, so a result outside is rounding, and is clamped back.
    let valueRanges: [ClosedRange<Double>]
    /// With sample weights, column 0 of the pooled values is the weight sᵢ / 2ᵏ and column c + 1
    /// is sᵢ/2ᵏ · vᵢ_c: the ratio of the two is the weighted estimate (frequency weights).
    let weighted: Bool
    /// With sample weights, the power of two column 0 (sᵢ) was divided by; 1 without.
    let weightScale: Double
    /// With sample weights, the training rows kept (weight > 0) and the original row count.
    let keptRows: [Int]?
    let originalRowCount: Int
    /// The leave-one-out score at the widths, when cross-validation chose them.
    let crossValidationScore: Double?

    init(kernel: Kernel, form: KernelForm, keys: Matrix, values: PooledValues, bandwidth: Bandwidth,
         emptyPolicy: EmptyNeighbourhoodPolicy, strategy: EvaluationStrategy, precision: Precision = .double,
         threads: Int?, adaptive: Bool = false, sampleWeights: [Double]? = nil,
         select: (() throws -> (bandwidths: [Double], score: Double))? = nil) throws {
        guard keys.rows > 0 else { throw NadarayaWatsonError.noKeys }
        guard keys.columns > 0 else { throw NadarayaWatsonError.noFeatures }
        try Validation.requireFinite(keys, as: .keys)
        if case let .dense(v) = values {
            guard v.rows == keys.rows else { throw NadarayaWatsonError.valueCountMismatch(keys: keys.rows, values: v.rows) }
            try Validation.requireFinite(v, as: .values)
        }
        if let threads, threads < 1 {
            throw NadarayaWatsonError.invalidArgument("threads should be at least 1, but is \(threads)")
        }
        if adaptive && sampleWeights != nil {
            throw NadarayaWatsonError.invalidArgument("adaptive widths cannot be combined with sample weights yet")
        }
        let kept = try SampleWeights(sampleWeights, count: keys.rows)
        let keys = kept.select(keys)
        let input = values
        var values: PooledValues
        switch input {
        case let .dense(v): values = .dense(kept.select(v))
        case let .classes(indices, count): values = .classes(indices: kept.kept.map { $0.map { indices[$0] } } ?? indices, count: count)
        }
        originalRowCount = kept.kept == nil ? keys.rows : sampleWeights!.count
        keptRows = kept.kept
        try Kernel.requireRule(bandwidth, for: kernel)
        if adaptive && kernel == .dot {
            throw NadarayaWatsonError.invalidArgument("adaptive widths size a distance; the dot kernel's width is a temperature")
        }
        let (widths, score) = try bandwidth.resolve(for: keys, weights: kept.weights, select: select)
        crossValidationScore = score
        // Values pooled as v / 2ᵏ per column where |v| is extreme (exact), so that no weighted sum
        // overflows: the result, multiplied back, lies in [min v, max v] as it must.
        let p = values.width, n = keys.rows
        let columns: [[Double]] = (0..<p).map { c in
            switch values {
            case let .dense(v): v.column(c)
            case let .classes(indices, _): indices.map { $0 == c ? 1 : 0 }
            }
        }
        valueRanges = columns.map { $0.min()!...$0.max()! }
        let scales = columns.map { kept.weights == nil ? Statistics.normalizingScale($0) : Statistics.scale($0) }
        weightScale = kept.weights.map { Statistics.scale($0) } ?? 1
        if let s = kept.weights {
            var augmented = Matrix(rows: n, columns: p + 1)
            for i in 0..<n {
                let w = s[i] / weightScale
                augmented[i, 0] = w
                for c in 0..<p { augmented[i, c + 1] = w * (columns[c][i] / scales[c]) }
            }
            values = .dense(augmented)
            valueScales = scales
        } else if scales.contains(where: { $0 != 1 }), case let .dense(v) = values {
            var scaled = v
            for i in 0..<n { for c in 0..<p { scaled[i, c] = v[i, c] / scales[c] } }
            values = .dense(scaled)
            valueScales = scales
        } else {
            valueScales = nil
        }
        weighted = kept.weights != nil
        var problem = AttentionProblem(kernel: kernel, form: form, keys: keys, bandwidths: widths, values: values)
        let threads = threads ?? Parallel.defaultThreads
        if adaptive {
            problem.keyScales = KeyScales(AdaptiveBandwidth.factors(problem, threads: threads), dimension: keys.columns)
        }
        self.problem = problem
        self.emptyPolicy = emptyPolicy
        self.strategy = strategy
        self.precision = precision
        self.threads = threads
    }

    func validate(_ queries: Matrix) throws {
        guard queries.columns == problem.featureCount else {
            throw NadarayaWatsonError.featureCountMismatch(expected: problem.featureCount, actual: queries.columns)
        }
        try Validation.requireFinite(queries, as: .queries)
    }

    /// m × p pooled values, with the empty-neighbourhood policy applied.
    func pool(_ queries: Matrix) throws -> Matrix {
        try validate(queries)
        var result: PooledResult
        switch Engine.choose(for: problem, task: .pool, strategy: strategy) {
        case .reference: result = ReferenceEngine.pool(problem, queries: queries)
        case .gaussian: result = GaussianEngine.pool(problem, queries: queries, threads: threads, precision: precision)
        case .embedding: result = EmbeddingEngine.pool(problem, queries: queries, threads: threads, precision: precision)
        case let .compact(indexed): result = CompactEngine.pool(problem, queries: queries, threads: threads, indexed: indexed)
        case .constant: result = Self.averagePooling(problem, queryCount: queries.rows)
        case .smooth: result = SmoothKernelEngine.pool(problem, queries: queries, threads: threads, precision: precision)
        case .streaming, .gaussianMoments, .plainMoments:
            result = StreamingEngine.pool(problem, queries: queries, threads: threads)
        }
        let p = problem.values.width, m = queries.rows
        problem.applyFarLimit(queries, to: &result)
        if let firstEmpty = result.isEmpty.firstIndex(of: true) {
            if emptyPolicy == .error { throw NadarayaWatsonError.emptyNeighbourhood(query: firstEmpty) }
            let mean = emptyPolicy == .mean ? problem.values.mean() : []
            result.values.withUnsafeMutableBufferPointer { out in
                queries.elements.withUnsafeBufferPointer { qs in
                    for i in 0..<queries.rows where result.isEmpty[i] {
                        let row = UnsafeMutableBufferPointer(rebasing: out[i * p ..< (i + 1) * p])
                        switch emptyPolicy {
                        case .nan: row.update(repeating: .nan)
                        case .mean: for c in 0..<p { row[c] = mean[c] }
                        case .nearest:
                            problem.values.write(key: problem.nearestKey(to: qs.baseAddress! + i * queries.columns), into: row)
                        case .error: break
                        }
                    }
                }
            }
        }
        // Back to the values' units: the weighted ratio, the power-of-two scale, the clamp to
        // [min v, max v] (NaN, the `nan` policy, stays NaN).
        let width = valueRanges.count, offset = weighted ? 1 : 0
        var output = [Double](repeating: 0, count: m * width)
        for i in 0..<m {
            for c in 0..<width {
                var v = result.values[i * p + c + offset]
                if weighted { v /= result.values[i * p] }
                if !v.isNaN { v = Swift.min(Swift.max(v * (valueScales?[c] ?? 1), valueRanges[c].lowerBound), valueRanges[c].upperBound) }
                output[i * width + c] = v
            }
        }
        return Matrix(rows: m, columns: width, elements: output)
    }

    /// Each query's pooling state over the keys in the values' units: a* = max ln(sᵢαᵢ) and
    /// [S, T₁…T_p] with S = Σ sᵢe^{aᵢ−a*}, T꜀ = Σ sᵢe^{aᵢ−a*}vᵢ꜀ (the power-of-two scales of the
    /// pooled values and weights multiplied back: exact, unless a sum then exceeds the largest
    /// Double). Empty (a* = −∞) where no key has weight, or where every log weight is −∞.
    func states(_ queries: Matrix) throws -> [MomentState] {
        try validate(queries)
        let flat = MomentEngine.states(.pooling(problem), queries: queries, threads: threads)
        // With weights, pooled column 0 is sᵢ/2ᵏ: S is its sum, and the values follow it.
        let width = valueRanges.count, M = flat.count, offset = weighted ? 1 : 0, sums = flat.sums
        return (0..<queries.rows).map { i in
            var out = [Double](repeating: 0, count: 1 + width)
            out[0] = sums[i * M + offset] * weightScale
            for c in 0..<width { out[1 + c] = sums[i * M + 1 + offset + c] * weightScale * (valueScales?[c] ?? 1) }
            return MomentState(shift: flat.shifts[i], sums: out)
        }
    }

    /// The constant kernel's result without looking at the queries: every query gets the mean
    /// value (average pooling), summed once in key order.
    static func averagePooling(_ problem: AttentionProblem, queryCount m: Int) -> PooledResult {
        let mean = problem.values.mean()
        var values = [Double]()
        values.reserveCapacity(m * mean.count)
        for _ in 0..<m { values += mean }
        return PooledResult(values: values, isEmpty: Array(repeating: false, count: m))
    }

    /// m × n attention weights, each row summing to 1, with the empty-neighbourhood policy applied.
    func weights(_ queries: Matrix) throws -> Matrix {
        try validate(queries)
        let m = queries.rows, n = problem.keyCount, d = queries.columns
        var elements = Array(repeating: 0.0, count: m * n)
        var isEmpty = Array(repeating: false, count: m)
        let problem = self.problem
        elements.withUnsafeMutableBufferPointer { out in
            isEmpty.withUnsafeMutableBufferPointer { empty in
                let output = SharedOutput(base: out.baseAddress!), flags = SharedOutput(base: empty.baseAddress!)
                queries.elements.withUnsafeBufferPointer { qs in
                    let queryBase = SharedOutput(base: UnsafeMutablePointer(mutating: qs.baseAddress!))
                    Parallel.forEachBlock(count: m, blockSize: 8, threads: threads) { range in
                        for i in range {
                            let q = UnsafePointer(queryBase.base + i * d)
                            guard let w = ReferenceEngine.weights(problem, query: q)
                                ?? (problem.kernel.isCompact ? nil : problem.farLimitWeights(query: q)) else {
                                flags.base[i] = true
                                continue
                            }
                            (output.base + i * n).update(from: w, count: n)
                        }
                    }
                }
            }
        }
        if let firstEmpty = isEmpty.firstIndex(of: true) {
            if emptyPolicy == .error { throw NadarayaWatsonError.emptyNeighbourhood(query: firstEmpty) }
            queries.elements.withUnsafeBufferPointer { qs in
                for i in 0..<m where isEmpty[i] {
                    let base = i * n
                    switch emptyPolicy {
                    case .nan: for k in 0..<n { elements[base + k] = .nan }
                    case .mean: for k in 0..<n { elements[base + k] = 1 / Double(n) }
                    case .nearest: elements[base + problem.nearestKey(to: qs.baseAddress! + i * d)] = 1
                    case .error: break
                    }
                }
            }
        }
        guard weighted || keptRows != nil else { return Matrix(rows: m, columns: n, elements: elements) }
        // Frequency weights: αᵢsᵢ / Σ αₗsₗ (the `mean` policy: sᵢ / Σ sₗ), in TRAIN's row order with
        // 0 for the rows of weight 0.
        let s = (0..<n).map { problem.values.weight(key: $0) }
        let N = originalRowCount
        var full = Array(repeating: 0.0, count: m * N)
        for i in 0..<m {
            var total = 0.0
            for k in 0..<n { total += elements[i * n + k] * s[k] }
            for k in 0..<n {
                let column = keptRows?[k] ?? k
                full[i * N + column] = isEmpty[i] && emptyPolicy == .nan ? .nan : elements[i * n + k] * s[k] / total
            }
            if isEmpty[i] && emptyPolicy == .nan { for k in 0..<N { full[i * N + k] = .nan } }
        }
        return Matrix(rows: m, columns: N, elements: full)
    }
}

extension PooledValues {
    /// sᵢ/2ᵏ of a weighted problem's key k (column 0 of its values).
    func weight(key k: Int) -> Double {
        guard case let .dense(v) = self else { return 1 }
        return v[k, 0]
    }
}
