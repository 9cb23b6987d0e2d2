import RealModule

// Legend: n training points (each is both a query and a key), d features, w scales (one per
// feature, w = 1/h), W = 8 SIMD lanes.
//
// Implementation goals, in order of priority:
// 1. Exact: the Gaussian leave-one-out softmax f₋ᵢ = Σ_{j≠i} softmax_j(−½ Σₖ (Δᵢⱼₖ wₖ)²) yⱼ in
//    base 2 with a running minimum per lane; the excluded self-pair and padding lanes are masked
//    before they can move the minimum; the gradient from the same sums, no finite differences.
// 2. Memory O(n·d): one pass over the keys per point, no n × n matrix.
// 3. Fast: keys pre-scaled so the log weight needs no multiply per pair, SIMD over keys with the
//    polynomial exp2, all cores over points; identical results whatever the thread count.

/// Leave-one-out (or include-self) Gaussian attention pooling of a training set over itself,
/// with the squared loss and its gradient with respect to the per-feature scales w.
///
/// For every point i, with Δᵢⱼₖ = xᵢₖ − xⱼₖ, ℓᵢⱼ = −½ Σₖ (Δᵢⱼₖ wₖ)² and αᵢⱼ the softmax of ℓᵢⱼ over
/// j ≠ i (over all j with `includeSelf`):
///
///     fᵢ = Σⱼ αᵢⱼ yⱼ,      L = Σᵢ ½ (fᵢ − yᵢ)²,
///     ∂L/∂wₖ = −wₖ Σᵢ (fᵢ − yᵢ) Σⱼ αᵢⱼ (yⱼ − fᵢ) Δᵢⱼₖ².
///
/// L depends on w only through w², so L(−w) = L(w) and the gradient is odd in each wₖ.
enum LeaveOneOutEngine {
    struct Result: Sendable {
        /// fᵢ for every point.
        var predictions: [Double]
        /// L = Σᵢ ½ (fᵢ − yᵢ)².
        var loss: Double
        /// ∂L/∂wₖ, one per feature (empty unless asked for).
        var gradient: [Double]
    }

    /// - Parameter sampleWeights: frequency weights sᵢ > 0 (nil: 1): key j's weight is sⱼαᵢⱼ and
    ///   point i's loss term sᵢ·½(fᵢ − yᵢ)².
    static func evaluate(keys: Matrix, targets: [Double], scales w: [Double], includeSelf: Bool, gradient wantGradient: Bool,
                         sampleWeights: [Double]? = nil, threads: Int) -> Result {
        typealias V = SIMD8<Double>
        let n = keys.rows, d = keys.columns, W = V.scalarCount
        let stride = (n + W - 1) / W * W
        // Coordinates (x − c)·|w|·√(log₂e / 2): then Σₖ Δ′² is the negative base-2 log weight.
        let root = (1.4426950408889634 / 2).squareRoot()
        let scale = w.map { $0.magnitude * root }
        // Centred on the median, so the bulk of the points keeps full precision (see GaussianEngine.Layout).
        let center = (0..<d).map { j -> Double in (0..<n).map { keys[$0, j] }.sorted()[n / 2] }
        var x = [Double](repeating: 0, count: d * stride)
        var y = [Double](repeating: 0, count: stride)
        var keyWeights = [Double](repeating: 0, count: stride)
        for i in 0..<n {
            for j in 0..<d { x[j * stride + i] = (keys[i, j] - center[j]) * scale[j] }
            y[i] = targets[i]
            keyWeights[i] = sampleWeights?[i] ?? 1
        }
        let weighted = sampleWeights != nil
        var predictions = [Double](repeating: 0, count: n)
        // Per point: Σ (fᵢ − yᵢ)·(Vᵢₖ − fᵢUᵢₖ)/Sᵢ in scaled units, summed per block then in block order.
        let blockSize = 32
        let blocks = (n + blockSize - 1) / blockSize
        var blockGradient = [Double](repeating: 0, count: blocks * d)
        keyWeights.withUnsafeBufferPointer { ks in
            x.withUnsafeBufferPointer { xs in
                y.withUnsafeBufferPointer { ys in
                    predictions.withUnsafeMutableBufferPointer { ps in
                        blockGradient.withUnsafeMutableBufferPointer { gs in
                            let X = SharedOutput(base: UnsafeMutablePointer(mutating: xs.baseAddress!))
                            let Y = SharedOutput(base: UnsafeMutablePointer(mutating: ys.baseAddress!))
                            let P = SharedOutput(base: ps.baseAddress!), G = SharedOutput(base: gs.baseAddress!)
                            let K = SharedOutput(base: UnsafeMutablePointer(mutating: ks.baseAddress!))
                            Parallel.forEachBlock(count: n, blockSize: blockSize, threads: threads) { range in
                                let diff2 = UnsafeMutablePointer<V>.allocate(capacity: d)
                                let u = UnsafeMutablePointer<V>.allocate(capacity: d), v = UnsafeMutablePointer<V>.allocate(capacity: d)
                                let q = UnsafeMutablePointer<Double>.allocate(capacity: d)
                                defer { diff2.deallocate(); u.deallocate(); v.deallocate(); q.deallocate() }
                                let x = UnsafePointer(X.base), y = UnsafePointer(Y.base)
                                let lanes = SIMD8<Int64>(0, 1, 2, 3, 4, 5, 6, 7)
                                for i in range {
                                    for j in 0..<d { q[j] = x[j * stride + i] }
                                    var m = V(repeating: .greatestFiniteMagnitude), s = V.zero, t = V.zero
                                    if wantGradient {
                                        u.update(repeating: .zero, count: d)
                                        v.update(repeating: .zero, count: d)
                                    }
                                    var k = 0
                                    while k < stride {
                                        var a = V.zero
                                        for j in 0..<d {
                                            let diff = UnsafeRawPointer(x + (j &* stride &+ k)).loadUnaligned(as: V.self) - V(repeating: q[j])
                                            let squared = diff * diff
                                            if wantGradient { diff2[j] = squared }
                                            a += squared
                                        }
                                        // Mask the point itself (unless included) and padding keys.
                                        let edge = k &+ W > n || (!includeSelf && k <= i && i < k &+ W)
                                        var excluded = SIMDMask<SIMD8<Int64>>(repeating: false)
                                        if edge {
                                            let index = lanes &+ SIMD8<Int64>(repeating: Int64(k))
                                            excluded = index .>= SIMD8(repeating: Int64(n))
                                            if !includeSelf { excluded .|= index .== SIMD8(repeating: Int64(i)) }
                                            a.replace(with: .infinity, where: excluded)
                                        }
                                        if anyLane(a .< m) {
                                            let newMinimum = a.replacing(with: m, where: m .< a)
                                            let factor = V.exp2NonPositive(newMinimum - m)
                                            s *= factor
                                            t *= factor
                                            if wantGradient {
                                                for j in 0..<d { u[j] *= factor; v[j] *= factor }
                                            }
                                            m = newMinimum
                                        }
                                        var e = V.exp2NonPositive(m - a)
                                        if weighted { e *= UnsafeRawPointer(K.base + k).loadUnaligned(as: V.self) }
                                        if edge { e.replace(with: 0, where: excluded) }
                                        let yk = UnsafeRawPointer(y + k).loadUnaligned(as: V.self)
                                        s += e
                                        let ey = e * yk
                                        t += ey
                                        if wantGradient {
                                            for j in 0..<d {
                                                u[j] = u[j].addingProduct(e, diff2[j])
                                                v[j] = v[j].addingProduct(ey, diff2[j])
                                            }
                                        }
                                        k &+= W
                                    }
                                    // Reduce the lanes to the smallest minimum.
                                    var smallest = Double.infinity
                                    for lane in 0..<W { smallest = min(smallest, m[lane]) }
                                    var factors = V.zero
                                    for lane in 0..<W { factors[lane] = m[lane] < .greatestFiniteMagnitude ? Double.exp2(smallest - m[lane]) : 0 }
                                    let total = (s * factors).sum()
                                    let f = (t * factors).sum() / total
                                    P.base[i] = f
                                    // A non-finite f (every other key's weight overflowed) or gradient
                                    // term (0 · ∞ from a key whose Δ′² overflowed) marks the point for
                                    // `exactPoint` below, gradient term included.
                                    if wantGradient && f.isFinite {
                                        let residual = (f - y[i]) * UnsafePointer(K.base)[i]
                                        let term = { (j: Int) in residual * (((v[j] * factors).sum() - f * (u[j] * factors).sum()) / total) }
                                        if (0..<d).allSatisfy({ term($0).isFinite }) {
                                            let block = i / blockSize
                                            for j in 0..<d { G.base[block * d + j] += term(j) }
                                        } else {
                                            P.base[i] = .nan
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        // Points the SIMD pass could not vouch for, in index order (deterministic).
        var redoneGradient = [Double](repeating: 0, count: d)
        for i in 0..<n where !predictions[i].isFinite {
            let point = exactPoint(i, keys: keys, targets: targets, scales: w, includeSelf: includeSelf, sampleWeights: sampleWeights)
            predictions[i] = point.prediction
            for j in 0..<d { redoneGradient[j] += point.gradientTerms[j] }
        }
        var loss = 0.0
        for i in 0..<n { loss += 0.5 * (sampleWeights?[i] ?? 1) * (predictions[i] - targets[i]) * (predictions[i] - targets[i]) }
        var gradient: [Double] = []
        if wantGradient {
            gradient = (0..<d).map { j in
                guard w[j] != 0 else { return 0 }
                var sum = 0.0
                for b in 0..<blocks { sum += blockGradient[b * d + j] }
                sum += redoneGradient[j]
                // Δ² = Δ′² / (w² log₂e / 2), so −w Σ … Δ² = −2 / (w log₂e) Σ … Δ′².
                return -2 / (w[j] * 1.4426950408889634) * sum
            }
        }
        return Result(predictions: predictions, loss: loss, gradient: gradient)
    }

    /// One point's leave-one-out prediction and gradient terms, plainly in the caller's units and
    /// natural logs, for the points whose SIMD sums overflowed (keys ~10¹⁵⁴ scaled units apart or
    /// more): ℓⱼ = −½ Σₖ (Δⱼₖwₖ)² with Δ computed without overflow, the softmax with the maximum
    /// subtracted, and where every ℓⱼ is −∞ the exact far limit — the nearest other key(s), whose
    /// one-hot weights do not move with w (gradient terms 0).
    ///
    /// - Returns: fᵢ and, per feature, (fᵢ − yᵢ)·Σⱼ αᵢⱼ(yⱼ − fᵢ)Δ′ᵢⱼₖ² in the SIMD pass's scaled
    ///   units (Δ′² = Δ²w² log₂e / 2).
    /// - Complexity: O(n·d).
    static func exactPoint(_ i: Int, keys: Matrix, targets: [Double], scales w: [Double], includeSelf: Bool,
                           sampleWeights: [Double]? = nil) -> (prediction: Double, gradientTerms: [Double]) {
        let n = keys.rows, d = keys.columns
        let halfLog2e = 1.4426950408889634 / 2
        var maximum = -Double.infinity, total = 0.0, weighted = 0.0
        var u = [Double](repeating: 0, count: d), v = [Double](repeating: 0, count: d)
        var scaledSquares = [Double](repeating: 0, count: d)
        for k in 0..<n where includeSelf || k != i {
            var logWeight = sampleWeights.map { Double.log($0[k]) } ?? 0
            for j in 0..<d {
                var difference = keys[i, j] - keys[k, j], doubled = 1.0
                if !difference.isFinite { (difference, doubled) = (keys[i, j] / 2 - keys[k, j] / 2, 2) }
                let t = difference * w[j] * doubled
                scaledSquares[j] = t * t
                logWeight -= 0.5 * t * t
            }
            guard logWeight > -.infinity else { continue }
            if logWeight > maximum {
                let factor = Double.exp(maximum - logWeight)
                total *= factor
                weighted *= factor
                for j in 0..<d { u[j] *= factor; v[j] *= factor }
                maximum = logWeight
            }
            let e = Double.exp(logWeight - maximum)
            total += e
            weighted += e * targets[k]
            for j in 0..<d {
                u[j] += e * scaledSquares[j] * halfLog2e
                v[j] += e * targets[k] * scaledSquares[j] * halfLog2e
            }
        }
        if total > 0 {
            let f = weighted / total, residual = (f - targets[i]) * (sampleWeights?[i] ?? 1)
            return (f, (0..<d).map { residual * (v[$0] - f * u[$0]) / total })
        }
        let problem = AttentionProblem(kernel: .gaussian, form: .radial, keys: keys, bandwidths: w.map { Swift.min(1 / $0.magnitude, .greatestFiniteMagnitude) },
                                       values: .dense(Matrix(column: targets)))
        let weights = keys.elements.withUnsafeBufferPointer { x in
            problem.farLimitWeights(query: x.baseAddress! + i * d, excluding: includeSelf ? -1 : i)
        }
        var f = 0.0, total2 = 0.0
        for k in 0..<n where weights[k] > 0 {
            let s = weights[k] * (sampleWeights?[k] ?? 1)
            f += s * targets[k]
            total2 += s
        }
        return (f / total2, [Double](repeating: 0, count: d))
    }
}
