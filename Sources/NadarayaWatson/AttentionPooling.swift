// Legend: n keys, m queries, d features, p value components, h widths (one per feature).

/// Fitted attention pooling, shared by the regressor and the classifier: validated keys, values
/// and widths, the empty-neighbourhood policy, and the engine choice.
struct AttentionPooling: Sendable {
    let problem: AttentionProblem
    let emptyPolicy: EmptyNeighbourhoodPolicy
    let strategy: EvaluationStrategy
    let precision: Precision
    let threads: Int

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
        if !problem.kernel.isCompact {
            // Infinite support: "empty" only when the distances overflowed; take the limit.
            queries.elements.withUnsafeBufferPointer { qs in
                for i in 0..<queries.rows where result.isEmpty[i] {
                    let w = problem.farLimitWeights(query: qs.baseAddress! + i * queries.columns)
                    let row = UnsafeMutablePointer<Double>.allocate(capacity: p)
                    defer { row.deallocate() }
                    row.initialize(repeating: 0, count: p)
                    for k in 0..<problem.keyCount where w[k] > 0 { problem.values.accumulate(key: k, weight: w[k], into: row) }
                    for c in 0..<p { result.values[i * p + c] = row[c] }
                    result.isEmpty[i] = false
                }
            }
        }
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
