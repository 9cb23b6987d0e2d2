import RealModule

// Legend: n training points (each is both a query and a key), d features, w the one scale,
// τ = w² the temperature (h = 1/|w| the common width), gᵢⱼ = xᵢ·xⱼ the products, aᵢⱼ the
// normalised weights, s frequency weights, p = 1 + 2d the pooled value components.
//
// Implementation goals, in order of priority:
// 1. Exact: the loss and the derivative from leave-one-out pooling states (the online softmax,
//    the point's own key masked in the engine) and per-point dot products in Float64; no n × n
//    matrix, no finite differences. Points whose softmax overflowed (τ·gᵢⱼ beyond the `Double`
//    range) get its limit, hard attention on the largest products, which does not move with w
//    (derivative term 0).
// 2. One engine: the sums are attention pooling's states of the values [y, x, y·x] through
//    ``MomentEngine/states(_:queries:threads:)`` (the embedding engine for `dot`); nothing here
//    evaluates a kernel.
// 3. Fast: O(n²·d) on all cores with the engine's register-blocked products; O(n·d) memory.

/// The leave-one-out (or include-self) loss of parametric attention pooling with the `dot`
/// kernel and its derivative in the one scale w.
///
/// For every point i, with aᵢⱼ ∝ sⱼ·e^{τ gᵢⱼ} over j ≠ i (all j with `includeSelf`):
///
///     fᵢ = Σⱼ aᵢⱼ yⱼ,      L = Σᵢ sᵢ·½ (fᵢ − yᵢ)²,
///     dL/dw = 2w Σᵢ sᵢ(fᵢ − yᵢ)·(Ȳᵢ − fᵢ T̄ᵢ),
///     T̄ᵢ = Σⱼ aᵢⱼ gᵢⱼ = xᵢ·(Σⱼ aᵢⱼ xⱼ),      Ȳᵢ = Σⱼ aᵢⱼ yⱼ gᵢⱼ = xᵢ·(Σⱼ aᵢⱼ yⱼ xⱼ),
///
/// since ∂fᵢ/∂τ = Σⱼ aᵢⱼ (yⱼ − fᵢ) gᵢⱼ (the softmax's derivative) and dτ/dw = 2w. The pooled
/// vectors Σⱼ aᵢⱼ xⱼ and Σⱼ aᵢⱼ yⱼ xⱼ are the engine's, so the products gᵢⱼ are never stored.
/// L depends on w only through w², so L(−w) = L(w) and the derivative is odd (0 at w = 0).
enum DotLeaveOneOutLoss {
    struct Result: Sendable {
        /// fᵢ for every point.
        var predictions: [Double]
        /// L = Σᵢ sᵢ·½ (fᵢ − yᵢ)².
        var loss: Double
        /// dL/dw.
        var derivative: Double
    }

    /// The loss, its derivative and the predictions at scale w.
    ///
    /// - Parameters:
    ///   - keys: n × d training inputs, finite, n ≥ 2 (n ≥ 1 with `includeSelf`).
    ///   - targets: the n training targets, finite.
    ///   - w: the scale, finite (h = 1/|w|, capped at the largest `Double` for w = 0).
    ///   - includeSelf: each point also attends to itself (no leave-one-out).
    ///   - sampleWeights: frequency weights sᵢ > 0 (nil: 1).
    ///   - threads: worker threads; the result does not depend on them.
    /// - Returns: fᵢ, L and dL/dw.
    /// - Complexity: O(n²·d) time on all cores, O(n·d) memory.
    static func evaluate(keys: Matrix, targets: [Double], scale w: Double, includeSelf: Bool,
                         sampleWeights: [Double]? = nil, threads: Int) -> Result {
        let n = keys.rows, d = keys.columns, p = 1 + 2 * d
        let h = Swift.min(1 / w.magnitude, .greatestFiniteMagnitude)
        // The pooled values: [y, x₁…x_d, y·x₁…y·x_d] per key.
        var values = Matrix(rows: n, columns: p)
        for k in 0..<n {
            values[k, 0] = targets[k]
            for j in 0..<d {
                values[k, 1 + j] = keys[k, j]
                values[k, 1 + d + j] = targets[k] * keys[k, j]
            }
        }
        let problem = AttentionProblem(kernel: .dot, form: .radial, keys: keys, bandwidths: Array(repeating: h, count: d),
                                       values: .dense(values))
        let moments = MomentProblem(attention: problem, logWeights: sampleWeights?.map { Double.log($0) },
                                    moments: .pooling(dimension: d, width: p), leaveOneOut: !includeSelf)
        let states = MomentEngine.states(moments, queries: keys, threads: threads)
        let M = states.count
        var predictions = [Double](repeating: 0, count: n)
        var loss = 0.0, sum = 0.0
        states.sums.withUnsafeBufferPointer { all in
            keys.elements.withUnsafeBufferPointer { xs in
                for i in 0..<n {
                    // sums[0] = S, sums[1] = T_y, then T_x (d) and T_yx (d), relative to the shift.
                    let sums = all.baseAddress! + i * M, x = xs.baseAddress! + i * d, weight = sampleWeights?[i] ?? 1
                    let f: Double
                    if states.shifts[i].isFinite, sums[0] > 0, sums[0].isFinite {
                        f = sums[1] / sums[0]
                        var products = 0.0, weighted = 0.0
                        for j in 0..<d {
                            products += x[j] * sums[2 + j]
                            weighted += x[j] * sums[2 + d + j]
                        }
                        sum += weight * (f - targets[i]) * (weighted - f * products) / sums[0]
                    } else {
                        // The weights themselves left the range (not the values: a non-finite
                        // T_y is a non-finite loss, for the caller to report).
                        f = hardLimit(keys: keys, targets: targets, point: i, includeSelf: includeSelf,
                                      sampleWeights: sampleWeights)
                    }
                    predictions[i] = f
                    loss += 0.5 * weight * (f - targets[i]) * (f - targets[i])
                }
            }
        }
        return Result(predictions: predictions, loss: loss, derivative: w == 0 ? 0 : 2 * w * sum)
    }

    /// fᵢ in the limit τ → ∞ (where τ·gᵢⱼ leaves the `Double` range): the keys with the largest
    /// product gᵢⱼ = xᵢ·xⱼ (other than i, unless `includeSelf`), weighted by s.
    ///
    /// - Parameters:
    ///   - point: i, the point whose prediction this is (its own key left out unless `includeSelf`).
    ///   - sampleWeights: frequency weights sⱼ > 0 (nil: 1); ties share the weight by them.
    /// - Returns: the weighted mean of those keys' targets.
    /// - Complexity: O(n·d).
    static func hardLimit(keys: Matrix, targets: [Double], point i: Int, includeSelf: Bool,
                          sampleWeights: [Double]?) -> Double {
        let n = keys.rows, d = keys.columns
        var best = -Double.infinity, f = 0.0, total = 0.0
        for k in 0..<n where includeSelf || k != i {
            var g = 0.0
            for j in 0..<d { g += keys[i, j] * keys[k, j] }
            let s = sampleWeights?[k] ?? 1
            if g > best || total == 0 {
                (best, f, total) = (g, s * targets[k], s)
            } else if g == best {
                f += s * targets[k]
                total += s
            }
        }
        return f / total
    }
}
