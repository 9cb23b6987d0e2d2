import Foundation
import Testing
@testable import NadarayaWatson

@Suite("SmoothKernelEngine")
struct SmoothKernelEngineTests {
    static let kernels: [Kernel] = [.logistic, .cauchy, .laplacian]

    struct Case: CustomTestStringConvertible, Sendable {
        let kernel: Kernel, n: Int, m: Int, d: Int, p: Int, seed: UInt64
        var testDescription: String { "\(kernel) n=\(n) m=\(m) d=\(d) p=\(p) seed=\(seed)" }
    }

    /// Sizes that are not multiples of the SIMD width, the register block or the query block.
    static let cases: [Case] = kernels.flatMap { kernel in
        [1, 2, 5, 17].flatMap { d in
            [(1, 1, 1), (29, 67, 1), (133, 70, 2), (1031, 37, 1)].map { size in
                Case(kernel: kernel, n: size.0, m: size.1, d: d, p: size.2, seed: UInt64(d * 100 + size.0))
            }
        }
    }

    static func data(_ c: Case) -> (keys: Matrix, values: Matrix, queries: Matrix, h: [Double]) {
        // Down to narrow widths, so far keys underflow linear space.
        engineTestData(n: c.n, m: c.m, d: c.d, p: c.p, seed: c.seed, widths: 0.05...2)
    }

    @Test("vectorized double matches the reference to 1e-12, both forms", arguments: cases)
    func doubleMatchesReference(_ c: Case) throws {
        let (keys, values, queries, h) = Self.data(c)
        for form in KernelForm.allCases {
            let reference = try NadarayaWatsonRegressor(kernel: c.kernel, form: form, bandwidth: .widths(h), strategy: .reference)
                .fit(keys: keys, values: values).predict(queries)
            let fast = try NadarayaWatsonRegressor(kernel: c.kernel, form: form, bandwidth: .widths(h), strategy: .vectorized)
                .fit(keys: keys, values: values).predict(queries)
            #expect(relativeError(fast, reference) < 1e-12, "\(form)")
        }
    }

    @Test("vectorized single matches the reference to 1e-4 of max |y|", arguments: cases)
    func singleMatchesReference(_ c: Case) throws {
        let (keys, values, queries, h) = Self.data(c)
        for form in KernelForm.allCases {
            let reference = try NadarayaWatsonRegressor(kernel: c.kernel, form: form, bandwidth: .widths(h), strategy: .reference)
                .fit(keys: keys, values: values).predict(queries)
            let fast = try NadarayaWatsonRegressor(kernel: c.kernel, form: form, bandwidth: .widths(h), strategy: .vectorized,
                                                   precision: .single)
                .fit(keys: keys, values: values).predict(queries)
            #expect(relativeError(fast, reference) < 1e-4, "\(form)")
        }
    }

    @Test("queries whose weights all underflow linear space are redone exactly",
          arguments: [Precision.double, .single])
    func tinyWeights(_ precision: Precision) throws {
        // At 800 widths a laplacian weight is e^(−800) ≈ 10^(−348): zero in linear space; in log
        // space the nearest key dominates by e^(−1) per width.
        let keys = Matrix(column: [0, 1, 2.5])
        let values = Matrix(column: [1, 2, 3])
        for kernel in Self.kernels {
            let queries = Matrix(column: [-800, 802.5, 1e6, -1e300, 1.2])
            let reference = try NadarayaWatsonRegressor(kernel: kernel, bandwidth: .width(1), strategy: .reference)
                .fit(keys: keys, values: values).predict(queries)
            let fast = try NadarayaWatsonRegressor(kernel: kernel, bandwidth: .width(1), strategy: .vectorized, precision: precision)
                .fit(keys: keys, values: values).predict(queries)
            #expect(fast.elements.allSatisfy { $0.isFinite }, "\(kernel)")
            // Far laplacian and logistic queries fall back to the exact engine, so even float mode
            // matches to 1e-12 there; cauchy weights (≈ r⁻²) stay representable in float.
            let far = precision == .double || kernel != .cauchy ? 1e-12 : 1e-5
            for i in 0..<4 { #expect(abs(fast[i, 0] - reference[i, 0]) <= far * 3, "\(kernel) query \(i)") }
            #expect(abs(fast[4, 0] - reference[4, 0]) <= (precision == .double ? 1e-12 : 1e-5) * 3, "\(kernel)")
        }
    }

    @Test("classification probabilities match the reference", arguments: kernels)
    func classification(_ kernel: Kernel) throws {
        var rng = SeededGenerator(seed: 5)
        let keys = Matrix.random(rows: 101, columns: 2, in: 0...4, using: &rng)
        let labels = (0..<101).map { _ in ["a", "b", "c"].randomElement(using: &rng)! }
        let queries = Matrix.random(rows: 37, columns: 2, in: -1...5, using: &rng)
        let reference = try NadarayaWatsonClassifier(kernel: kernel, bandwidth: .width(0.6), strategy: .reference)
            .fit(keys: keys, labels: labels).probabilities(queries)
        let fast = try NadarayaWatsonClassifier(kernel: kernel, bandwidth: .width(0.6), strategy: .vectorized)
            .fit(keys: keys, labels: labels).probabilities(queries)
        #expect(relativeError(fast, reference) < 1e-12)
    }

    @Test("identical results for 1 and 3 threads", arguments: kernels)
    func threads(_ kernel: Kernel) throws {
        var rng = SeededGenerator(seed: 23)
        let keys = Matrix.random(rows: 517, columns: 3, in: 0...5, using: &rng)
        let values = Matrix.random(rows: 517, columns: 1, in: 0...1, using: &rng)
        let queries = Matrix.random(rows: 301, columns: 3, in: 0...5, using: &rng)
        for precision in [Precision.double, .single] {
            var estimator = NadarayaWatsonRegressor(kernel: kernel, bandwidth: .width(0.4), strategy: .vectorized,
                                                    precision: precision, threads: 1)
            let one = try estimator.fit(keys: keys, values: values).predict(queries)
            estimator.threads = 3
            #expect(try estimator.fit(keys: keys, values: values).predict(queries).elements == one.elements)
        }
    }
}
