import Foundation
import Testing
@testable import NadarayaWatson

@Suite("GaussianEngine")
struct GaussianEngineTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let n: Int, m: Int, d: Int, p: Int, seed: UInt64
        var testDescription: String { "n=\(n) m=\(m) d=\(d) p=\(p) seed=\(seed)" }
    }

    /// Sizes that are not multiples of the SIMD width (8 or 16), the register block (4) or the
    /// query block (64); d ∈ {1, 2, 5, 17} covers the fixed-d kernels and the dynamic one.
    static let cases: [Case] = [1, 2, 5, 17].flatMap { d in
        [(1, 1, 1), (7, 3, 1), (29, 67, 1), (133, 70, 2), (1031, 129, 1)].map { size in
            Case(n: size.0, m: size.1, d: d, p: size.2, seed: UInt64(d * 100 + size.0))
        }
    }

    static func data(_ c: Case) -> (keys: Matrix, values: Matrix, queries: Matrix, h: [Double]) {
        engineTestData(n: c.n, m: c.m, d: c.d, p: c.p, seed: c.seed, widths: 0.3...2)
    }

    @Test("vectorized double matches the reference to 1e-12", arguments: cases)
    func doubleMatchesReference(_ c: Case) throws {
        let (keys, values, queries, h) = Self.data(c)
        for form in KernelForm.allCases {
            let reference = try NadarayaWatsonRegressor(kernel: .gaussian, form: form, bandwidth: .widths(h), strategy: .reference)
                .fit(keys: keys, values: values).predict(queries)
            let fast = try NadarayaWatsonRegressor(kernel: .gaussian, form: form, bandwidth: .widths(h), strategy: .vectorized)
                .fit(keys: keys, values: values).predict(queries)
            #expect(relativeError(fast, reference) < 1e-12)
        }
    }

    @Test("vectorized single matches the reference to 1e-4 of max |y|", arguments: cases)
    func singleMatchesReference(_ c: Case) throws {
        let (keys, values, queries, h) = Self.data(c)
        let reference = try NadarayaWatsonRegressor(kernel: .gaussian, bandwidth: .widths(h), strategy: .reference)
            .fit(keys: keys, values: values).predict(queries)
        let fast = try NadarayaWatsonRegressor(kernel: .gaussian, bandwidth: .widths(h), strategy: .vectorized, precision: .single)
            .fit(keys: keys, values: values).predict(queries)
        #expect(relativeError(fast, reference) < 1e-4)
    }

    @Test("classification probabilities match the reference")
    func classification() throws {
        var rng = SeededGenerator(seed: 8)
        let keys = Matrix.random(rows: 203, columns: 3, in: 0...5, using: &rng)
        let labels = (0..<203).map { _ in String(Int.random(in: 0..<5, using: &rng)) }
        let queries = Matrix.random(rows: 37, columns: 3, in: 0...5, using: &rng)
        let reference = try NadarayaWatsonClassifier(bandwidth: .width(0.8), strategy: .reference).fit(keys: keys, labels: labels).probabilities(queries)
        let fast = try NadarayaWatsonClassifier(bandwidth: .width(0.8), strategy: .vectorized).fit(keys: keys, labels: labels).probabilities(queries)
        #expect(relativeError(fast, reference) < 1e-13)
    }

    @Test("sorted keys (every key a new running minimum) stay exact")
    func sortedKeys() throws {
        let n = 2000
        let keys = Matrix(column: (0..<n).map { Double($0) * 0.01 })
        let values = Matrix(column: (0..<n).map { sin(Double($0) * 0.01) })
        let queries = Matrix(column: [25, 30, -5, 0.005, 19.995])
        for h in [0.01, 0.1, 3.0] {
            let reference = try NadarayaWatsonRegressor(bandwidth: .width(h), strategy: .reference).fit(keys: keys, values: values).predict(queries)
            let fast = try NadarayaWatsonRegressor(bandwidth: .width(h), strategy: .vectorized).fit(keys: keys, values: values).predict(queries)
            #expect(relativeError(fast, reference) < 1e-12, "h = \(h)")
        }
    }

    @Test("far and extreme queries are finite; overflowing distances fall back exactly",
          arguments: [Precision.double, .single])
    func farQueries(_ precision: Precision) throws {
        let keys = Matrix([[0, 0], [1, 1], [2, 0.5]])
        let values = Matrix(column: [1, 2, 3])
        let model = try NadarayaWatsonRegressor(bandwidth: .width(0.5), strategy: .vectorized, precision: precision).fit(keys: keys, values: values)
        let queries = Matrix([[2 + 1e6 * 0.5, 0.5], [-1e6, -1e6], [1e30, 1e30], [1e200, -1e200], [1, 1]])
        let p = try model.predict(queries)
        #expect(p.elements.allSatisfy { $0.isFinite })
        #expect(p[0, 0] == 3 && p[1, 0] == 1)
    }

    @Test("identical results for 1 and 3 threads", arguments: [Precision.double, .single])
    func threads(_ precision: Precision) throws {
        var rng = SeededGenerator(seed: 17)
        let keys = Matrix.random(rows: 517, columns: 2, in: 0...5, using: &rng)
        let values = Matrix.random(rows: 517, columns: 1, in: 0...1, using: &rng)
        let queries = Matrix.random(rows: 301, columns: 2, in: 0...5, using: &rng)
        var estimator = NadarayaWatsonRegressor(bandwidth: .width(0.4), strategy: .vectorized, precision: precision, threads: 1)
        let one = try estimator.fit(keys: keys, values: values).predict(queries)
        estimator.threads = 3
        #expect(try estimator.fit(keys: keys, values: values).predict(queries).elements == one.elements)
    }

    @Test("leave-one-out moments (1-D windowed on sorted keys, and d > 1) equal the log-space reference without key i",
          arguments: [(1, 0.05), (1, 0.7), (1, 40.0), (2, 0.3), (3, 1.5)])
    func leaveOneOut(_ d: Int, _ h: Double) throws {
        var rng = SeededGenerator(seed: UInt64(d * 1000) + UInt64(h * 100))
        let n = 1003
        // Widths down to 1/400 of the range: beyond that (q − k)/h itself carries more than
        // 1e-12 of rounding in any implementation.
        var keys = Matrix.random(rows: n, columns: d, in: 0...20, using: &rng)
        // Duplicates (nearest neighbour at distance 0) and a far outlier.
        for i in stride(from: 0, to: 60, by: 3) { for j in 0..<d { keys[i + 1, j] = keys[i, j] } }
        for j in 0..<d { keys[n - 1, j] = 1e4 }
        if d == 1 { keys = Matrix(column: keys.elements.sorted()) }
        let values = Matrix.random(rows: n, columns: 1, in: -5...5, using: &rng)
        let problem = AttentionProblem(kernel: .gaussian, form: .radial, keys: keys, bandwidths: Array(repeating: h, count: d),
                                       values: .dense(values))
        let states = GaussianMoments.states(MomentProblem(attention: problem, logWeights: nil, moments: MomentSet(dimension: d, degree: 0),
                                                          leaveOneOut: true), queries: keys, threads: 2)
        #expect(!states.shifts.contains(-.infinity))
        let fast = (0..<n).map { states.sums[$0 * 2 + 1] / states.sums[$0 * 2] }
        var worst = 0.0
        keys.elements.withUnsafeBufferPointer { xs in
            var row = 0.0
            for i in 0..<n {
                let total = StreamingEngine.poolLogSpace(problem, query: xs.baseAddress! + i * d, into: &row, excluding: i)
                worst = max(worst, abs(fast[i] - row / total) / 5)
            }
        }
        #expect(worst < 1e-12, "worst \(worst)")
    }
}

extension GaussianEngineTests {
    @Test("the squares moments (training's gradient) on SIMD registers equal the plain engine's",
          arguments: [(1, 0.3), (3, 1.1), (17, 4.0)])
    func squares(_ d: Int, _ h: Double) throws {
        var rng = SeededGenerator(seed: UInt64(d * 31))
        let n = 203
        let keys = Matrix.random(rows: n, columns: d, in: 0...5, using: &rng)
        let values = Matrix.random(rows: n, columns: 1, in: -5...5, using: &rng)
        let logWeights = (0..<n).map { _ in log(Double(Int.random(in: 1...4, using: &rng))) }
        let widths = (0..<d).map { h * (1 + 0.1 * Double($0)) }
        let problem = AttentionProblem(kernel: .gaussian, form: .radial, keys: keys, bandwidths: widths, values: .dense(values))
        for leaveOneOut in [false, true] {
            let moments = MomentProblem(attention: problem, logWeights: logWeights, moments: .squares(dimension: d),
                                        leaveOneOut: leaveOneOut)
            let fast = GaussianMoments.states(moments, queries: keys, threads: 2)
            let plain = MomentEngine.plainStates(moments, queries: keys, index: nil, threads: 1, only: nil)
            #expect(fast.count == 2 * (1 + d))
            for i in 0..<n {
                let a = fast.state(i), b = plain.state(i)
                for m in 0..<fast.count {
                    let x = a.sums[m] * exp(a.shift - b.shift), y = b.sums[m]
                    // T and V carry signed values: compare against the magnitude scale of S and U.
                    let scale = abs(y) + 5 * b.sums[m < 1 + d ? m : m - 1 - d]
                    #expect(abs(x - y) <= 1e-12 * scale, "i=\(i) m=\(m): \(x) vs \(y)")
                }
            }
        }
    }
}
