import RealModule

// Legend: n keys, m queries, d features, p value components, h widths (one per feature),
// s sample weights, W SIMD lanes (8 doubles or 16 floats), R queries × C key vectors per
// micro-tile (a key panel holds N = C·W keys), q′ = q·c/h and k′ = k·c/h with c = √log₂e.
//
// Implementation goals, in order of priority:
// 1. Exact: log₂ weights from the products t = q′·k′ (dot: log₂ α = t; gaussian:
//    log₂ α = −½‖q′ − k′‖² = t − ½‖q′‖² − ½‖k′‖², keys and queries centred on the keys' mean
//    first). Where the Gaussian's three terms cancel (‖q′ − k′‖² < ρ·(‖q′‖² + ‖k′‖²), a key
//    near its query relative to their norms) the pair is recomputed directly, so its log weight
//    carries the error of the direct distance, not of the norms. Online softmax per lane with a
//    running maximum; sums folded into Float64 after every key block; a query whose result is
//    not finite is redone by the plain engine.
// 2. Memory O((n + m)·d): keys packed once in panels; O(R·W·p) state per query; no n × m matrix.
// 3. Matrix-multiply speed: the products by a register-blocked micro-kernel (R·C accumulators,
//    each key-vector load shared by R queries, each broadcast by C key vectors: d multiply-adds
//    per W pairs), fused with the softmax and the value sums (FlashAttention's tiling on a CPU);
//    key blocks sized for L2 and reused by every micro-tile of a query block; query blocks
//    spread over all cores.

/// The engine for high-dimensional keys: the `dot` kernel at any d, and the Gaussian where the
/// products cost more than the softmax (d ≥ ``minimumGaussianFeatures``).
enum EmbeddingEngine {
    /// From this many features the Gaussian goes to this engine rather than ``GaussianEngine``
    /// (whose per-feature difference costs a subtract and a multiply-add per pair, against one
    /// multiply-add here, but needs no norms or guard).
    static let minimumGaussianFeatures = 32

    /// ρ: a Gaussian pair whose squared distance is below ρ·(‖q′‖² + ‖k′‖²) is recomputed
    /// directly. The norm form's absolute error is about u·(‖q′‖² + ‖k′‖²); the direct form's
    /// about u·‖q′ − k′‖²: the norm form is kept only where it loses fewer than 6 bits.
    static let cancellationRatio = 1.0 / 64

    /// How the engine's log₂ weights come from the products.
    enum Similarity: Sendable {
        /// log₂ α = q′·k′.
        case dot
        /// log₂ α = −½‖q′ − k′‖², from q′·k′ and the norms, with the cancellation guard.
        case gaussian
    }

    /// Whether the engine serves `problem` (no per-key widths; a kernel it computes).
    static func supports(_ problem: AttentionProblem) -> Bool {
        guard problem.keyScales == nil else { return false }
        return problem.kernel == .dot
            || (problem.kernel == .gaussian && problem.featureCount >= minimumGaussianFeatures)
    }

    /// Keys, biases and values in panels: panel b's feature j for its N keys at
    /// `keys[(b·d + j)·N ..< +N]`, its value column c at `values[(b·p + c)·N ..< +N]`.
    /// Padding keys have coordinates 0, bias −∞ and value 0.
    struct Layout<Scalar: BinaryFloatingPoint>: @unchecked Sendable {
        let n: Int, d: Int, p: Int, panelKeys: Int, panelCount: Int
        let similarity: Similarity
        let keys: UnsafeMutableBufferPointer<Scalar>
        /// Per key: log₂ sₖ, and for the Gaussian −½‖k′‖²; −∞ for padding.
        let bias: UnsafeMutableBufferPointer<Scalar>
        /// Per key (Gaussian): (ρ − 1)/2·‖k′‖², so that t + this + (ρ − 1)/2·‖q′‖² > 0 flags a
        /// pair to recompute; −∞ for padding.
        let guardTerm: UnsafeMutableBufferPointer<Scalar>
        let values: UnsafeMutableBufferPointer<Scalar>
        /// log₂ sₖ per key (nil: unit weights) and the keys in the caller's units, for the
        /// guard's recomputed pairs.
        let binaryLogWeights: [Double]?
        let originalKeys: Matrix
        let centre: [Double], scale: [Double]
        /// Whether every scaled coordinate and bias is finite in `Scalar` (not so at the ends of
        /// the range): else the engine vouches for no query.
        let isFinite: Bool

        init(_ problem: AttentionProblem, logWeights: [Double]?, panelKeys N: Int) {
            let n = problem.keyCount, d = problem.featureCount, p = problem.values.width
            let panelCount = (n + N - 1) / N
            (self.n, self.d, self.p, panelKeys, self.panelCount) = (n, d, p, N, panelCount)
            similarity = problem.kernel == .dot ? .dot : .gaussian
            binaryLogWeights = logWeights?.map { $0 * 1.4426950408889634 }
            originalKeys = problem.keys
            let x = problem.keys
            // The dot kernel's softmax is not invariant to moving the queries, so only the
            // Gaussian is centred (on the mean: the norms, and so the cancellation, are least).
            centre = similarity == .dot ? Array(repeating: 0, count: d)
                : (0..<d).map { j in (0..<n).reduce(0.0) { $0 + x[$1, j] } / Double(n) }
            let unit = 1.4426950408889634.squareRoot()
            scale = problem.bandwidths.map { unit / $0 }
            keys = .allocate(capacity: panelCount * d * N)
            keys.initialize(repeating: 0)
            bias = .allocate(capacity: panelCount * N)
            bias.initialize(repeating: -Scalar.infinity)
            guardTerm = .allocate(capacity: panelCount * N)
            guardTerm.initialize(repeating: -Scalar.infinity)
            values = .allocate(capacity: panelCount * p * N)
            values.initialize(repeating: 0)
            var isFinite = true
            let rho = EmbeddingEngine.cancellationRatio
            for k in 0..<n {
                let (b, lane) = k.quotientAndRemainder(dividingBy: N)
                var norm = 0.0
                for j in 0..<d {
                    let coordinate = Scalar((x[k, j] - centre[j]) * scale[j])
                    keys[(b * d + j) * N + lane] = coordinate
                    norm += Double(coordinate) * Double(coordinate)
                    isFinite = isFinite && coordinate.isFinite
                }
                let logWeight = binaryLogWeights?[k] ?? 0
                let keyBias = similarity == .dot ? logWeight : logWeight - 0.5 * norm
                bias[b * N + lane] = Scalar(keyBias)
                guardTerm[b * N + lane] = similarity == .dot ? -Scalar.infinity : Scalar((rho - 1) / 2 * norm)
                isFinite = isFinite && Scalar(keyBias).isFinite && norm.isFinite
            }
            self.isFinite = isFinite
            switch problem.values {
            case let .dense(v):
                for k in 0..<n {
                    let (b, lane) = k.quotientAndRemainder(dividingBy: N)
                    for c in 0..<p { values[(b * p + c) * N + lane] = Scalar(v[k, c]) }
                }
            case let .classes(indices, _):
                for k in 0..<n {
                    let (b, lane) = k.quotientAndRemainder(dividingBy: N)
                    values[(b * p + indices[k]) * N + lane] = 1
                }
            }
        }

        func deallocate() {
            keys.deallocate(); bias.deallocate(); guardTerm.deallocate(); values.deallocate()
        }
    }

    /// Pooled values T/S of every query.
    ///
    /// - Complexity: O(m·n·(d + p)) time, O((n + m)·(d + p)) memory.
    static func pool(_ problem: AttentionProblem, queries: Matrix, threads: Int, precision: Precision) -> PooledResult {
        var result: PooledResult
        switch precision {
        case .double: result = run(SIMD8<Double>.self, problem, queries, logWeights: nil, leaveOneOut: false, threads: threads)
        case .single: result = run(SIMD16<Float>.self, problem, queries, logWeights: nil, leaveOneOut: false, threads: threads)
        }
        StreamingEngine.redoInLogSpace(problem, queries: queries, threads: threads, &result)
        return result
    }

    /// Attention pooling's kernel-moment states (shift a* = max ln(sᵢαᵢ), S = Σ sᵢe^{aᵢ−a*},
    /// T꜀ = Σ sᵢe^{aᵢ−a*}v꜀) in float64, with per-key log weights ln sᵢ and leave-one-out
    /// (query i, which is key i, leaves key i out). Queries the fast path cannot vouch for are
    /// redone by the plain engine.
    ///
    /// - Complexity: O(m·n·(d + p)) time, O((n + m)·(d + p)) memory.
    static func states(_ problem: MomentProblem, queries: Matrix, threads: Int) -> MomentStates {
        let m = queries.rows, p = problem.attention.values.width
        var states = MomentStates(queries: m, count: 1 + p)
        let result = states.shifts.withUnsafeMutableBufferPointer { shifts in
            states.sums.withUnsafeMutableBufferPointer { sums in
                run(SIMD8<Double>.self, problem.attention, queries, logWeights: problem.logWeights,
                    leaveOneOut: problem.leaveOneOut, threads: threads,
                    states: (SharedOutput(base: shifts.baseAddress!), SharedOutput(base: sums.baseAddress!)))
            }
        }
        let redo = (0..<m).filter { i in
            result.isEmpty[i] || !(0...p).allSatisfy { states.sums[i * (1 + p) + $0].isFinite }
        }
        if !redo.isEmpty {
            states = MomentEngine.plainStates(problem, queries: queries, index: nil, threads: threads, only: redo, into: states)
        }
        return states
    }

    /// Runs the engine in vector type V with this ISA's micro-tile; marks queries to redo.
    static func run<V: EngineVector>(_: V.Type, _ problem: AttentionProblem, _ queries: Matrix, logWeights: [Double]?,
                                     leaveOneOut: Bool, threads: Int,
                                     states: (shifts: SharedOutput<Double>, sums: SharedOutput<Double>)? = nil) -> PooledResult {
        // The micro-tile per ISA: 32 vector registers (AVX-512) hold 12 × 2 accumulators and
        // the 2 key vectors; 16 (AVX2, where a SIMD8<Double> or SIMD16<Float> is two registers)
        // hold 6 × 1 accumulators (12 registers) and the key vector (2).
        #if NW_AVX512
        typealias Block = EmbeddingBlock<V, 12, 2, 24>
        #else
        typealias Block = EmbeddingBlock<V, 6, 1, 6>
        #endif
        let layout = Layout<V.Scalar>(problem, logWeights: logWeights, panelKeys: Block.N)
        defer { layout.deallocate() }
        let m = queries.rows, p = layout.p
        guard layout.isFinite else { return .redoAll(queries: m, width: p) }
        var values = [Double](repeating: 0, count: m * p)
        var redo = [Bool](repeating: false, count: m)
        values.withUnsafeMutableBufferPointer { out in
            redo.withUnsafeMutableBufferPointer { flags in
                let output = SharedOutput(base: out.baseAddress!), redoFlags = SharedOutput(base: flags.baseAddress!)
                queries.elements.withUnsafeBufferPointer { qs in
                    let queryBase = SharedOutput(base: UnsafeMutablePointer(mutating: qs.baseAddress!))
                    Parallel.forEachBlock(count: m, blockSize: Block.queriesPerBlock, threads: threads) { range in
                        let block = Block(layout: layout, queries: UnsafePointer(queryBase.base), range: range,
                                                         leaveOneOut: leaveOneOut)
                        defer { block.deallocate() }
                        block.run()
                        block.finish(into: output.base, redo: redoFlags.base, states: states.map { ($0.shifts.base, $0.sums.base) })
                    }
                }
            }
        }
        return PooledResult(values: values, isEmpty: redo)
    }
}

/// The state of one thread's block of queries while every key block streams past it: per query
/// and lane the running maximum M of the log₂ weights (as V), the key block's sums S and T꜀
/// (as V, relative to M) and the Float64 sums they are folded into after each key block.
struct EmbeddingBlock<V: EngineVector, let R: Int, let C: Int, let T: Int> {
    typealias Scalar = V.Scalar
    static var W: Int { V.scalarCount }
    /// N: keys per panel.
    static var N: Int { C * V.scalarCount }
    /// Queries per thread's block: 8 micro-tiles of rows share each key block.
    static var queriesPerBlock: Int { 8 * R }

    let layout: EmbeddingEngine.Layout<Scalar>
    /// All m queries in the caller's units (for the guard's recomputed pairs).
    let queries: UnsafePointer<Double>
    let range: Range<Int>
    let leaveOneOut: Bool
    /// Micro-tiles of R queries (the last repeated as padding), packed feature-major:
    /// tile g's feature j of row r at `packed[(g·d + j)·R + r]`.
    let packed: UnsafeMutablePointer<Scalar>
    let tiles: Int
    /// Per padded query: −½‖q′‖² and (ρ − 1)/2·‖q′‖² (Gaussian; 0 and −∞ for dot).
    let queryBias: UnsafeMutablePointer<Scalar>
    let queryGuard: UnsafeMutablePointer<Scalar>
    let maximum: UnsafeMutablePointer<V>
    let previousMaximum: UnsafeMutablePointer<V>
    let blockSums: UnsafeMutablePointer<V>
    let blockWeighted: UnsafeMutablePointer<V>
    let sums: UnsafeMutablePointer<Double>
    let weighted: UnsafeMutablePointer<Double>

    init(layout: EmbeddingEngine.Layout<Scalar>, queries: UnsafePointer<Double>, range: Range<Int>, leaveOneOut: Bool) {
        precondition(T == R * C, "T should be R·C = \(R * C), but is \(T)")
        self.layout = layout
        self.queries = queries
        self.range = range
        self.leaveOneOut = leaveOneOut
        let d = layout.d, p = layout.p, W = Self.W
        tiles = (range.count + R - 1) / R
        let padded = tiles * R
        packed = .allocate(capacity: padded * d)
        queryBias = .allocate(capacity: padded)
        queryGuard = .allocate(capacity: padded)
        let rho = EmbeddingEngine.cancellationRatio
        for slot in 0..<padded {
            let i = range.lowerBound + Swift.min(slot, range.count - 1)
            let (g, r) = slot.quotientAndRemainder(dividingBy: R)
            var norm = 0.0
            for j in 0..<d {
                let coordinate = Scalar((queries[i * d + j] - layout.centre[j]) * layout.scale[j])
                packed[(g * d + j) * R + r] = coordinate
                norm += Double(coordinate) * Double(coordinate)
            }
            let gaussian = layout.similarity == .gaussian
            queryBias[slot] = gaussian ? Scalar(-0.5 * norm) : 0
            queryGuard[slot] = gaussian ? Scalar((rho - 1) / 2 * norm) : -Scalar.infinity
        }
        maximum = .allocate(capacity: padded)
        maximum.initialize(repeating: V(repeating: -Scalar.greatestFiniteMagnitude), count: padded)
        previousMaximum = .allocate(capacity: padded)
        blockSums = .allocate(capacity: padded)
        blockSums.initialize(repeating: .zero, count: padded)
        blockWeighted = .allocate(capacity: padded * p)
        blockWeighted.initialize(repeating: .zero, count: padded * p)
        sums = .allocate(capacity: padded * W)
        sums.initialize(repeating: 0, count: padded * W)
        weighted = .allocate(capacity: padded * W * p)
        weighted.initialize(repeating: 0, count: padded * W * p)
    }

    func deallocate() {
        packed.deallocate(); queryBias.deallocate(); queryGuard.deallocate()
        maximum.deallocate(); previousMaximum.deallocate(); blockSums.deallocate(); blockWeighted.deallocate()
        sums.deallocate(); weighted.deallocate()
    }

    /// Streams every key block past every micro-tile of rows, folding into Float64 after each.
    func run() {
        let d = layout.d, padded = tiles * R
        // Key blocks of about 256 KiB of coordinates: resident in L2 while the block's
        // micro-tiles pass over them.
        let panelBytes = d * Self.N * MemoryLayout<Scalar>.stride
        let panelsPerBlock = Swift.max(1, (256 << 10) / panelBytes)
        var b0 = 0
        while b0 < layout.panelCount {
            let b1 = Swift.min(layout.panelCount, b0 + panelsPerBlock)
            previousMaximum.update(from: maximum, count: padded)
            for g in 0..<tiles { tile(g, panels: b0..<b1) }
            fold()
            b0 = b1
        }
    }

    /// acc[r·C + c] = Σⱼ a[j·R + r] · b[j·N + c·W ..< +W]: the R × N products of a packed query
    /// tile and a key panel, d multiply-adds per accumulator.
    @inline(__always)
    static func products(_ a: UnsafePointer<Scalar>, _ b: UnsafePointer<Scalar>, d: Int, into acc: inout InlineArray<T, V>) {
        for t in 0..<T { acc[t] = .zero }
        var a = a, b = UnsafeRawPointer(b)
        let stride = N * MemoryLayout<Scalar>.stride, vectorBytes = W * MemoryLayout<Scalar>.stride
        for _ in 0..<d {
            var x = InlineArray<C, V>(repeating: .zero)
            for c in 0..<C { x[c] = b.loadUnaligned(fromByteOffset: c &* vectorBytes, as: V.self) }
            for r in 0..<R {
                let y = V(repeating: a[r])
                for c in 0..<C { acc[r &* C &+ c] = acc[r &* C &+ c].addingProduct(y, x[c]) }
            }
            a += R
            b += stride
        }
    }

    /// Micro-tile g (R queries) over the panels of one key block: products, log₂ weights, the
    /// online softmax and the value sums.
    func tile(_ g: Int, panels: Range<Int>) {
        let d = layout.d, p = layout.p, N = Self.N, W = Self.W
        let a = UnsafePointer(packed + g * d * R)
        let gaussian = layout.similarity == .gaussian
        var acc = InlineArray<T, V>(repeating: .zero)
        for b in panels {
            Self.products(a, UnsafePointer(layout.keys.baseAddress! + b * d * N), d: d, into: &acc)
            let biasBase = UnsafeRawPointer(layout.bias.baseAddress! + b * N)
            let guardBase = UnsafeRawPointer(layout.guardTerm.baseAddress! + b * N)
            let vectorBytes = W * MemoryLayout<Scalar>.stride
            for r in 0..<R {
                let slot = g * R + r
                var s = InlineArray<C, V>(repeating: .zero)
                let rowBias = V(repeating: queryBias[slot])
                for c in 0..<C {
                    s[c] = acc[r &* C &+ c] + biasBase.loadUnaligned(fromByteOffset: c &* vectorBytes, as: V.self) + rowBias
                }
                if gaussian {
                    // Flag pairs whose norm form cancels: t + (ρ − 1)/2·(‖q′‖² + ‖k′‖²) > 0.
                    var flags = InlineArray<C, V>(repeating: .zero)
                    let rowGuard = V(repeating: queryGuard[slot])
                    for c in 0..<C {
                        flags[c] = acc[r &* C &+ c] + guardBase.loadUnaligned(fromByteOffset: c &* vectorBytes, as: V.self) + rowGuard
                    }
                    if V.anyPositive(flags) { recompute(&s, flags: flags, tile: g, row: r, panel: b) }
                }
                if leaveOneOut {
                    let own = range.lowerBound + Swift.min(slot, range.count - 1) - b * N
                    if own >= 0 && own < N { s[own / W][own % W] = -Scalar.infinity }
                }
                update(slot: slot, logWeights: s, panel: b, p: p)
            }
        }
    }

    /// Replaces the flagged lanes' log₂ weights by −½‖q′ − k′‖² (plus the key's log₂ sₖ),
    /// with q′ − k′ = (q − k)·c/h from the caller's coordinates in Float64: the difference
    /// before the scaling, as the definition takes it, so that nothing of the norms remains.
    @inline(never)
    func recompute(_ s: inout InlineArray<C, V>, flags: InlineArray<C, V>, tile g: Int, row r: Int, panel b: Int) {
        let d = layout.d, N = Self.N, W = Self.W
        let i = range.lowerBound + Swift.min(g * R + r, range.count - 1)
        let q = queries + i * d, scale = layout.scale
        layout.originalKeys.elements.withUnsafeBufferPointer { x in
            for c in 0..<C {
                for lane in 0..<W where flags[c][lane] > 0 {
                    let key = b * N + c * W + lane, row = x.baseAddress! + key * d
                    var squared = 0.0
                    for j in 0..<d {
                        let u = (q[j] - row[j]) * scale[j]
                        squared += u * u
                    }
                    let logWeight = layout.binaryLogWeights?[key] ?? 0
                    s[c][lane] = Scalar(logWeight - 0.5 * squared)
                }
            }
        }
    }

    /// The online softmax for one query and one panel: raise the lanes' maxima where a log₂
    /// weight exceeds them (rescaling the block's sums), then add 2^(s − M) and its values.
    @inline(__always)
    func update(slot: Int, logWeights s: borrowing InlineArray<C, V>, panel b: Int, p: Int) {
        let N = Self.N, W = Self.W
        var top = s[0]
        for c in 1..<C { top = V.maximum(top, s[c]) }
        var M = maximum[slot]
        var rise = InlineArray<1, V>(repeating: top - M)
        if V.anyPositive(rise) {
            let raised = V.maximum(M, top)
            rise[0] = V.exp2NonPositive(M - raised)
            blockSums[slot] *= rise[0]
            for c in 0..<p { blockWeighted[slot * p + c] *= rise[0] }
            M = raised
            maximum[slot] = M
        }
        var w = InlineArray<C, V>(repeating: .zero)
        for c in 0..<C { w[c] = s[c] - M }
        w = V.exp2NonPositive(interleaving: w)
        var total = blockSums[slot]
        for c in 0..<C { total += w[c] }
        blockSums[slot] = total
        let values = UnsafeRawPointer(layout.values.baseAddress! + b * p * N), vectorBytes = W * MemoryLayout<Scalar>.stride
        for column in 0..<p {
            var t = blockWeighted[slot * p + column]
            for c in 0..<C {
                t = t.addingProduct(w[c], values.loadUnaligned(fromByteOffset: (column * N) * MemoryLayout<Scalar>.stride + c * vectorBytes, as: V.self))
            }
            blockWeighted[slot * p + column] = t
        }
    }

    /// Folds the key block's sums (relative to the new maxima) into the Float64 state.
    func fold() {
        let W = Self.W, p = layout.p
        for slot in 0..<tiles * R {
            let newMaximum = maximum[slot], oldMaximum = previousMaximum[slot]
            let s = blockSums[slot]
            for lane in 0..<W {
                let index = slot * W + lane
                let factor = newMaximum[lane] == oldMaximum[lane] || sums[index] == 0 ? 1
                    : Double.exp2(Double(oldMaximum[lane]) - Double(newMaximum[lane]))
                sums[index] = sums[index] * factor + Double(s[lane])
                for c in 0..<p {
                    let w = index * p + c
                    weighted[w] = weighted[w] * factor + Double(blockWeighted[slot * p + c][lane])
                }
            }
            blockSums[slot] = .zero
            for c in 0..<p { blockWeighted[slot * p + c] = .zero }
        }
    }

    /// Reduces the lanes of each query and writes T/S (with `states`, also its shift
    /// a* = M·ln 2 and its sums [S, T₁…T_p]); flags queries whose result is not finite.
    func finish(into output: UnsafeMutablePointer<Double>, redo: UnsafeMutablePointer<Bool>,
                states: (shifts: UnsafeMutablePointer<Double>, sums: UnsafeMutablePointer<Double>)?) {
        let W = Self.W, p = layout.p
        for slot in 0..<range.count {
            let i = range.lowerBound + slot
            let lanes = maximum[slot]
            var top = -Double.infinity
            for lane in 0..<W where sums[slot * W + lane] > 0 { top = Swift.max(top, Double(lanes[lane])) }
            guard top.isFinite else {
                redo[i] = true
                continue
            }
            var s = 0.0
            var factors = InlineArray<16, Double>(repeating: 0)
            for lane in 0..<W {
                let sum = sums[slot * W + lane], exponent = Double(lanes[lane]) - top
                factors[lane] = exponent == 0 ? 1 : sum == 0 || exponent < -1100 ? 0 : Double.exp2(exponent)
                s += sum * factors[lane]
            }
            if let states {
                states.shifts[i] = top * 0.6931471805599453
                states.sums[i * (1 + p)] = s
            }
            for c in 0..<p {
                var t = 0.0
                for lane in 0..<W { t += weighted[(slot * W + lane) * p + c] * factors[lane] }
                states?.sums[i * (1 + p) + 1 + c] = t
                let value = t / s
                output[i * p + c] = value
                if !value.isFinite { redo[i] = true }
            }
        }
    }
}
