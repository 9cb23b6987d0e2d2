import RealModule
import Synchronization

// Legend: n keys (the kept rows), m queries, B resamples, l(q) the smoother's weights at q,
// ε̂ the in-sample residuals, ε̃ the variance-corrected ones, v the multipliers, G = ⌈n/8⌉ groups
// of 8 rows (one byte of multiplier bits each).
//
// Implementation goals, in order of priority:
// 1. Exact and reproducible: every resample is f̂*(q) = Σᵢ lᵢ(q)·(f̂(xᵢ) + ε̃ᵢvᵢ) of the same
//    linear smoother, its multipliers drawn from the seed alone (one SplitMix64 stream per
//    resample), each query summed by one thread in a fixed order: the same bytes on any thread
//    count.
// 2. Fast: the weights do not change between resamples, so each query computes l(q) once and
//    the B resamples share it. A two-point multiplier is v = low + (high − low)·bit, so
//    Σᵢ aᵢvᵢ = low·Σᵢ aᵢ + (high − low)·Σ_{bit set} aᵢ with aᵢ = lᵢ(q)ε̃ᵢ; the masked sums come from
//    tables of all 256 subset sums of each 8 rows ("four Russians"): n/8 lookups per resample
//    instead of n multiply-adds, tables of 8 groups (16 KiB) resident in L1. The rows are taken
//    in the order of their first feature (bits permuted alike), so a narrow kernel's nonzero
//    weights form one run of groups and the groups whose weights are all exactly 0 (they add
//    exact zeros) are skipped.
// 3. Memory O(B·n/8 + threads·(n + B)): one bit per resample and row, one query's draws per
//    thread, no m × n or m × B matrix.

/// The multipliers vᵢ of the wild bootstrap: two-point variables with mean 0 and variance 1.
public enum BootstrapMultipliers: String, Sendable, CaseIterable {
    /// vᵢ = ±1 with probability ½ each.
    case rademacher
    /// Mammen's: (1 − √5)/2 with probability (√5 + 1)/(2√5), else (1 + √5)/2 (third moment 1).
    case mammen

    /// The two values and the probability of the higher.
    var twoPoint: (low: Double, high: Double, probabilityHigh: Double) {
        switch self {
        case .rademacher: return (-1, 1, 0.5)
        case .mammen:
            let root5 = 5.0.squareRoot()
            return ((1 - root5) / 2, (1 + root5) / 2, (root5 - 1) / (2 * root5))
        }
    }
}

/// Which band a bootstrap gives.
public enum BandKind: String, Sendable, CaseIterable {
    /// Each query's own percentile interval.
    case pointwise
    /// A band covering the whole curve with the level's probability (sup-t).
    case simultaneous
}

/// The wild bootstrap of a linear smoother (Härdle & Mammen, 1993), refitted with the same widths:
///
///     y*ᵢ = f̂(xᵢ) + ε̃ᵢ·vᵢ,   ε̃ᵢ = (yᵢ − f̂(xᵢ)) / √(1 − 2lᵢ(xᵢ)/sᵢ + ‖l(xᵢ)‖²),
///
/// with one multiplier vᵢ per row (a row of weight sᵢ is one draw; ε̃ uses the frequency-weight
/// variance of one copy, σ²(1 − 2lᵢ(xᵢ)/sᵢ + ‖l(xᵢ)‖²), the plain formula when sᵢ = 1; rows whose
/// variance is 0 to rounding, which the fit interpolates, get ε̃ᵢ = 0).
public struct WildBootstrap: Sendable {
    /// B ≥ 2.
    public var resamples: Int
    public var multipliers: BootstrapMultipliers
    /// The same seed gives the same draws on every machine and thread count.
    public var seed: UInt64

    public init(resamples: Int, multipliers: BootstrapMultipliers = .rademacher, seed: UInt64 = 0) {
        self.resamples = resamples
        self.multipliers = multipliers
        self.seed = seed
    }

    /// The multiplier bits: resample b's bit for row i is bit i % 8 of byte b·G + i/8 (rows past
    /// n are 0). One SplitMix64 stream per resample, seeded in order from one stream of `seed`.
    ///
    /// - Complexity: O(B·n) (Rademacher: O(B·n/64) draws).
    func bits(rows n: Int) -> [UInt8] {
        let groups = (n + 7) / 8
        var bytes = [UInt8](repeating: 0, count: resamples * groups)
        var seeds = SplitMix64(seed: seed)
        let p = multipliers.twoPoint.probabilityHigh
        for b in 0..<resamples {
            var rng = SplitMix64(seed: seeds.next())
            let base = b * groups
            switch multipliers {
            case .rademacher:
                var g = 0
                while g < groups {
                    var word = rng.next()
                    for _ in 0..<Swift.min(8, groups - g) {
                        bytes[base + g] = UInt8(truncatingIfNeeded: word)
                        word >>= 8
                        g += 1
                    }
                }
            case .mammen:
                for i in 0..<n where rng.nextUniform() < p { bytes[base + i / 8] |= UInt8(1) << (i % 8) }
            }
            if n % 8 != 0 { bytes[base + groups - 1] &= UInt8((1 << (n % 8)) - 1) }
        }
        return bytes
    }
}

/// A bootstrap band: per query, the interval and the resamples' standard deviation.
public struct BootstrapBand: Sendable, Equatable {
    public let lower: [Double]
    public let upper: [Double]
    /// The standard deviation of f̂*(q) over the resamples (divisor B − 1).
    public let standardErrors: [Double]
    /// The sup-t band's c (f̂ ∓ c·se), nil for a pointwise band.
    public let criticalValue: Double?
}

extension FittedLocalPolynomialRegressor {
    /// Queries whose asymptotic se is at most this fraction of σ̂ count as zero to rounding: they
    /// keep their pointwise interval and stay out of the sup-t maximum.
    static let zeroStandardErrorFraction = 1e-12

    /// The wild-bootstrap band at `level` (0 < level < 1): pointwise, the (1 − level)/2 and
    /// (1 + level)/2 quantiles of f̂*(q) (type 7); simultaneous, f̂ ∓ c·se(q) with se the
    /// asymptotic standard error and c the level quantile over the resamples of
    /// maxₖ |f̂*(qₖ) − f̂(qₖ)| / se(qₖ). Queries the fit leaves NaN get NaN.
    ///
    /// - Parameters:
    ///   - queries: m × d.
    ///   - level: the coverage, such as 0.95.
    ///   - bootstrap: B, the multipliers and the seed.
    ///   - band: pointwise or simultaneous.
    ///   - noise: from ``noise()`` (computed when nil): the fit and its leverages.
    /// - Returns: lower, upper and the bootstrap sd per query, and c for a simultaneous band.
    /// - Throws: ``NadarayaWatsonError/invalidArgument(_:)`` for a level outside (0, 1) or B < 2;
    ///   as ``noise()``.
    /// - Complexity: O(m·n·(d + p) + m·B·(n/8 + log B) + B·n) time on all cores,
    ///   O(B·n/8 + m) memory.
    public func bootstrapBand(_ queries: Matrix, level: Double, bootstrap: WildBootstrap, band: BandKind = .pointwise,
                              noise: SmootherNoise? = nil) throws -> BootstrapBand {
        try requireContinuous("bootstrap bands")
        guard level > 0, level < 1 else {
            throw NadarayaWatsonError.invalidArgument("the level should be between 0 and 1 (such as 0.95), but is \(level)")
        }
        let B = bootstrap.resamples
        guard B >= 2 else { throw NadarayaWatsonError.invalidArgument("the number of resamples should be at least 2, but is \(B)") }
        let noise = try noise ?? self.noise()
        let estimates = try predict(queries)
        let se = band == .simultaneous ? try standardErrors(queries, noise: noise) : []
        let m = queries.rows
        var lower = [Double](repeating: .nan, count: m), upper = lower, sd = lower
        let (low, high) = ((1 - level) / 2, (1 + level) / 2)
        let trusted = (0..<m).map { se.isEmpty || se[$0] > Self.zeroStandardErrorFraction * noise.sigma }
        // maxₖ over the queries, merged under a lock: max is exact, so the order does not matter.
        let maxima = Mutex([Double](repeating: 0, count: B))
        try lower.withUnsafeMutableBufferPointer { lowerBuffer in
            try upper.withUnsafeMutableBufferPointer { upperBuffer in
                try sd.withUnsafeMutableBufferPointer { sdBuffer in
                    let (lo, hi, dev) = (SharedOutput(base: lowerBuffer.baseAddress!), SharedOutput(base: upperBuffer.baseAddress!),
                                         SharedOutput(base: sdBuffer.baseAddress!))
                    try forEachResampledQuery(queries, bootstrap: bootstrap, noise: noise) { i, draws in
                        let values = UnsafeBufferPointer(start: draws, count: B)
                        let mean = values.reduce(0, +) / Double(B)
                        dev.base[i] = (values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(B - 1)).squareRoot()
                        let sorted = values.sorted()
                        lo.base[i] = Statistics.quantile(sorted: sorted, low)
                        hi.base[i] = Statistics.quantile(sorted: sorted, high)
                        if band == .simultaneous && trusted[i] {
                            let t = values.map { ($0 - estimates[i]).magnitude / se[i] }
                            maxima.withLock { for b in 0..<B { $0[b] = Swift.max($0[b], t[b]) } }
                        }
                    }
                }
            }
        }
        guard band == .simultaneous else {
            return BootstrapBand(lower: lower, upper: upper, standardErrors: sd, criticalValue: nil)
        }
        let c = Statistics.quantile(sorted: maxima.withLock { $0 }.sorted(), level)
        for i in 0..<m where !estimates[i].isNaN && trusted[i] {
            lower[i] = estimates[i] - c * se[i]
            upper[i] = estimates[i] + c * se[i]
        }
        return BootstrapBand(lower: lower, upper: upper, standardErrors: sd, criticalValue: c)
    }

    /// f̂*_b(q) for every query and resample, m × B row-major (NaN rows for NaN estimates): for
    /// tests; the band itself never holds more than one query's B draws per thread.
    ///
    /// - Complexity: O(m·n·(d + p) + m·B·n/8) time on all cores, O(m·B) memory.
    func resamples(_ queries: Matrix, bootstrap: WildBootstrap, noise: SmootherNoise) throws -> [Double] {
        let B = bootstrap.resamples
        var result = [Double](repeating: .nan, count: queries.rows * B)
        try result.withUnsafeMutableBufferPointer { out in
            let output = SharedOutput(base: out.baseAddress!)
            try forEachResampledQuery(queries, bootstrap: bootstrap, noise: noise) { i, draws in
                (output.base + i * B).update(from: draws, count: B)
            }
        }
        return result
    }

    /// Calls `body(i, draws)` with the B draws f̂*_b(qᵢ) of every query the fit does not leave
    /// NaN, concurrently from the worker threads (each call's buffer is its thread's own).
    ///
    /// - Complexity: O(m·n·(d + p) + m·B·n/8) time on all cores, O(B·n/8 + threads·(n + B)) memory.
    func forEachResampledQuery(_ queries: Matrix, bootstrap: WildBootstrap, noise: SmootherNoise,
                               _ body: @Sendable (Int, UnsafePointer<Double>) -> Void) throws {
        let n = problem.keyCount, m = queries.rows, B = bootstrap.resamples, G = (n + 7) / 8
        // ε̃ᵢ: the residuals scaled to the noise's variance.
        let corrected = (0..<n).map { i -> Double in
            let variance = 1 - 2 * noise.leverages[i] / (weights?[i] ?? 1) + noise.squaredWeightNorms[i]
            return variance > 1e-12 ? (targets[i] - noise.fitted[i]) / variance.squareRoot() : 0
        }
        // Rows in the order of the first feature, and each resample's bits permuted alike, stored
        // group-major (byte g·B + b), so the resamples' bytes of a group are read in sequence.
        let order = (0..<n).sorted { (problem.keys[$0, 0], $0) < (problem.keys[$1, 0], $1) }
        let drawn = bootstrap.bits(rows: n)
        var bits = [UInt8](repeating: 0, count: drawn.count)
        for b in 0..<B {
            for (j, i) in order.enumerated() where drawn[b * G + i / 8] & (1 << (i % 8)) != 0 {
                bits[(j / 8) * B + b] |= UInt8(1) << (j % 8)
            }
        }
        let (low, high, _) = bootstrap.multipliers.twoPoint
        let (states, set, isNaN) = try smootherStates(queries)
        let fitted = noise.fitted
        bits.withUnsafeBufferPointer { bitBuffer in
            let bytes = SharedOutput(base: UnsafeMutablePointer(mutating: bitBuffer.baseAddress!))
            queries.elements.withUnsafeBufferPointer { qs in
                let queryBase = SharedOutput(base: UnsafeMutablePointer(mutating: qs.baseAddress!))
                Parallel.forEachBlock(count: m, blockSize: 4, threads: threads) { range in
                    var scratch = MomentEngine.PlainScratch(set)
                    var row = [Double](repeating: 0, count: n)
                    var a = [Double](repeating: 0, count: G * 8)
                    var tables = [Double](repeating: 0, count: Self.groupsPerChunk * 256)
                    var masked = [Double](repeating: 0, count: B)
                    let draws = UnsafeMutablePointer<Double>.allocate(capacity: B)
                    defer { scratch.deallocate(); draws.deallocate() }
                    for i in range where !isNaN[i] {
                        smootherRow(queryBase.base + i * queries.columns, state: states.state(i), set: set, isNaN: false,
                                    scratch: &scratch, into: &row)
                        var smoothed = 0.0, total = 0.0, first = n, last = -1
                        for (j, k) in order.enumerated() {
                            smoothed += row[k] * fitted[k]
                            a[j] = row[k] * corrected[k]
                            total += a[j]
                            if a[j] != 0 { first = Swift.min(first, j); last = j }
                        }
                        let groups = last < first ? 0..<0 : first / 8 ..< last / 8 + 1
                        Self.maskedSums(a, groups: groups, bits: UnsafePointer(bytes.base), resamples: B,
                                        tables: &tables, into: &masked)
                        for b in 0..<B { draws[b] = smoothed + low * total + (high - low) * masked[b] }
                        body(i, draws)
                    }
                }
            }
        }
    }

    /// Groups of 8 rows whose subset-sum tables are built at once (8 × 256 doubles = 16 KiB).
    static let groupsPerChunk = 8

    /// masked[b] = Σ_{i: bit(b, i)} aᵢ over the rows of `groups` (8 per group; a padded with
    /// zeros to whole groups) for every resample, by tables of the 256 subset sums of each group,
    /// in group order; group g's byte for resample b is bits[g·B + b].
    ///
    /// - Complexity: O((256 + B)·groups.count).
    static func maskedSums(_ a: [Double], groups: Range<Int>, bits: UnsafePointer<UInt8>, resamples B: Int,
                           tables: inout [Double], into masked: inout [Double]) {
        masked.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
        tables.withUnsafeMutableBufferPointer { T in
            masked.withUnsafeMutableBufferPointer { S in
                a.withUnsafeBufferPointer { a in
                    var g0 = groups.lowerBound
                    while g0 < groups.upperBound {
                        let count = Swift.min(groupsPerChunk, groups.upperBound - g0)
                        for c in 0..<count {
                            let table = T.baseAddress! + c * 256, rows = a.baseAddress! + (g0 + c) * 8
                            // By doubling: the patterns with top bit k are those below 2ᵏ plus row k
                            // (independent adds, no store-to-load chain).
                            table[0] = 0
                            var size = 1
                            for k in 0..<8 {
                                let row = rows[k]
                                for pattern in 0..<size { table[size + pattern] = table[pattern] + row }
                                size *= 2
                            }
                        }
                        let chunk = bits + g0 * B
                        if count == groupsPerChunk {
                            // Eight independent streams of bytes, eight table lookups per resample;
                            // pointers fixed per stream so the loop carries no index arithmetic.
                            let t = T.baseAddress!, sums = S.baseAddress!
                            let (t0, t1, t2, t3) = (t, t + 256, t + 512, t + 768)
                            let (t4, t5, t6, t7) = (t + 1024, t + 1280, t + 1536, t + 1792)
                            let (c0, c1, c2, c3) = (chunk, chunk + B, chunk + 2 * B, chunk + 3 * B)
                            let (c4, c5, c6, c7) = (chunk + 4 * B, chunk + 5 * B, chunk + 6 * B, chunk + 7 * B)
                            var b = 0
                            while b < B {
                                let low = (t0[Int(c0[b])] + t1[Int(c1[b])]) + (t2[Int(c2[b])] + t3[Int(c3[b])])
                                let high = (t4[Int(c4[b])] + t5[Int(c5[b])]) + (t6[Int(c6[b])] + t7[Int(c7[b])])
                                sums[b] += low + high
                                b &+= 1
                            }
                        } else {
                            for b in 0..<B {
                                var sum = 0.0
                                for c in 0..<count { sum += T[c * 256 + Int(chunk[c * B + b])] }
                                S[b] += sum
                            }
                        }
                        g0 += count
                    }
                }
            }
        }
    }
}
