import RealModule

// Legend: n keys, m queries, d features, p value components, h widths (one per feature).

/// The values that attention pooling averages: a dense n × p matrix (regression, p targets at
/// once) or one class index per key (classification: one-hot values, stored sparsely).
enum PooledValues: Sendable {
    case dense(Matrix)
    case classes(indices: [Int], count: Int)

    /// p: the length of each pooled vector.
    var width: Int {
        switch self {
        case let .dense(matrix): matrix.columns
        case let .classes(_, count): count
        }
    }

    /// Adds `weight · v_k` to `accumulator` (length p).
    @inline(__always)
    func accumulate(key k: Int, weight: Double, into accumulator: UnsafeMutablePointer<Double>) {
        switch self {
        case let .dense(matrix):
            let p = matrix.columns
            matrix.elements.withUnsafeBufferPointer { v in
                for c in 0..<p { accumulator[c] += weight * v[k * p + c] }
            }
        case let .classes(indices, _):
            accumulator[indices[k]] += weight
        }
    }

    /// Writes v_k (one-hot for classes) into `output` (length p).
    func write(key k: Int, into output: UnsafeMutableBufferPointer<Double>) {
        switch self {
        case let .dense(matrix):
            for c in 0..<matrix.columns { output[c] = matrix[k, c] }
        case let .classes(indices, count):
            for c in 0..<count { output[c] = 0 }
            output[indices[k]] = 1
        }
    }

    /// The mean of all values (class frequencies for classes).
    func mean() -> [Double] {
        switch self {
        case let .dense(matrix):
            return (0..<matrix.columns).map { Statistics.mean(matrix.column($0)) }
        case let .classes(indices, count):
            var counts = Array(repeating: 0.0, count: count)
            for i in indices { counts[i] += 1 }
            return counts.map { $0 / Double(indices.count) }
        }
    }
}

/// Everything an engine needs to pool values for queries, validated by the estimator.
struct AttentionProblem: Sendable {
    let kernel: Kernel
    let form: KernelForm
    /// n × d keys, in the caller's units.
    let keys: Matrix
    /// One width per feature, each positive and finite.
    let bandwidths: [Double]
    let values: PooledValues
    /// Per-key width factors λᵢ (adaptive widths hᵢ = λᵢ·h), or nil for fixed widths.
    var keyScales: KeyScales? = nil

    var keyCount: Int { keys.rows }
    var featureCount: Int { keys.columns }

    /// The log attention weight log α(q, k) of query `q` (d elements) and key `k`, computed
    /// plainly from uⱼ = (qⱼ − kⱼ)/hⱼ: the definition every engine is tested against.
    /// −∞ outside a compact kernel's support, and only where the true log weight is below
    /// −1.8·10³⁰⁸: where the plain squares overflow, the kernels whose log weight grows slower
    /// than u² (cauchy: −ln(1 + u²), laplacian and logistic: −|u|) are recomputed from wide
    /// magnitudes (``wideLogAttention(query:key:)``).
    func logAttention(query q: UnsafePointer<Double>, key k: Int) -> Double {
        let plain = plainLogAttention(query: q, key: k)
        guard plain == -.infinity, kernel == .cauchy || kernel == .laplacian || kernel == .logistic else { return plain }
        return wideLogAttention(query: q, key: k)
    }

    /// log α(q, k) from wide magnitudes: finite wherever the true value is a `Double`.
    ///
    /// - Complexity: O(d), a few times the plain cost; used only where that overflowed.
    func wideLogAttention(query q: UnsafePointer<Double>, key k: Int) -> Double {
        let inverse = keyScales?.inverse[k] ?? 1, logFactor = keyScales?.logFactor[k] ?? 0
        let offsets = keys.elements.withUnsafeBufferPointer { x in
            scaledOffsets(q, x.baseAddress! + k * featureCount).map { $0.times(inverse) }
        }
        switch form {
        case .radial:
            return kernel.logProfile(squaredDistance: WideMagnitude.sum(offsets, power: 2)) - logFactor
        case .product:
            return offsets.reduce(-logFactor) { $0 + kernel.logProfile(squaredDistance: WideMagnitude.sum([$1], power: 2)) }
        }
    }

    func plainLogAttention(query q: UnsafePointer<Double>, key k: Int) -> Double {
        let d = featureCount
        if kernel == .dot { return dotLogAttention(query: q, key: k) - (keyScales?.logFactor[k] ?? 0) }
        if let scales = keyScales { return scaledLogAttention(query: q, key: k, scales) }
        return keys.elements.withUnsafeBufferPointer { x in
            let row = k * d
            switch form {
            case .radial:
                return kernel.radialLogProfile(squaredDistance: squaredScaledDistance(q, x.baseAddress! + row))
            case .product:
                var sum = 0.0
                for j in 0..<d {
                    sum += kernel.logProfile((q[j] - x[row + j]) / bandwidths[j])
                    if sum == -.infinity { break }
                }
                return sum
            }
        }
    }

    /// The `dot` kernel's log weight Σⱼ qⱼkⱼ / hⱼ² (per-key widths λₖ·h divide it by λₖ²),
    /// summed in feature order: the definition its engine is tested against.
    func dotLogAttention(query q: UnsafePointer<Double>, key k: Int) -> Double {
        let d = featureCount, inverse = keyScales?.inverse[k] ?? 1
        return keys.elements.withUnsafeBufferPointer { x in
            var sum = 0.0
            for j in 0..<d { sum += q[j] * x[k * d + j] / (bandwidths[j] * bandwidths[j]) }
            return sum * inverse * inverse
        }
    }

    /// log α with key k's widths λₖ·h: log K(u/λₖ) − d·log λₖ (the 1/hₖᵈ factor of a per-key
    /// width does not cancel in the ratio, so it is kept).
    func scaledLogAttention(query q: UnsafePointer<Double>, key k: Int, _ scales: KeyScales) -> Double {
        if kernel == .dot { return dotLogAttention(query: q, key: k) - scales.logFactor[k] }
        let d = featureCount, inverse = scales.inverse[k]
        return keys.elements.withUnsafeBufferPointer { x in
            let row = k * d
            switch form {
            case .radial:
                let s = squaredScaledDistance(q, x.baseAddress! + row) * inverse * inverse
                return kernel.radialLogProfile(squaredDistance: s) - scales.logFactor[k]
            case .product:
                var sum = -scales.logFactor[k]
                for j in 0..<d {
                    sum += kernel.logProfile((q[j] - x[row + j]) / bandwidths[j] * inverse)
                    if sum == -.infinity { break }
                }
                return sum
            }
        }
    }

    /// The attention weight α(q, k) in linear space (no rescaling): exact for compact kernels,
    /// whose weights lie in [0, 1]; may underflow for kernels with infinite support.
    func attention(query q: UnsafePointer<Double>, key k: Int) -> Double {
        let d = featureCount
        if kernel == .dot { return Double.exp(plainLogAttention(query: q, key: k)) }
        if let scales = keyScales { return Double.exp(scaledLogAttention(query: q, key: k, scales)) }
        return keys.elements.withUnsafeBufferPointer { x in
            let row = k * d
            switch form {
            case .radial:
                return kernel.radialProfile(squaredDistance: squaredScaledDistance(q, x.baseAddress! + row))
            case .product:
                var product = 1.0
                for j in 0..<d {
                    product *= kernel.profile((q[j] - x[row + j]) / bandwidths[j])
                    if product == 0 { break }
                }
                return product
            }
        }
    }

    /// ‖(q − k)/h‖², uⱼ by division exactly as every engine computes it.
    @inline(__always)
    func squaredScaledDistance(_ q: UnsafePointer<Double>, _ key: UnsafePointer<Double>) -> Double {
        var squared = 0.0
        for j in 0..<featureCount {
            let u = (q[j] - key[j]) / bandwidths[j]
            squared += u * u
        }
        return squared
    }
}

extension Kernel {
    /// log K(r) as a function of the squared radius s = r², the form the radial engines use:
    /// no square root where the profile does not need one. −∞ outside a compact support (s ≥ 1).
    @inlinable
    public func radialLogProfile(squaredDistance s: Double) -> Double {
        switch self {
        case .gaussian, .dot: return -0.5 * s
        case .constant: return 0
        case .cauchy: return -Double.log(onePlus: s)
        case .logistic, .laplacian: return logProfile(s.squareRoot())
        default:
            guard s < 1 else { return -.infinity }
            return Double.log(radialProfile(squaredDistance: s))
        }
    }

    /// K(r) as a function of the squared radius s = r²; 0 outside a compact support (s ≥ 1).
    @inlinable
    public func radialProfile(squaredDistance s: Double) -> Double {
        switch self {
        case .gaussian, .dot: return Double.exp(-0.5 * s)
        case .constant: return 1
        case .cauchy: return 1 / (1 + s)
        case .logistic, .laplacian: return profile(s.squareRoot())
        default:
            guard s < 1 else { return 0 }
            switch self {
            case .boxcar: return 1
            case .epanechnikov: return 1 - s
            case .biweight: return (1 - s) * (1 - s)
            case .triweight: return (1 - s) * (1 - s) * (1 - s)
            default: return compactProfile(s.squareRoot())
            }
        }
    }
}

extension Kernel {
    /// log K(r) for a wide squared radius s = r²: the plain ``radialLogProfile(squaredDistance:)``
    /// where s is a comfortable `Double`, else the asymptotic forms, exact to rounding there:
    /// −s/2 (gaussian, −∞ past the range), −ln s (cauchy), −r (laplacian and logistic: the
    /// logistic's −2 ln(1 + e⁻ʳ) is below 2⁻¹⁰⁰⁰), −∞ for compact kernels (s ≥ 1).
    func logProfile(squaredDistance s: WideMagnitude) -> Double {
        if s.exponent < 1000 || s.significand == 0 { return radialLogProfile(squaredDistance: s.doubleValue) }
        switch self {
        case .gaussian: return -0.5 * s.doubleValue
        case .constant: return 0
        case .cauchy: return -AttentionProblem.logOnePlus(s)
        case .laplacian, .logistic: return -s.squareRoot.doubleValue
        default: return -.infinity
        }
    }
}

/// Per-key width factors λᵢ and what the engines need of them.
struct KeyScales: Sendable {
    /// λᵢ.
    let scale: [Double]
    /// 1/λᵢ.
    let inverse: [Double]
    /// d·ln λᵢ, the log of the per-key factor λᵢᵈ that divides the kernel.
    let logFactor: [Double]

    init(_ scale: [Double], dimension d: Int) {
        self.scale = scale
        inverse = scale.map { 1 / $0 }
        logFactor = scale.map { Double(d) * Double.log($0) }
    }
}

/// The result of an engine before the empty-neighbourhood policy: pooled vectors (m × p,
/// undefined for empty queries) and which queries had zero total weight.
struct PooledResult {
    var values: [Double]
    var isEmpty: [Bool]

    /// Every query flagged, for an engine that can vouch for none (the redo computes them all).
    static func redoAll(queries m: Int, width p: Int) -> PooledResult {
        PooledResult(values: Array(repeating: 0, count: m * p), isEmpty: Array(repeating: true, count: m))
    }
}
