// Legend: n keys, m queries, d features, p value components, h widths (one per feature).

/// Fitted attention pooling, shared by the regressor and the classifier: validated keys, values
/// and widths, the empty-neighbourhood policy, and the engine choice.
struct AttentionPooling: Sendable {
    let problem: AttentionProblem
    let emptyPolicy: EmptyNeighbourhoodPolicy
    let strategy: EvaluationStrategy
    let precision: Precision
    let threads: Int
    /// Per value column, the power of two the pooled values were divided by (nil: none).
    let valueScales: [Double]?
    /// Per value column, [min v, max v] of the (scaled) values: every pooled value is a convex
    /// combination, so a result outside is rounding, and is clamped back.
    let valueRanges: [ClosedRange<Double>]

    init(kernel: Kernel, form: KernelForm, keys: Matrix, values: PooledValues, bandwidth: Bandwidth,
         emptyPolicy: EmptyNeighbourhoodPolicy, strategy: EvaluationStrategy, precision: Precision = .double,
         threads: Int?, adaptive: Bool = false) throws {
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
        let widths = try bandwidth.resolve(for: keys)
        // Values pooled as v / 2ᵏ per column where |v| is extreme (exact), so that no weighted sum
        // overflows: the result, multiplied back, lies in [min v, max v] as it must.
        var values = values
        var valueScales: [Double]? = nil
        if case let .dense(v) = values {
            let scales = (0..<v.columns).map { Statistics.normalizingScale(v.column($0)) }
            if scales.contains(where: { $0 != 1 }) {
                var scaled = v
                for i in 0..<v.rows { for c in 0..<v.columns { scaled[i, c] = v[i, c] / scales[c] } }
                values = .dense(scaled)
                valueScales = scales
            }
        }
        self.valueScales = valueScales
        switch values {
        case let .dense(v):
            valueRanges = (0..<v.columns).map { c in
                let column = v.column(c)
                return column.min()!...column.max()!
            }
        case let .classes(_, count):
            valueRanges = Array(repeating: 0...1, count: count)
        }
        var problem = AttentionProblem(kernel: kernel, form: form, keys: keys, bandwidths: widths, values: values)
        let threads = threads ?? Parallel.defaultThreads
        if adaptive {
            problem.keyScales = KeyScales(AdaptiveBandwidth.factors(problem, threads: threads), dimension: keys.columns)
        }
        self.problem = problem
        self.emptyPolicy = emptyPolicy
        // Per-key widths: only the plain engines (which evaluate α per pair) support them.
        self.strategy = adaptive && strategy != .reference ? .streaming : strategy
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
        switch strategy {
        case .reference: result = ReferenceEngine.pool(problem, queries: queries)
        case .streaming: result = StreamingEngine.pool(problem, queries: queries, threads: threads)
        case .vectorized, .automatic, .indexed:
            if problem.kernel == .gaussian {
                result = GaussianEngine.pool(problem, queries: queries, threads: threads, precision: precision)
            } else if problem.kernel.isCompact {
                result = CompactEngine.pool(problem, queries: queries, threads: threads, indexed: strategy != .vectorized)
            } else if problem.kernel == .constant {
                result = Self.averagePooling(problem, queryCount: queries.rows)
            } else {
                result = SmoothKernelEngine.pool(problem, queries: queries, threads: threads, precision: precision)
            }
        }
        let p = problem.values.width
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
        for i in 0..<queries.rows {
            for c in 0..<p {
                let v = result.values[i * p + c]
                // NaN (the `nan` policy) stays NaN.
                var clamped = v.isNaN ? v : Swift.min(Swift.max(v, valueRanges[c].lowerBound), valueRanges[c].upperBound)
                if let valueScales { clamped *= valueScales[c] }
                result.values[i * p + c] = clamped
            }
        }
        return Matrix(rows: queries.rows, columns: p, elements: result.values)
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
        return Matrix(rows: m, columns: n, elements: elements)
    }
}
