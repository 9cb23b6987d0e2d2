import Foundation
import Testing
@testable import NadarayaWatson

@Suite("CompactEngine")
struct CompactEngineTests {
    static let compactKernels = Kernel.allCases.filter(\.isCompact)

    struct Case: CustomTestStringConvertible, Sendable {
        let kernel: Kernel, form: KernelForm, d: Int, n: Int, m: Int, seed: UInt64
        var testDescription: String { "\(kernel) \(form) d=\(d) n=\(n) m=\(m) seed=\(seed)" }
    }

    static let cases: [Case] = compactKernels.flatMap { kernel in
        KernelForm.allCases.flatMap { form in
            [(1, 301, 97), (2, 257, 61), (5, 203, 33), (17, 129, 17)].map { d, n, m in
                Case(kernel: kernel, form: form, d: d, n: n, m: m, seed: UInt64(d * 7 + n))
            }
        }
    }

    static func data(_ c: Case) -> (Matrix, Matrix, Matrix, [Double]) {
        var rng = SeededGenerator(seed: c.seed)
        let keys = Matrix.random(rows: c.n, columns: c.d, in: 0...4, using: &rng)
        let values = Matrix.random(rows: c.n, columns: 1, in: -2...2, using: &rng)
        let queries = Matrix.random(rows: c.m, columns: c.d, in: -1...5, using: &rng)
        // Widths giving a few to a few dozen keys per support, and some empty queries.
        let h = (0..<c.d).map { _ in Double.random(in: 0.6...1.2, using: &rng) * Double(c.d).squareRoot() }
        return (keys, values, queries, h)
    }

    @Test("indexed is bit for bit dense, and both match the reference", arguments: cases)
    func indexedEqualsDense(_ c: Case) throws {
        let (keys, values, queries, h) = Self.data(c)
        func predict(_ strategy: EvaluationStrategy) throws -> Matrix {
            try NadarayaWatsonRegressor(kernel: c.kernel, form: c.form, bandwidth: .widths(h), strategy: strategy)
                .fit(keys: keys, values: values).predict(queries)
        }
        let dense = try predict(.vectorized), indexed = try predict(.indexed), reference = try predict(.reference)
        #expect(dense.elements.map(\.bitPattern) == indexed.elements.map(\.bitPattern))
        #expect(relativeError(indexed, reference) < 1e-12)
    }

    @Test("ties on the open boundary: keys exactly one width away get no weight, in every path",
          arguments: [KernelForm.radial, .product])
    func boundaryTies(_ form: KernelForm) throws {
        // A 2-D integer grid, integer queries, h = 1: many keys sit exactly on the boundary.
        let grid = (0..<7).flatMap { i in (0..<7).map { j in [Double(i), Double(j)] } }
        let keys = Matrix(grid)
        let values = Matrix(column: grid.map { $0[0] * 10 + $0[1] })
        let queries = Matrix([[3, 3], [0, 0], [6, 2], [3, 3.5], [-1, 3]])
        for strategy in EvaluationStrategy.allCases {
            let p = try NadarayaWatsonRegressor(kernel: .boxcar, form: form, bandwidth: .width(1), strategy: strategy)
                .fit(keys: keys, values: values).predict(queries)
            // Only the key itself is strictly inside for an integer query; for (3, 3.5) the keys
            // (3, 3) and (3, 4) are at distance ½; (−1, 3) has only (0, 3) at distance exactly 1.
            #expect(p.elements[0] == 33 && p.elements[1] == 0 && p.elements[2] == 62, "\(strategy)")
            #expect(p.elements[3] == 33.5, "\(strategy)")
            #expect(p.elements[4].isNaN, "\(strategy)")
        }
    }

    @Test("the 1-D fast path and the general path agree with the reference", arguments: compactKernels)
    func oneDimensional(_ kernel: Kernel) throws {
        var rng = SeededGenerator(seed: 31)
        let keys = Matrix.random(rows: 1001, columns: 1, in: 0...100, using: &rng)
        let values = Matrix.random(rows: 1001, columns: 1, in: -1...1, using: &rng)
        let queries = Matrix(column: (0..<203).map { _ in Double.random(in: -2...102, using: &rng) } + [keys[17, 0], keys[17, 0] + 0.5])
        for form in KernelForm.allCases {
            let reference = try NadarayaWatsonRegressor(kernel: kernel, form: form, bandwidth: .width(0.5), strategy: .reference)
                .fit(keys: keys, values: values).predict(queries)
            for strategy in [EvaluationStrategy.indexed, .vectorized, .streaming] {
                let got = try NadarayaWatsonRegressor(kernel: kernel, form: form, bandwidth: .width(0.5), strategy: strategy)
                    .fit(keys: keys, values: values).predict(queries)
                #expect(relativeError(got, reference) < 1e-12, "\(form) \(strategy)")
            }
        }
    }

    @Test("classification through the index", arguments: [1, 3])
    func classification(_ d: Int) throws {
        var rng = SeededGenerator(seed: 5)
        let keys = Matrix.random(rows: 400, columns: d, in: 0...3, using: &rng)
        let labels = (0..<400).map { _ in ["a", "b", "c"][Int.random(in: 0..<3, using: &rng)] }
        let queries = Matrix.random(rows: 50, columns: d, in: 0...3, using: &rng)
        let reference = try NadarayaWatsonClassifier(kernel: .tricube, bandwidth: .width(0.7), strategy: .reference)
            .fit(keys: keys, labels: labels).probabilities(queries)
        let indexed = try NadarayaWatsonClassifier(kernel: .tricube, bandwidth: .width(0.7), strategy: .indexed)
            .fit(keys: keys, labels: labels).probabilities(queries)
        #expect(relativeError(indexed, reference) < 1e-12)
    }

    @Test("thread count does not change the result")
    func threads() throws {
        var rng = SeededGenerator(seed: 77)
        let keys = Matrix.random(rows: 3000, columns: 2, in: 0...10, using: &rng)
        let values = Matrix.random(rows: 3000, columns: 1, in: 0...1, using: &rng)
        let queries = Matrix.random(rows: 2000, columns: 2, in: 0...10, using: &rng)
        var estimator = NadarayaWatsonRegressor(kernel: .biweight, bandwidth: .width(0.5), strategy: .indexed, threads: 1)
        let one = try estimator.fit(keys: keys, values: values).predict(queries)
        estimator.threads = 4
        #expect(try estimator.fit(keys: keys, values: values).predict(queries).elements.map(\.bitPattern) == one.elements.map(\.bitPattern))
    }
}
