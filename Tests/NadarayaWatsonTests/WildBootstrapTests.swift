import Foundation
import Testing
@testable import NadarayaWatson

/// The wild bootstrap against resamples refitted one by one through the smoother matrix written
/// out (`plainSmootherRows`), with the multipliers decoded from the same bits.
@Suite("Wild bootstrap")
struct WildBootstrapTests {
    /// Data of the coverage study, small: y = 2 sin x + x^0.8 + ε.
    func data(n: Int, seed: UInt64) -> (x: [Double], y: [Double]) {
        var rng = SeededGenerator(seed: seed)
        let x = (0..<n).map { _ in 5 * rng.nextUniform() }
        let y = x.map { v -> Double in
            let u = 1 - rng.nextUniform(), w = rng.nextUniform()
            return 2 * sin(v) + pow(v, 0.8) + 0.5 * (-2 * log(u)).squareRoot() * cos(2 * Double.pi * w)
        }
        return (x, y)
    }

    @Test("resamples equal refits of y* = f̂ + ε̃v through the smoother matrix",
          arguments: [(0, BootstrapMultipliers.rademacher), (1, .mammen), (2, .rademacher)])
    func againstRefits(_ degree: Int, _ multipliers: BootstrapMultipliers) throws {
        let (x, y) = data(n: 45, seed: 9)  // 45: not a multiple of 8, the tail byte is masked
        var rng = SeededGenerator(seed: 4)
        let s = (0..<45).map { _ in Double((rng.next() % 3) + 1) }
        let queries: [Double] = [0.1, 1.7, 2.5, 4.9]
        for kernel in [Kernel.gaussian, .epanechnikov] {
            for weights in [nil, s] {
                let h = kernel.isCompact ? 1.5 : 0.5
                let model = try LocalPolynomialRegressor(kernel: kernel, bandwidth: .width(h), degree: degree)
                    .fit(keys: Matrix(column: x), targets: y, sampleWeights: weights)
                let bootstrap = WildBootstrap(resamples: 23, multipliers: multipliers, seed: 77)
                let noise = try model.noise()
                let fast = try model.resamples(Matrix(column: queries), bootstrap: bootstrap, noise: noise)
                let w = weights ?? Array(repeating: 1, count: 45)
                let L = plainSmootherRows(kernel: kernel, keys: x, weights: w, h: h, degree: degree, queries: x)
                let rows = plainSmootherRows(kernel: kernel, keys: x, weights: w, h: h, degree: degree, queries: queries)
                let fitted = L.map { row in zip(row, y).reduce(0) { $0 + $1.0 * $1.1 } }
                let corrected = (0..<45).map { i -> Double in
                    let norm = (0..<45).reduce(0.0) { $0 + L[i][$1] * L[i][$1] / w[$1] }
                    return (y[i] - fitted[i]) / (1 - 2 * L[i][i] / w[i] + norm).squareRoot()
                }
                let bits = bootstrap.bits(rows: 45), (low, high, _) = multipliers.twoPoint
                for b in 0..<23 {
                    let v = (0..<45).map { i in bits[b * 6 + i / 8] & (1 << (i % 8)) != 0 ? high : low }
                    let yStar = (0..<45).map { fitted[$0] + corrected[$0] * v[$0] }
                    for (q, row) in rows.enumerated() {
                        let expected = zip(row, yStar).reduce(0) { $0 + $1.0 * $1.1 }
                        #expect(abs(fast[q * 23 + b] - expected) <= 1e-10 * max(1, abs(expected)),
                                "\(kernel) degree \(degree) weighted \(weights != nil) q \(q) b \(b): \(fast[q * 23 + b]) vs \(expected)")
                    }
                }
            }
        }
    }

    @Test("the multipliers have mean 0 and variance 1, and the bits their probabilities")
    func multipliers() {
        for kind in BootstrapMultipliers.allCases {
            let (low, high, p) = kind.twoPoint
            #expect(abs(low * (1 - p) + high * p) <= 1e-15)
            #expect(abs(low * low * (1 - p) + high * high * p - 1) <= 1e-15)
            let bits = WildBootstrap(resamples: 200, multipliers: kind, seed: 1).bits(rows: 1000)
            let ones = bits.reduce(0) { $0 + $1.nonzeroBitCount }
            let rate = Double(ones) / 200_000
            #expect(abs(rate - p) <= 0.005, "\(kind): \(rate) vs \(p)")
        }
        #expect(WildBootstrap(resamples: 5, seed: 1).bits(rows: 99) != WildBootstrap(resamples: 5, seed: 2).bits(rows: 99))
    }

    @Test("the same seed gives the same band on 1 and 3 threads; the band holds the fit")
    func threadsAndContainment() throws {
        let (x, y) = data(n: 300, seed: 12)
        let queries = Matrix(column: stride(from: 0.0, through: 5, by: 0.25).map { $0 })
        var results: [BootstrapBand] = []
        for threads in [1, 3] {
            let model = try LocalPolynomialRegressor(bandwidth: .width(0.15), degree: 1, threads: threads)
                .fit(keys: Matrix(column: x), targets: y)
            results.append(try model.bootstrapBand(queries, level: 0.9, bootstrap: WildBootstrap(resamples: 99, seed: 5),
                                                   band: .simultaneous))
        }
        #expect(results[0] == results[1])
        let model = try LocalPolynomialRegressor(bandwidth: .width(0.15), degree: 1).fit(keys: Matrix(column: x), targets: y)
        let f = try model.predict(queries)
        let pointwise = try model.bootstrapBand(queries, level: 0.9, bootstrap: WildBootstrap(resamples: 99, seed: 5))
        let c = try #require(results[0].criticalValue)
        #expect(c > StandardNormal.quantile(0.95), "a sup-t band is wider than the pointwise normal one: c = \(c)")
        for i in 0..<queries.rows {
            #expect(results[0].lower[i] <= f[i] && f[i] <= results[0].upper[i])
            // The percentile interval centres on the resamples' mean Σ lᵢ(q)f̂(xᵢ) (the fit smoothed
            // again), which leaves f̂ where the fit curves hard, as at the ends (and inside at wide
            // widths): a narrow width, interior queries.
            if (1.0...4.0).contains(queries.elements[i]) {
                #expect(pointwise.lower[i] < f[i] && f[i] < pointwise.upper[i], "query \(i)")
            }
            #expect(results[0].upper[i] - results[0].lower[i] > pointwise.upper[i] - pointwise.lower[i])
        }
        #expect(pointwise.criticalValue == nil)
        #expect(pointwise.standardErrors == results[0].standardErrors)
    }

    @Test("a small fixed-seed coverage check: 95% bootstrap intervals at interior points")
    func smallCoverage() throws {
        let points = Matrix(column: [1, 2, 3, 4]), truth = points.elements.map { 2 * sin($0) + pow($0, 0.8) }
        var covered = 0, curves = 0
        let replications = 40
        for r in 0..<replications {
            let (x, y) = data(n: 200, seed: 1000 + UInt64(r))
            let model = try LocalPolynomialRegressor(bandwidth: .width(0.15)).fit(keys: Matrix(column: x), targets: y)
            let band = try model.bootstrapBand(points, level: 0.95, bootstrap: WildBootstrap(resamples: 199, seed: UInt64(r)))
            for i in 0..<4 where band.lower[i] <= truth[i] && truth[i] <= band.upper[i] { covered += 1 }
            let sim = try model.bootstrapBand(points, level: 0.95, bootstrap: WildBootstrap(resamples: 199, seed: UInt64(r)),
                                              band: .simultaneous)
            if (0..<4).allSatisfy({ sim.lower[$0] <= truth[$0] && truth[$0] <= sim.upper[$0] }) { curves += 1 }
        }
        let rate = Double(covered) / Double(4 * replications)
        // 160 trials at 95%: a correct band lands in [0.88, 0.99] (±3 sd); an empty or infinite one cannot.
        #expect(rate >= 0.88 && rate <= 0.99, "pointwise coverage \(rate)")
        #expect(Double(curves) / Double(replications) >= 0.85, "simultaneous coverage \(curves) of \(replications)")
    }

    @Test("bad levels and resample counts throw")
    func badArguments() throws {
        let model = try LocalPolynomialRegressor(bandwidth: .width(0.5)).fit(keys: Matrix(column: [0, 1, 2, 3, 4]), targets: [1, 2, 1, 3, 2])
        let q = Matrix(column: [1.5])
        #expect(throws: NadarayaWatsonError.self) { try model.bootstrapBand(q, level: 1, bootstrap: WildBootstrap(resamples: 9)) }
        #expect(throws: NadarayaWatsonError.self) { try model.bootstrapBand(q, level: 0.9, bootstrap: WildBootstrap(resamples: 1)) }
    }
}
