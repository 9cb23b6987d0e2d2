import RealModule

// Legend: n keys, m queries, d_c continuous and d_u discrete features, G cells (distinct
// discrete value vectors among the keys), M moments per query, φ a cell's log factor.
//
// Implementation goals, in order of priority:
// 1. Exact: the weight of key i is the continuous kernel times ∏ⱼ lⱼ(qⱼ, kᵢⱼ; λⱼ), and every key
//    of one cell shares the discrete factor, so each cell's moment state (from the continuous
//    engines, exact in log space) is shifted by φ = Σⱼ ln lⱼ and merged (``MomentState``'s ⊕).
//    Leave-one-out masks the point's own key inside its cell's engine call: no subtraction.
// 2. Fast: one engine call per cell over the queries whose factor is not 0, so the n·m pairs
//    cost what the continuous engines cost (the Gaussian's SIMD engines), plus O(m·G·(d_u + M))
//    for the factors and merges — never a λ-product per pair.
// 3. Memory O((n + m)·(d_c + d_u) + m·M): per block of queries its factors and one cell's states.

/// Mixed continuous and discrete keys, grouped into cells of equal discrete values.
struct MixedProblem: Sendable {
    let kernel: Kernel
    let form: KernelForm
    /// n × d_c.
    let continuousKeys: Matrix
    /// n × d_u: category codes (categorical) or numbers (ordered).
    let discreteKeys: Matrix
    let kinds: [FeatureKind]
    /// c per discrete feature (distinct values among the keys).
    let categories: [Int]
    let values: PooledValues
    /// ln sᵢ per key, or nil for unit weights.
    let logWeights: [Double]?
    /// The keys of each cell, ascending, and each cell's discrete values.
    let cells: [[Int]]
    let cellValues: [[Double]]
    /// The cell of each key.
    let cellOf: [Int]
    /// Each cell's keys' continuous parts, values and ln sᵢ, gathered once for every search step.
    let cellKeys: [Matrix]
    let cellPooled: [PooledValues]
    let cellLogWeights: [[Double]?]

    var keyCount: Int { continuousKeys.rows }
    var continuousCount: Int { continuousKeys.columns }
    var discreteCount: Int { discreteKeys.columns }

    /// Groups the keys by their discrete values.
    ///
    /// - Complexity: O(n·d_u) expected.
    init(kernel: Kernel, form: KernelForm, continuousKeys: Matrix, discreteKeys: Matrix, kinds: [FeatureKind],
         values: PooledValues, logWeights: [Double]?) {
        precondition(kinds.count == discreteKeys.columns && kinds.allSatisfy(\.isDiscrete),
                     "there should be one discrete kind per discrete column (\(discreteKeys.columns)), but there are \(kinds.count)")
        self.kernel = kernel
        self.form = form
        self.continuousKeys = continuousKeys
        self.discreteKeys = discreteKeys
        self.kinds = kinds
        self.values = values
        self.logWeights = logWeights
        let n = discreteKeys.rows, du = discreteKeys.columns
        var index: [[Double]: Int] = [:]
        var cells: [[Int]] = [], cellValues: [[Double]] = [], cellOf = [Int](repeating: 0, count: n)
        for i in 0..<n {
            let key = discreteKeys.row(i)
            if let c = index[key] {
                cells[c].append(i)
                cellOf[i] = c
            } else {
                index[key] = cells.count
                cellOf[i] = cells.count
                cells.append([i])
                cellValues.append(key)
            }
        }
        self.cells = cells
        self.cellValues = cellValues
        self.cellOf = cellOf
        categories = (0..<du).map { j in Set((0..<n).map { discreteKeys[$0, j] }).count }
        cellKeys = cells.map { Self.select(continuousKeys, $0) }
        cellPooled = cells.map { Self.subset(values, $0) }
        cellLogWeights = cells.map { members in logWeights.map { w in members.map { w[$0] } } }
    }

    /// The discrete kernels at the given λ (one per discrete feature).
    func kernels(_ lambdas: [Double]) -> [DiscreteKernel] {
        (0..<discreteCount).map { DiscreteKernel(kind: kinds[$0], categories: categories[$0], lambda: lambdas[$0]) }
    }

    /// Σⱼ ln lⱼ(qⱼ, cellⱼ): the relative log factor of a query's discrete values `q` on a cell.
    @inline(__always)
    static func logFactor(_ kernels: [DiscreteKernel], _ q: UnsafePointer<Double>, _ cell: [Double]) -> Double {
        var sum = 0.0
        for j in kernels.indices {
            sum += kernels[j].relativeLogFactor(q[j], cell[j])
            if sum == -.infinity { break }
        }
        return sum
    }

    /// The moment states of every query over all keys, the discrete factors included (relative:
    /// see ``DiscreteKernel``): per cell, the continuous engine's states shifted by φ and merged.
    ///
    /// - Parameters:
    ///   - set: the moments (over the continuous features' offsets).
    ///   - queries: m × d_c continuous parts; `discrete`: m × d_u discrete values.
    ///   - leaveOneOut: the queries are the keys in order, and query i leaves key i out.
    /// - Complexity: O(m·n·(d_c + M)) through the continuous engines (compact kernels: the
    ///   index), plus O(m·G·(d_u + M)); O(m·M) memory beyond the inputs.
    func states(set: MomentSet, widths: [Double], lambdas: [Double], queries: Matrix, discrete: Matrix,
                leaveOneOut: Bool = false, threads: Int) -> MomentStates {
        let m = queries.rows, M = set.count, G = cells.count
        precondition(!leaveOneOut || m == keyCount, "leave-one-out queries should be the \(keyCount) keys, but are \(m)")
        var result = MomentStates(queries: m, count: M)
        let kernels = self.kernels(lambdas)
        // Threads over query blocks, each block through every cell with a one-thread engine call
        // (a dispatch per call would cost more than a small cell's work); with leave-one-out the
        // points of each cell are then redone by a masked call on the cell's own keys, threads
        // over cells (whose points are disjoint). A query's merge order is fixed: the same bits
        // on any thread count.
        // One block per thread: each block costs an engine call per cell, so fewer is cheaper.
        let blockSize = Swift.max(64, (m + threads - 1) / threads)
        result.shifts.withUnsafeMutableBufferPointer { shiftBuffer in
            result.sums.withUnsafeMutableBufferPointer { sumBuffer in
                let shifts = SharedOutput(base: shiftBuffer.baseAddress!), sums = SharedOutput(base: sumBuffer.baseAddress!)
                Parallel.forEachBlock(count: m, blockSize: blockSize, threads: threads) { range in
                    let block = Self.select(queries, Array(range)), rows = Array(range)
                    // The block's factors on each cell, block × G.
                    var factors = [Double](repeating: 0, count: range.count * G)
                    discrete.elements.withUnsafeBufferPointer { qs in
                        for (k, i) in range.enumerated() {
                            for c in 0..<G { factors[k * G + c] = Self.logFactor(kernels, qs.baseAddress! + i * discreteCount, cellValues[c]) }
                        }
                    }
                    for c in 0..<G {
                        guard (0..<range.count).contains(where: { factors[$0 * G + c] > -.infinity }) else { continue }
                        let states = cellStates(c, set: set, widths: widths, queries: block, leaveOneOut: false, threads: 1)
                        Self.merge(states, into: shifts.base, sums.base, at: rows) { k in
                            leaveOneOut && cellOf[rows[k]] == c ? -.infinity : factors[k * G + c]
                        }
                    }
                }
                guard leaveOneOut else { return }
                Parallel.forEachBlock(count: G, blockSize: 1, threads: threads) { range in
                    for c in range {
                        // The cell's points share its discrete values: one factor.
                        let own = cellValues[c].withUnsafeBufferPointer { Self.logFactor(kernels, $0.baseAddress!, cellValues[c]) }
                        guard own > -.infinity else { continue }
                        let states = cellStates(c, set: set, widths: widths, queries: cellKeys[c], leaveOneOut: true, threads: 1)
                        Self.merge(states, into: shifts.base, sums.base, at: cells[c]) { _ in own }
                    }
                }
            }
        }
        return result
    }

    /// Adds cell states (query k of `states` is query `rows[k]`) shifted by `factor(k)` (−∞:
    /// skipped).
    private static func merge(_ states: MomentStates, into shifts: UnsafeMutablePointer<Double>, _ sums: UnsafeMutablePointer<Double>,
                              at rows: [Int], factor: (Int) -> Double) {
        let M = states.count
        for (k, i) in rows.enumerated() where states.shifts[k] > -.infinity {
            let f = factor(k)
            guard f > -.infinity else { continue }
            let shift = states.shifts[k] + f, current = shifts[i]
            if shift > current {
                let scale = Double.exp(current - shift)
                for c in 0..<M { sums[i * M + c] = sums[i * M + c] * scale + states.sums[k * M + c] }
                shifts[i] = shift
            } else {
                let scale = Double.exp(shift - current)
                for c in 0..<M { sums[i * M + c] += states.sums[k * M + c] * scale }
            }
        }
    }

    /// The rows `rows` of `matrix`.
    static func select(_ matrix: Matrix, _ rows: [Int]) -> Matrix {
        if rows.count == matrix.rows && rows.elementsEqual(0..<matrix.rows) { return matrix }
        let d = matrix.columns
        var elements = [Double](repeating: 0, count: rows.count * d)
        matrix.elements.withUnsafeBufferPointer { x in
            for (k, r) in rows.enumerated() { for j in 0..<d { elements[k * d + j] = x[r * d + j] } }
        }
        return Matrix(rows: rows.count, columns: d, elements: elements)
    }

    /// One cell's states by the continuous engines (with no continuous feature: the cell's
    /// weighted sums, the same for every query; leave-one-out recomputed without the point).
    func cellStates(_ c: Int, set: MomentSet, widths: [Double], queries: Matrix, leaveOneOut: Bool, threads: Int) -> MomentStates {
        let members = cells[c]
        let logW = cellLogWeights[c], values = cellPooled[c]
        if continuousCount == 0 {
            return constantStates(members: members, values: values, logWeights: logW, set: set, queries: queries.rows,
                                  leaveOneOut: leaveOneOut)
        }
        let attention = AttentionProblem(kernel: kernel, form: form, keys: cellKeys[c], bandwidths: widths, values: values)
        let problem = MomentProblem(attention: attention, logWeights: logW, moments: set, leaveOneOut: leaveOneOut)
        return MomentEngine.states(problem, queries: queries, threads: threads)
    }

    /// The values of some keys.
    static func subset(_ values: PooledValues, _ members: [Int]) -> PooledValues {
        switch values {
        case let .dense(matrix): .dense(select(matrix, members))
        case let .classes(indices, count): .classes(indices: members.map { indices[$0] }, count: count)
        }
    }

    /// Sums Σ sᵢ·(1, vᵢ) over a cell's keys (degree 0: no offsets), shifted by max ln sᵢ.
    private func constantStates(members: [Int], values: PooledValues, logWeights: [Double]?, set: MomentSet, queries m: Int,
                                leaveOneOut: Bool) -> MomentStates {
        let M = set.count, w = set.responseWidth
        var result = MomentStates(queries: m, count: M)
        let accumulator = UnsafeMutablePointer<Double>.allocate(capacity: M)
        defer { accumulator.deallocate() }
        // Without leave-one-out every query has the same state: computed once.
        for i in 0..<(leaveOneOut ? m : Swift.min(m, 1)) {
            let excluded = leaveOneOut ? i : -1
            let kept = members.indices.filter { $0 != excluded }
            guard !kept.isEmpty else { continue }
            let shift = logWeights.map { lw in kept.map { lw[$0] }.max()! } ?? 0
            accumulator.update(repeating: 0, count: M)
            for k in kept {
                let e = Double.exp((logWeights?[k] ?? 0) - shift)
                accumulator[0] += e
                if w > 0 { values.accumulate(key: k, weight: e, into: accumulator + set.responseOffset) }
            }
            result.shifts[i] = shift
            for c in 0..<M { result.sums[i * M + c] = accumulator[c] }
        }
        if !leaveOneOut && m > 1 {
            for i in 1..<m {
                result.shifts[i] = result.shifts[0]
                for c in 0..<M { result.sums[i * M + c] = result.sums[c] }
            }
        }
        return result
    }
}
