// Legend: n keys, m queries, d features, p value components, h widths (one per feature).
//
// Implementation goals, in order of priority:
// 1. Exact and consistent: every pair is weighed by one function (`weight`), the same arithmetic
//    as the plain engines — uⱼ = (qⱼ − kⱼ)/hⱼ by division, the open support tested as ‖u‖² < 1
//    (radial) or |uⱼ| < 1 (product) — so the index visits exactly the keys dense finds in the
//    support, ties at the boundary included. Linear-space sums, redone in log space when tiny.
// 2. Fast on large data: a query visits only keys that can lie in its support — a sorted array
//    in 1-D (binary search for the interval), a k-d tree in higher d (boxes pruned by their
//    distance bound) — so the cost is O(m·(log n + neighbours)), not O(m·n).
// 3. All cores over query blocks; results independent of the thread count.

/// The engine for compact kernels (boxcar, epanechnikov, triangular, biweight, triweight,
/// tricube, cosine): dense over all keys, or through an index.
enum CompactEngine {
    static func pool(_ problem: AttentionProblem, queries: Matrix, threads: Int, indexed: Bool) -> PooledResult {
        switch problem.kernel {
        case .boxcar: run(BoxcarProfile.self, problem, queries, threads, indexed)
        case .epanechnikov: run(EpanechnikovProfile.self, problem, queries, threads, indexed)
        case .triangular: run(TriangularProfile.self, problem, queries, threads, indexed)
        case .biweight: run(BiweightProfile.self, problem, queries, threads, indexed)
        case .triweight: run(TriweightProfile.self, problem, queries, threads, indexed)
        case .tricube: run(TricubeProfile.self, problem, queries, threads, indexed)
        case .cosine: run(CosineProfile.self, problem, queries, threads, indexed)
        case .gaussian, .constant, .logistic, .cauchy, .laplacian, .dot:
            preconditionFailure("\(problem.kernel) is not compact")
        }
    }

    /// One feature, one value column: keys sorted, values in the same order, and for each query
    /// a binary search for the first key at or above q − h(1 + 10⁻⁹), then a scan while keys stay
    /// within q + h(1 + 10⁻⁹). Dense mode scans everything in the same order.
    static func runOneDimensional<K: CompactProfile>(_: K.Type, _ problem: AttentionProblem, _ index: KeyIndex, values: [Double],
                                                     _ queries: Matrix, _ threads: Int, _ indexed: Bool) -> PooledResult {
        let m = queries.rows, n = problem.keyCount, h = problem.bandwidths[0]
        let radial = problem.form == .radial
        var result = [Double](repeating: 0, count: m)
        var isEmpty = [Bool](repeating: false, count: m)
        result.withUnsafeMutableBufferPointer { out in
            isEmpty.withUnsafeMutableBufferPointer { empty in
                let output = SharedOutput(base: out.baseAddress!), flags = SharedOutput(base: empty.baseAddress!)
                queries.elements.withUnsafeBufferPointer { qs in
                    index.keys.withUnsafeBufferPointer { xs in
                        values.withUnsafeBufferPointer { ys in
                            let qBase = SharedOutput(base: UnsafeMutablePointer(mutating: qs.baseAddress!))
                            let xBase = SharedOutput(base: UnsafeMutablePointer(mutating: xs.baseAddress!))
                            let yBase = SharedOutput(base: UnsafeMutablePointer(mutating: ys.baseAddress!))
                            Parallel.forEachBlock(count: m, blockSize: 1024, threads: threads) { range in
                                let x = UnsafePointer(xBase.base), y = UnsafePointer(yBase.base)
                                for i in range {
                                    let q = qBase.base[i]
                                    var first = 0, high = Double.infinity
                                    if indexed {
                                        let reach = h * (1 + KeyIndex.margin) + q.magnitude * 1e-15
                                        let low = q - reach
                                        high = q + reach
                                        var last = n
                                        while first < last {
                                            let mid = (first &+ last) >> 1
                                            if x[mid] < low { first = mid &+ 1 } else { last = mid }
                                        }
                                    }
                                    var total = 0.0, weighted = 0.0
                                    var position = first
                                    while position < n, x[position] <= high {
                                        let u = (q - x[position]) / h
                                        let w: Double
                                        if radial {
                                            let s = u * u
                                            w = s < 1 ? K.radial(s) : 0
                                        } else {
                                            let a = u.magnitude
                                            w = a < 1 ? K.profile(a) : 0
                                        }
                                        total += w
                                        weighted += w * y[position]
                                        position &+= 1
                                    }
                                    if total > 0 && total < StreamingEngine.linearSpaceFloor {
                                        var one = 0.0
                                        var queryValue = q
                                        total = StreamingEngine.poolLogSpace(problem, query: &queryValue, into: &one)
                                        weighted = one
                                    }
                                    if total > 0 {
                                        output.base[i] = weighted / total
                                    } else {
                                        flags.base[i] = true
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return PooledResult(values: result, isEmpty: isEmpty)
    }

    /// The weight of key k (row-major keys `x`) for query q: the one definition every path uses.
    @inline(__always)
    static func weight<K: CompactProfile>(_: K.Type, radial: Bool, q: UnsafePointer<Double>, x: UnsafePointer<Double>,
                                          bandwidths: UnsafePointer<Double>, d: Int) -> Double {
        if radial {
            var s = 0.0
            for j in 0..<d {
                let u = (q[j] - x[j]) / bandwidths[j]
                s += u * u
            }
            return s < 1 ? K.radial(s) : 0
        } else {
            var w = 1.0
            for j in 0..<d {
                let a = ((q[j] - x[j]) / bandwidths[j]).magnitude
                guard a < 1 else { return 0 }
                w *= K.profile(a)
            }
            return w
        }
    }

    static func run<K: CompactProfile>(_: K.Type, _ problem: AttentionProblem, _ queries: Matrix, _ threads: Int,
                                       _ indexed: Bool) -> PooledResult {
        let m = queries.rows, d = problem.featureCount, p = problem.values.width, n = problem.keyCount
        let index = KeyIndex(keys: problem.keys, bandwidths: problem.bandwidths)
        if d == 1, case let .dense(v) = problem.values, v.columns == 1 {
            return runOneDimensional(K.self, problem, index, values: index.order.map { v.elements[$0] }, queries, threads, indexed)
        }
        var values = [Double](repeating: 0, count: m * p)
        var isEmpty = [Bool](repeating: false, count: m)
        let radial = problem.form == .radial
        values.withUnsafeMutableBufferPointer { out in
            isEmpty.withUnsafeMutableBufferPointer { empty in
                let output = SharedOutput(base: out.baseAddress!), flags = SharedOutput(base: empty.baseAddress!)
                queries.elements.withUnsafeBufferPointer { qs in
                    let queryBase = SharedOutput(base: UnsafeMutablePointer(mutating: qs.baseAddress!))
                    index.keys.withUnsafeBufferPointer { xs in
                        let keyBase = SharedOutput(base: UnsafeMutablePointer(mutating: xs.baseAddress!))
                        problem.bandwidths.withUnsafeBufferPointer { hs in
                            let widths = SharedOutput(base: UnsafeMutablePointer(mutating: hs.baseAddress!))
                            Parallel.forEachBlock(count: m, blockSize: 256, threads: threads) { range in
                                var ranges: [Range<Int>] = []
                                for i in range {
                                    let q = UnsafePointer(queryBase.base + i * d)
                                    let row = output.base + i * p
                                    for c in 0..<p { row[c] = 0 }
                                    if indexed {
                                        index.candidates(near: q, radial: radial, into: &ranges)
                                    } else {
                                        ranges = [0..<n]
                                    }
                                    var total = 0.0
                                    for run in ranges {
                                        for position in run {
                                            let w = weight(K.self, radial: radial, q: q, x: keyBase.base + position * d,
                                                           bandwidths: widths.base, d: d)
                                            if w > 0 {
                                                total += w
                                                problem.values.accumulate(key: index.order[position], weight: w, into: row)
                                            }
                                        }
                                    }
                                    if total > 0 && total < StreamingEngine.linearSpaceFloor {
                                        total = StreamingEngine.poolLogSpace(problem, query: q, into: row)
                                    }
                                    if total > 0 {
                                        for c in 0..<p { row[c] /= total }
                                    } else {
                                        flags.base[i] = true
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return PooledResult(values: values, isEmpty: isEmpty)
    }
}
