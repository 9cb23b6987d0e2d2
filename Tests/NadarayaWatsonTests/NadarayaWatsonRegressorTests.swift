import Foundation
import Testing
@testable import NadarayaWatson

@Suite("NadarayaWatsonRegressor")
struct NadarayaWatsonRegressorTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let kernel: Kernel, form: KernelForm, n: Int, m: Int, d: Int, p: Int, seed: UInt64
        var testDescription: String { "\(kernel) \(form) n=\(n) m=\(m) d=\(d) p=\(p) seed=\(seed)" }
    }

    /// Kernels × forms × sizes that are not multiples of any SIMD width.
    static let cases: [Case] = Kernel.allCases.flatMap { kernel in
        KernelForm.allCases.flatMap { form in
            [(1, 3, 1, 1), (7, 5, 1, 2), (13, 9, 2, 1), (33, 11, 3, 1), (61, 7, 5, 3)].enumerated().map { index, size in
                Case(kernel: kernel, form: form, n: size.0, m: size.1, d: size.2, p: size.3,
                     seed: UInt64(index * 1000 + Kernel.allCases.firstIndex(of: kernel)! * 10 + (form == .radial ? 0 : 1)))
            }
        }
    }

    static func data(_ c: Case) -> (keys: Matrix, values: Matrix, queries: Matrix, h: [Double]) {
        var rng = SeededGenerator(seed: c.seed)
        let keys = Matrix.random(rows: c.n, columns: c.d, in: 0...5, using: &rng)
        let values = Matrix.random(rows: c.n, columns: c.p, in: -3...3, using: &rng)
        let queries = Matrix.random(rows: c.m, columns: c.d, in: -0.5...5.5, using: &rng)
        // Wide enough that compact kernels see keys, narrow enough to matter.
        let h = (0..<c.d).map { _ in Double.random(in: 1.5...3, using: &rng) }
        return (keys, values, queries, h)
    }

    @Test("every strategy matches the plain textbook estimator", arguments: cases)
    func strategiesMatchPlain(_ c: Case) throws {
        let (keys, values, queries, h) = Self.data(c)
        let plain = plainNadarayaWatson(kernel: c.kernel, form: c.form, keys: keys, values: values, bandwidths: h, queries: queries)
        for strategy in EvaluationStrategy.allCases {
            let model = try NadarayaWatsonRegressor(kernel: c.kernel, form: c.form, bandwidth: .widths(h), strategy: strategy)
                .fit(keys: keys, values: values)
            let predicted = try model.predict(queries)
            #expect(relativeError(predicted, plain.predictions) < 1e-12, "\(strategy)")
        }
        let weights = try NadarayaWatsonRegressor(kernel: c.kernel, form: c.form, bandwidth: .widths(h))
            .fit(keys: keys, values: values).attentionWeights(queries)
        #expect(relativeError(weights, plain.weights) < 1e-12)
    }

    @Test("weights are non-negative and rows sum to one", arguments: Kernel.allCases)
    func weightsAreDistributions(_ kernel: Kernel) throws {
        var rng = SeededGenerator(seed: 7)
        let keys = Matrix.random(rows: 40, columns: 2, in: 0...5, using: &rng)
        let queries = Matrix.random(rows: 17, columns: 2, in: 0...5, using: &rng)
        for form in KernelForm.allCases {
            let w = try NadarayaWatsonRegressor(kernel: kernel, form: form, bandwidth: .width(2), emptyPolicy: .mean)
                .fit(keys: keys, values: Matrix(column: Array(repeating: 1, count: 40))).attentionWeights(queries)
            for i in 0..<w.rows {
                let row = w.row(i)
                #expect(row.allSatisfy { $0 >= 0 })
                #expect(abs(row.reduce(0, +) - 1) < 1e-14)
            }
        }
    }

    // Not dot: q·k changes when both move (its weights are not a function of q − k).
    @Test("predictions are invariant to translating keys and queries together", arguments: Kernel.allCases.filter { $0 != .dot })
    func translationInvariance(_ kernel: Kernel) throws {
        var rng = SeededGenerator(seed: 11)
        let keys = Matrix.random(rows: 25, columns: 2, in: 0...4, using: &rng)
        let values = Matrix.random(rows: 25, columns: 1, in: -1...1, using: &rng)
        let queries = Matrix.random(rows: 9, columns: 2, in: 0...4, using: &rng)
        let shift = [1024.0, -512.0] // exact in binary, so the shifted inputs are exact
        func shifted(_ m: Matrix) -> Matrix {
            Matrix(rows: m.rows, columns: 2, elements: m.elements.enumerated().map { $0.element + shift[$0.offset % 2] })
        }
        let estimator = NadarayaWatsonRegressor(kernel: kernel, bandwidth: .width(1.5), emptyPolicy: .mean)
        let a = try estimator.fit(keys: keys, values: values).predict(queries)
        let b = try estimator.fit(keys: shifted(keys), values: values).predict(shifted(queries))
        #expect(relativeError(a, b) < 1e-12)
    }

    @Test func constantKernelIsTheMean() throws {
        var rng = SeededGenerator(seed: 3)
        let keys = Matrix.random(rows: 50, columns: 3, in: 0...5, using: &rng)
        let values = Matrix.random(rows: 50, columns: 2, in: -2...2, using: &rng)
        let queries = Matrix.random(rows: 6, columns: 3, in: -100...100, using: &rng)
        let predicted = try NadarayaWatsonRegressor(kernel: .constant, bandwidth: .width(0.01)).fit(keys: keys, values: values).predict(queries)
        for c in 0..<2 {
            let mean = values.column(c).reduce(0, +) / 50
            for i in 0..<6 { #expect(abs(predicted[i, c] - mean) < 1e-14) }
        }
    }

    @Test("one key predicts its value everywhere it has weight", arguments: Kernel.allCases)
    func oneKey(_ kernel: Kernel) throws {
        let model = try NadarayaWatsonRegressor(kernel: kernel, bandwidth: .width(1)).fit(keys: Matrix([[2.0]]), values: Matrix([[7.25]]))
        let predicted = try model.predict(Matrix(column: [2.0, 2.5, 1.1]))
        // (w·v)/w is v to within an ulp of each of its two roundings.
        #expect(predicted.elements.allSatisfy { abs($0 - 7.25) <= 2 * (7.25).ulp })
    }

    @Test("far queries stay finite; gaussian gives the nearest key's value",
          arguments: [Kernel.gaussian, .logistic, .cauchy, .laplacian, .constant])
    func farQueries(_ kernel: Kernel) throws {
        let keys = Matrix(column: [0, 1, 2, 3])
        let values = Matrix(column: [10, 20, 30, 40])
        let h = 0.5
        for strategy in EvaluationStrategy.allCases {
            for form in KernelForm.allCases {
                let model = try NadarayaWatsonRegressor(kernel: kernel, form: form, bandwidth: .width(h), strategy: strategy)
                    .fit(keys: keys, values: values)
                let far = try model.predict(Matrix(column: [3 + 1e6 * h, -1e6 * h, 1e150, -1e300, 1.7e308]))
                #expect(far.elements.allSatisfy { $0.isFinite }, "\(strategy) \(form): \(far.elements)")
                if kernel == .gaussian {
                    // At 10¹⁵⁰ and beyond, q − kⱼ rounds to the same Double for every key: all
                    // keys are equally far, and the exact softmax is their mean.
                    #expect(far.elements == [40, 10, 25, 25, 25], "\(strategy) \(form)")
                }
                let weights = try model.attentionWeights(Matrix(column: [1e300]))
                #expect(abs(weights.row(0).reduce(0, +) - 1) < 1e-15)
            }
        }
    }

    @Test("beyond 10¹⁵⁴ widths the weights are the kernel's exact limit",
          arguments: [Kernel.gaussian, .logistic, .laplacian, .cauchy])
    func overflowLimit(_ kernel: Kernel) throws {
        // Keys 10²⁹⁹ apart, query at 10³⁰⁰: squared scaled distances overflow, distances do not tie.
        let keys = Matrix(column: [0, 1e299, 5e299])
        let values = Matrix(column: [1, 2, 3])
        for form in KernelForm.allCases {
            let model = try NadarayaWatsonRegressor(kernel: kernel, form: form, bandwidth: .width(1)).fit(keys: keys, values: values)
            let got = try model.predict(Matrix(column: [1e300]))[0, 0]
            if kernel == .cauchy {
                // weights ∝ r⁻²: r = 10³⁰⁰, 9·10²⁹⁹, 5·10²⁹⁹.
                let w = [1.0, 1 / 0.81, 4.0]
                let expected = (w[0] * 1 + w[1] * 2 + w[2] * 3) / w.reduce(0, +)
                #expect(abs(got - expected) < 1e-13, "\(form)")
            } else {
                #expect(got == 3, "\(form)")
            }
        }
    }

    @Test("the gaussian is the softmax of −‖q−k‖²/2h², exactly as in the chapter")
    func gaussianIsSoftmax() throws {
        let x: [Double] = [0.3, 1.1, 2.0, 2.9, 4.4], y: [Double] = [1, -1, 0.5, 2, 3]
        let q = 1.7, h = 0.8
        let logits = x.map { -pow(q - $0, 2) / (2 * h * h) }
        let top = logits.max()!
        let e = logits.map { exp($0 - top) }
        let expected = zip(e, y).map(*).reduce(0, +) / e.reduce(0, +)
        let got = try NadarayaWatsonRegressor(kernel: .gaussian, bandwidth: .width(h)).fit(keys: Matrix(column: x), values: Matrix(column: y))
            .predict(Matrix(column: [q]))
        #expect(abs(got[0, 0] - expected) < 1e-15)
    }

    @Test("gaussian radial and product agree")
    func gaussianFormsAgree() throws {
        var rng = SeededGenerator(seed: 5)
        let keys = Matrix.random(rows: 30, columns: 3, in: 0...5, using: &rng)
        let values = Matrix.random(rows: 30, columns: 1, in: 0...1, using: &rng)
        let queries = Matrix.random(rows: 8, columns: 3, in: 0...5, using: &rng)
        let radial = try NadarayaWatsonRegressor(kernel: .gaussian, form: .radial, bandwidth: .widths([1, 2, 0.5])).fit(keys: keys, values: values).predict(queries)
        let product = try NadarayaWatsonRegressor(kernel: .gaussian, form: .product, bandwidth: .widths([1, 2, 0.5])).fit(keys: keys, values: values).predict(queries)
        #expect(relativeError(radial, product) < 1e-13)
    }

    @Test("tiny compact weights are redone exactly in log space")
    func compactUnderflow() throws {
        // Product triweight in 40-D near the support's edge: each factor ~1e-9, product ~1e-360.
        let d = 40
        let keys = Matrix(rows: 2, columns: d, elements: Array(repeating: 0, count: d) + Array(repeating: 0.001, count: d))
        let values = Matrix(column: [1, 3])
        let queries = Matrix(rows: 1, columns: d, elements: Array(repeating: 0.9990005, count: d))
        let estimator = NadarayaWatsonRegressor(kernel: .triweight, form: .product, bandwidth: .width(1), strategy: .streaming)
        let got = try estimator.fit(keys: keys, values: values).predict(queries)
        var reference = estimator
        reference.strategy = .reference
        let expected = try reference.fit(keys: keys, values: values).predict(queries)
        #expect(got[0, 0].isFinite)
        #expect(abs(got[0, 0] - expected[0, 0]) < 1e-12)
        #expect(got[0, 0] > 2.9) // the second key is much closer
    }

    @Test("results are identical for 1 and many threads", arguments: [Kernel.gaussian, .epanechnikov, .cauchy])
    func threadIndependence(_ kernel: Kernel) throws {
        var rng = SeededGenerator(seed: 99)
        let keys = Matrix.random(rows: 301, columns: 2, in: 0...5, using: &rng)
        let values = Matrix.random(rows: 301, columns: 1, in: 0...1, using: &rng)
        let queries = Matrix.random(rows: 257, columns: 2, in: 0...5, using: &rng)
        var estimator = NadarayaWatsonRegressor(kernel: kernel, bandwidth: .width(0.7), threads: 1)
        let one = try estimator.fit(keys: keys, values: values).predict(queries)
        estimator.threads = 4
        let four = try estimator.fit(keys: keys, values: values).predict(queries)
        #expect(one.elements == four.elements)
    }

    // MARK: Empty neighbourhoods

    static let emptyKeys = Matrix([[0.0, 0.0], [1.0, 0.0], [3.0, 3.0]])
    static let emptyValues = Matrix(column: [1, 2, 6])
    /// Query 0 sees a key; query 1 (near key 2 in scaled distance) and query 2 see none.
    static let emptyQueries = Matrix([[0.2, 0.1], [3.5, 5.0], [-4.0, 0.0]])

    @Test("--empty nan", arguments: EvaluationStrategy.allCases)
    func emptyNan(_ strategy: EvaluationStrategy) throws {
        let model = try NadarayaWatsonRegressor(kernel: .epanechnikov, bandwidth: .width(1), emptyPolicy: .nan, strategy: strategy)
            .fit(keys: Self.emptyKeys, values: Self.emptyValues)
        let p = try model.predict(Self.emptyQueries)
        #expect(p[0, 0].isFinite && p[1, 0].isNaN && p[2, 0].isNaN)
        let w = try model.attentionWeights(Self.emptyQueries)
        #expect(w.row(1).allSatisfy { $0.isNaN })
    }

    @Test("--empty nearest uses the scaled Euclidean distance", arguments: EvaluationStrategy.allCases)
    func emptyNearest(_ strategy: EvaluationStrategy) throws {
        // With h = (1, 4) the query (3.5, 5) is nearer key 2 (3, 3); query (−4, 0) nearer key 0.
        let model = try NadarayaWatsonRegressor(kernel: .boxcar, bandwidth: .widths([1, 4]), emptyPolicy: .nearest, strategy: strategy)
            .fit(keys: Self.emptyKeys, values: Self.emptyValues)
        let p = try model.predict(Self.emptyQueries)
        #expect(p[1, 0] == 6 && p[2, 0] == 1)
        let w = try model.attentionWeights(Self.emptyQueries)
        #expect(w.row(1) == [0, 0, 1] && w.row(2) == [1, 0, 0])
    }

    @Test("--empty mean", arguments: EvaluationStrategy.allCases)
    func emptyMean(_ strategy: EvaluationStrategy) throws {
        let model = try NadarayaWatsonRegressor(kernel: .triangular, bandwidth: .width(1), emptyPolicy: .mean, strategy: strategy)
            .fit(keys: Self.emptyKeys, values: Self.emptyValues)
        let p = try model.predict(Self.emptyQueries)
        #expect(p[1, 0] == 3 && p[2, 0] == 3)
        #expect(try model.attentionWeights(Self.emptyQueries).row(2) == [1.0 / 3, 1.0 / 3, 1.0 / 3])
    }

    @Test("--empty error names the first empty query", arguments: EvaluationStrategy.allCases)
    func emptyError(_ strategy: EvaluationStrategy) throws {
        let model = try NadarayaWatsonRegressor(kernel: .cosine, bandwidth: .width(1), emptyPolicy: .error, strategy: strategy)
            .fit(keys: Self.emptyKeys, values: Self.emptyValues)
        #expect(throws: NadarayaWatsonError.emptyNeighbourhood(query: 1)) { try model.predict(Self.emptyQueries) }
        #expect(throws: NadarayaWatsonError.emptyNeighbourhood(query: 1)) { try model.attentionWeights(Self.emptyQueries) }
    }

    // MARK: Misuse

    @Test func misuseThrowsTypedErrors() throws {
        let keys = Matrix(column: [1, 2, 3])
        let values = Matrix(column: [1, 2, 3])
        #expect(throws: NadarayaWatsonError.noKeys) {
            try NadarayaWatsonRegressor(bandwidth: .width(1)).fit(keys: Matrix(rows: 0, columns: 1), values: Matrix(rows: 0, columns: 1))
        }
        #expect(throws: NadarayaWatsonError.valueCountMismatch(keys: 3, values: 2)) {
            try NadarayaWatsonRegressor(bandwidth: .width(1)).fit(keys: keys, values: Matrix(column: [1, 2]))
        }
        #expect(throws: NadarayaWatsonError.invalidBandwidth(feature: 0, value: -1)) {
            try NadarayaWatsonRegressor(bandwidth: .width(-1)).fit(keys: keys, values: values)
        }
        #expect(throws: NadarayaWatsonError.bandwidthCountMismatch(features: 1, bandwidths: 2)) {
            try NadarayaWatsonRegressor(bandwidth: .widths([1, 2])).fit(keys: keys, values: values)
        }
        #expect(throws: NadarayaWatsonError.nonFiniteInput(matrix: .keys, row: 1, column: 0, value: .infinity)) {
            try NadarayaWatsonRegressor(bandwidth: .width(1)).fit(keys: Matrix(column: [1, .infinity]), values: Matrix(column: [1, 2]))
        }
        let model = try NadarayaWatsonRegressor(bandwidth: .width(1)).fit(keys: keys, values: values)
        #expect(throws: NadarayaWatsonError.featureCountMismatch(expected: 1, actual: 2)) { try model.predict(Matrix([[1, 2]])) }
        #expect(throws: NadarayaWatsonError.self) { try model.predict(Matrix(column: [.nan])) }
    }
}

extension NadarayaWatsonRegressorTests {
    @Test("moment states of key shards merge to the whole model's prediction (every kernel, weights, scaled values)",
          arguments: Kernel.allCases)
    func shardedStates(_ kernel: Kernel) throws {
        var rng = SeededGenerator(seed: 4242)
        let n = 301, d = 2
        let keys = Matrix.random(rows: n, columns: d, in: 0...3, using: &rng)
        // Two value columns, one of them huge (pooled as v / 2ᵏ inside, multiplied back here).
        var values = Matrix.random(rows: n, columns: 2, in: -1...1, using: &rng)
        for i in 0..<n { values[i, 1] *= 1e200 }
        let weights = (0..<n).map { _ in Double(Int.random(in: 0...3, using: &rng)) }
        let queries = Matrix.random(rows: 53, columns: d, in: -0.5...3.5, using: &rng)
        for sampleWeights in [nil, weights] {
            let estimator = NadarayaWatsonRegressor(kernel: kernel, bandwidth: .widths([0.7, 0.9]), emptyPolicy: .nan, threads: 2)
            let whole = try estimator.fit(keys: keys, values: values, sampleWeights: sampleWeights)
            let cut = 120
            func shard(_ rows: Range<Int>) throws -> [MomentState] {
                let part = Matrix(rows: rows.count, columns: d, elements: Array(keys.elements[rows.lowerBound * d ..< rows.upperBound * d]))
                let v = Matrix(rows: rows.count, columns: 2, elements: Array(values.elements[rows.lowerBound * 2 ..< rows.upperBound * 2]))
                return try estimator.fit(keys: part, values: v, sampleWeights: sampleWeights.map { Array($0[rows]) }).momentStates(queries)
            }
            let (a, b) = (try shard(0..<cut), try shard(cut..<n))
            let expected = try whole.predict(queries)
            let own = try whole.momentStates(queries)
            for i in 0..<queries.rows {
                let merged = MomentState.merge(a[i], b[i])
                let estimate = FittedNadarayaWatsonRegressor.estimate(from: merged)
                #expect((estimate == nil) == expected[i, 0].isNaN, "query \(i)")
                guard let estimate else { continue }
                for c in 0..<2 {
                    let scale = c == 0 ? 1 : 1e200
                    #expect(abs(estimate[c] - expected[i, c]) <= 1e-13 * scale, "\(kernel) query \(i) column \(c)")
                    #expect(abs(FittedNadarayaWatsonRegressor.estimate(from: own[i])![c] - expected[i, c]) <= 1e-13 * scale)
                }
            }
        }
    }

    @Test("the fused Gaussian engine's pooling states equal the plain engine's", arguments: [(1, 1), (2, 3), (17, 1)])
    func fusedStates(_ d: Int, _ p: Int) {
        var rng = SeededGenerator(seed: UInt64(d * 7 + p))
        let n = 205, m = 37
        let keys = Matrix.random(rows: n, columns: d, in: 0...4, using: &rng)
        let values = Matrix.random(rows: n, columns: p, in: -2...2, using: &rng)
        var queries = Matrix.random(rows: m, columns: d, in: -1...5, using: &rng)
        for j in 0..<d { queries[m - 1, j] = 1e200 } // beyond the fast path: redone plainly
        let problem = AttentionProblem(kernel: .gaussian, form: .radial, keys: keys, bandwidths: Array(repeating: 0.6, count: d),
                                       values: .dense(values))
        #expect(Engine.choose(for: MomentProblem.pooling(problem)) == .gaussian)
        let fused = MomentEngine.states(.pooling(problem), queries: queries, threads: 2)
        let plain = MomentEngine.plainStates(.pooling(problem), queries: queries, index: nil, threads: 1, only: nil)
        for i in 0..<m {
            let a = fused.state(i), b = plain.state(i)
            #expect(a.isEmpty == b.isEmpty)
            guard !b.isEmpty else { continue }
            for c in 0...p {
                let x = a.sums[c] * exp(a.shift - b.shift), y = b.sums[c]
                #expect(abs(x - y) <= 1e-12 * b.sums[0] * 2, "i=\(i) c=\(c): \(x) vs \(y)")
            }
        }
    }
}
