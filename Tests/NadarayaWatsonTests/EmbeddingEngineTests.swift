import Foundation
import Testing
@testable import NadarayaWatson

@Suite("EmbeddingEngine")
struct EmbeddingEngineTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let n: Int, m: Int, d: Int, p: Int, kernel: Kernel
        var testDescription: String { "\(kernel) n=\(n) m=\(m) d=\(d) p=\(p)" }
    }

    /// d ∈ {31, 64, 257}: below, at and past the Gaussian's threshold (31 is `dot` only) and not
    /// multiples of the micro-tile (6 or 12 queries × 8…32 keys) or the query block.
    static let cases: [Case] = [31, 64, 257].flatMap { d in
        [(1, 1, 1), (37, 29, 1), (389, 101, 3)].flatMap { size in
            [Kernel.dot, .gaussian].map { Case(n: size.0, m: size.1, d: d, p: size.2, kernel: $0) }
        }
    }

    /// Embedding-like data: coordinates in [−1, 1]; widths around d^¼ (dot: a Transformer's
    /// temperature) or √d/2 (Gaussian: a typical distance), so the weights are neither uniform
    /// nor one-hot.
    static func data(_ c: Case, seed: UInt64 = 5) -> (keys: Matrix, values: Matrix, queries: Matrix, h: [Double]) {
        var rng = SeededGenerator(seed: seed &+ UInt64(c.n * 1000 + c.d))
        let keys = Matrix.random(rows: c.n, columns: c.d, in: -1...1, using: &rng)
        let values = Matrix.random(rows: c.n, columns: c.p, in: -10...10, using: &rng)
        let queries = Matrix.random(rows: c.m, columns: c.d, in: -1...1, using: &rng)
        let base = c.kernel == .dot ? 0.5 * pow(Double(c.d), 0.25) : 0.25 * Double(c.d).squareRoot()
        let h = (0..<c.d).map { _ in base * Double.random(in: 0.7...1.4, using: &rng) }
        return (keys, values, queries, h)
    }

    func predict(_ c: Case, _ data: (keys: Matrix, values: Matrix, queries: Matrix, h: [Double]),
                 strategy: EvaluationStrategy, precision: Precision = .double, threads: Int? = nil) throws -> Matrix {
        try NadarayaWatsonRegressor(kernel: c.kernel, bandwidth: .widths(data.h), strategy: strategy, precision: precision,
                                    threads: threads)
            .fit(keys: data.keys, values: data.values).predict(data.queries)
    }

    @Test("the engine is chosen for dot at every d and for the Gaussian from d = 32")
    func choice() {
        for d in [1, 16, 31, 32, 257] {
            let keys = Matrix(rows: 3, columns: d, elements: Array(repeating: 0.5, count: 3 * d))
            for kernel in [Kernel.dot, .gaussian] {
                let problem = AttentionProblem(kernel: kernel, form: .radial, keys: keys,
                                               bandwidths: Array(repeating: 1, count: d), values: .dense(Matrix(column: [1, 2, 3])))
                let expected = kernel == .dot || d >= 32
                #expect((Engine.choose(for: problem, task: .pool) == .embedding) == expected)
            }
        }
    }

    @Test("float64 matches the reference to 1e-12 (and the reference the written-out formula)", arguments: cases)
    func doubleMatchesReference(_ c: Case) throws {
        let data = Self.data(c)
        let reference = try predict(c, data, strategy: .reference)
        let fast = try predict(c, data, strategy: .vectorized)
        #expect(relativeError(fast, reference) < 1e-12)
        let plain = c.kernel == .dot
            ? plainDotPooling(keys: data.keys, values: data.values, bandwidths: data.h, queries: data.queries)
            : plainNadarayaWatson(kernel: .gaussian, form: .radial, keys: data.keys, values: data.values, bandwidths: data.h,
                                  queries: data.queries).predictions
        #expect(relativeError(reference, plain) < 1e-12)
    }

    @Test("float32 matches the reference to 1e-4 of max |y|", arguments: cases)
    func singleMatchesReference(_ c: Case) throws {
        let data = Self.data(c)
        let reference = try predict(c, data, strategy: .reference)
        let fast = try predict(c, data, strategy: .vectorized, precision: .single)
        #expect(relativeError(fast, reference) < 1e-4)
    }

    @Test("results do not depend on the thread count (bit for bit)")
    func threadCount() throws {
        let c = Case(n: 389, m: 301, d: 64, p: 2, kernel: .dot)
        let data = Self.data(c)
        let one = try predict(c, data, strategy: .vectorized, threads: 1)
        let two = try predict(c, data, strategy: .vectorized, threads: 2)
        #expect(one.elements == two.elements)
    }

    /// Keys 10⁻⁶ from a query of norm 10³ with a width of 10⁻⁶: ‖q′‖² ≈ 10¹⁸ while the
    /// distances that matter are ~1, so the norm form ‖q′‖² + ‖k′‖² − 2q′·k′ would lose all of
    /// them. Far keys on the other side keep the keys' mean (the centre) away from the query.
    @Test("cancellation: near keys far from the origin stay exact to 1e-12")
    func cancellation() throws {
        var rng = SeededGenerator(seed: 11)
        let d = 64, near = 150, far = 50, m = 9
        let direction = (0..<d).map { _ in Double.random(in: 0.5...1.5, using: &rng) }
        let norm = direction.reduce(0) { $0 + $1 * $1 }.squareRoot()
        let q0 = direction.map { 1e3 * $0 / norm }
        var keys = Matrix(rows: near + far, columns: d), queries = Matrix(rows: m, columns: d)
        for k in 0..<near { for j in 0..<d { keys[k, j] = q0[j] + 1e-6 * Double.random(in: -0.3...0.3, using: &rng) } }
        for k in near..<(near + far) { for j in 0..<d { keys[k, j] = -3 * q0[j] + Double.random(in: -1...1, using: &rng) } }
        for i in 0..<m { for j in 0..<d { queries[i, j] = q0[j] + 1e-6 * Double.random(in: -0.3...0.3, using: &rng) } }
        let values = Matrix(column: (0..<(near + far)).map { _ in Double.random(in: -10...10, using: &rng) })
        let h = Array(repeating: 1e-6, count: d)
        let data = (keys, values, queries, h)
        let c = Case(n: near + far, m: m, d: d, p: 1, kernel: .gaussian)
        let reference = try predict(c, data, strategy: .reference)
        let fast = try predict(c, data, strategy: .vectorized)
        #expect(relativeError(fast, reference) < 1e-12)
        // The weights are far from one-hot, so the test can fail.
        let spread = reference.elements.max()! - reference.elements.min()!
        #expect(spread > 0.1)
    }

    /// On unit vectors with equal widths, q·k/h² = (1 − ‖q − k‖²/2)/h²: dot = gaussian.
    @Test("the unit-sphere identity: dot with width h is the Gaussian with width h")
    func unitSphere() throws {
        var rng = SeededGenerator(seed: 3)
        func unitRows(_ rows: Int, _ d: Int) -> Matrix {
            var x = Matrix.random(rows: rows, columns: d, in: -1...1, using: &rng)
            for i in 0..<rows {
                let norm = (0..<d).reduce(0.0) { $0 + x[i, $1] * x[i, $1] }.squareRoot()
                for j in 0..<d { x[i, j] /= norm }
            }
            return x
        }
        for d in [3, 40] {
            let keys = unitRows(211, d), queries = unitRows(23, d)
            let values = Matrix(column: (0..<211).map { _ in Double.random(in: -5...5, using: &rng) })
            for h in [0.2, 0.7] {
                for strategy in [EvaluationStrategy.reference, .vectorized] {
                    let dot = try NadarayaWatsonRegressor(kernel: .dot, bandwidth: .width(h), strategy: strategy)
                        .fit(keys: keys, values: values).predict(queries)
                    let gaussian = try NadarayaWatsonRegressor(kernel: .gaussian, bandwidth: .width(h), strategy: strategy)
                        .fit(keys: keys, values: values).predict(queries)
                    #expect(relativeError(dot, gaussian) < 1e-12)
                }
            }
        }
    }

    /// The states the cross-validation sums use: per-key log weights (tied-key counts) and
    /// leave-one-out, against the plain engine.
    @Test("leave-one-out states with log weights match the plain engine", arguments: [Kernel.dot, .gaussian])
    func leaveOneOutStates(_ kernel: Kernel) throws {
        let c = Case(n: 157, m: 157, d: 40, p: 2, kernel: kernel)
        let data = Self.data(c)
        var rng = SeededGenerator(seed: 9)
        let logWeights = (0..<c.n).map { _ in Double.log(Double(Int.random(in: 1...4, using: &rng))) }
        let attention = AttentionProblem(kernel: kernel, form: .radial, keys: data.keys, bandwidths: data.h,
                                         values: .dense(data.values))
        let problem = MomentProblem(attention: attention, logWeights: logWeights,
                                    moments: .pooling(dimension: c.d, width: c.p), leaveOneOut: true)
        #expect(Engine.choose(for: problem) == .embedding)
        let fast = EmbeddingEngine.states(problem, queries: data.keys, threads: 2)
        let plain = MomentEngine.plainStates(problem, queries: data.keys, index: nil, threads: 1, only: nil)
        for i in 0..<c.n {
            let a = fast.state(i), b = plain.state(i)
            // Same log total (shift + ln S) and the same ratios T/S.
            let logA = a.shift + Double.log(a.sums[0]), logB = b.shift + Double.log(b.sums[0])
            #expect(abs(logA - logB) < 1e-12 * max(1, abs(logB)))
            for col in 1...c.p { #expect(abs(a.sums[col] / a.sums[0] - b.sums[col] / b.sums[0]) < 1e-11) }
        }
    }

    @Test("dot classification probabilities match the reference")
    func classification() throws {
        var rng = SeededGenerator(seed: 8)
        let keys = Matrix.random(rows: 203, columns: 48, in: -1...1, using: &rng)
        let labels = (0..<203).map { _ in String(Int.random(in: 0..<5, using: &rng)) }
        let queries = Matrix.random(rows: 37, columns: 48, in: -1...1, using: &rng)
        let reference = try NadarayaWatsonClassifier(kernel: .dot, bandwidth: .width(1.2), strategy: .reference)
            .fit(keys: keys, labels: labels).probabilities(queries)
        let fast = try NadarayaWatsonClassifier(kernel: .dot, bandwidth: .width(1.2), strategy: .vectorized)
            .fit(keys: keys, labels: labels).probabilities(queries)
        #expect(relativeError(fast, reference) < 1e-13)
    }
}
