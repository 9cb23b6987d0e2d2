import Foundation
import Testing
@testable import NadarayaWatson

@Suite("AdaptiveBandwidth")
struct AdaptiveBandwidthTests {
    /// The adaptive estimator written out plainly: pilot sums Sᵢ = Σⱼ α(xᵢ, xⱼ), λᵢ = √(g/Sᵢ),
    /// weights λᵢ^{−d} α((q − xᵢ)/(λᵢh)), all in linear space.
    static func plainAdaptive(kernel: Kernel, form: KernelForm, keys: Matrix, values: [Double], h: [Double], queries: Matrix)
        -> (lambda: [Double], predictions: [Double]) {
        let n = keys.rows, d = keys.columns
        func alpha(_ q: [Double], _ k: Int, _ lambda: Double) -> Double {
            let u = (0..<d).map { (q[$0] - keys[k, $0]) / (h[$0] * lambda) }
            switch form {
            case .radial: return plainProfile(kernel, sqrt(u.map { $0 * $0 }.reduce(0, +)))
            case .product: return u.map { plainProfile(kernel, $0) }.reduce(1, *)
            }
        }
        let sums = (0..<n).map { i in (0..<n).map { alpha(keys.row(i), $0, 1) }.reduce(0, +) }
        let g = exp(sums.map { log($0) }.reduce(0, +) / Double(n))
        let lambda = sums.map { sqrt(g / $0) }
        let predictions = (0..<queries.rows).map { i -> Double in
            let w = (0..<n).map { k in alpha(queries.row(i), k, lambda[k]) / pow(lambda[k], Double(d)) }
            return zip(w, values).map(*).reduce(0, +) / w.reduce(0, +)
        }
        return (lambda, predictions)
    }

    @Test("matches the plain per-key-width estimator, 1/hᵢᵈ factor included",
          arguments: [Kernel.gaussian, .epanechnikov, .cauchy, .laplacian])
    func matchesPlain(_ kernel: Kernel) throws {
        for d in [1, 2] {
            var rng = SeededGenerator(seed: UInt64(100 + d))
            // A dense cluster and a sparse tail, so the λᵢ differ a lot.
            let dense = Matrix.random(rows: 40, columns: d, in: 0...1, using: &rng)
            let sparse = Matrix.random(rows: 10, columns: d, in: 1...6, using: &rng)
            let keys = Matrix(rows: 50, columns: d, elements: dense.elements + sparse.elements)
            let values = (0..<50).map { i in sin(keys[i, 0]) + Double.random(in: -0.2...0.2, using: &rng) }
            let queries = Matrix.random(rows: 23, columns: d, in: 0...6, using: &rng)
            let h = (0..<d).map { 0.9 + 0.3 * Double($0) }
            for form in KernelForm.allCases {
                let plain = Self.plainAdaptive(kernel: kernel, form: form, keys: keys, values: values, h: h, queries: queries)
                var estimator = NadarayaWatsonRegressor(kernel: kernel, form: form, bandwidth: .widths(h), emptyPolicy: .nan)
                estimator.adaptive = true
                let model = try estimator.fit(keys: keys, values: Matrix(column: values))
                let lambda = try #require(model.localWidthFactors)
                #expect(relativeError(Matrix(column: lambda), Matrix(column: plain.lambda)) < 1e-12, "d=\(d) \(form)")
                let predicted = try model.predict(queries).elements
                for i in 0..<queries.rows where !plain.predictions[i].isNaN {
                    #expect(abs(predicted[i] - plain.predictions[i]) < 1e-12 * max(1, abs(plain.predictions[i])), "d=\(d) \(form) query \(i)")
                }
                // The sparse tail gets wider kernels than the dense cluster.
                #expect(lambda[40...].min()! > lambda[..<40].max()!, "d=\(d) \(form)")
                // Geometric mean 1.
                #expect(abs(lambda.map { log($0) }.reduce(0, +) / 50) < 1e-12)
            }
        }
    }

    @Test("on data of uniform density the adaptive estimator is the fixed-width one", arguments: [Kernel.gaussian, .biweight, .logistic])
    func uniformDensity(_ kernel: Kernel) throws {
        // Points evenly spaced on a circle: every point sees the same distances to the others.
        let n = 60
        let keys = Matrix((0..<n).map { i -> [Double] in
            let t = 2 * Double.pi * Double(i) / Double(n)
            return [3 * cos(t), 3 * sin(t)]
        })
        let values = Matrix(column: (0..<n).map { sin(3 * Double($0)) })
        var rng = SeededGenerator(seed: 9)
        let queries = Matrix.random(rows: 40, columns: 2, in: -4...4, using: &rng)
        var estimator = NadarayaWatsonRegressor(kernel: kernel, bandwidth: .width(1.1), emptyPolicy: .mean)
        let fixed = try estimator.fit(keys: keys, values: values).predict(queries)
        estimator.adaptive = true
        let model = try estimator.fit(keys: keys, values: values)
        #expect(model.localWidthFactors!.allSatisfy { abs($0 - 1) < 1e-13 })
        #expect(relativeError(try model.predict(queries), fixed) < 1e-12)
    }

    @Test("classifier and weights honour adaptive widths; rows of weights sum to 1")
    func classifierAndWeights() throws {
        var rng = SeededGenerator(seed: 12)
        let keys = Matrix.random(rows: 30, columns: 1, in: 0...3, using: &rng)
        let labels = (0..<30).map { keys[$0, 0] > 1.5 ? "b" : "a" }
        var classifier = NadarayaWatsonClassifier(bandwidth: .width(0.4))
        classifier.adaptive = true
        let model = try classifier.fit(keys: keys, labels: labels)
        let queries = Matrix(column: [0.2, 1.5, 2.9])
        let p = try model.probabilities(queries)
        let w = try model.attentionWeights(queries)
        for i in 0..<3 {
            #expect(abs(w.row(i).reduce(0, +) - 1) < 1e-12)
            let pb = (0..<30).filter { labels[$0] == "b" }.map { w[i, $0] }.reduce(0, +)
            #expect(abs(pb - p[i, model.classes.firstIndex(of: "b")!]) < 1e-12)
        }
    }
}
