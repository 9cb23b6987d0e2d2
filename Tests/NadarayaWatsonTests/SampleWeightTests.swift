import Foundation
import Testing
@testable import NadarayaWatson

/// Frequency weights across the estimators: integer weights equal repeated rows wherever no row
/// is left out; leave-one-out estimators leave the whole row out.
@Suite("Sample weights")
struct SampleWeightTests {
    static let keys = Matrix(column: [0.1, 0.5, 0.9, 1.4, 2.0, 2.2, 3.1])
    static let targets: [Double] = [1, 3, 2, 5, 4, 4.5, 7]
    static let weights: [Double] = [2, 0, 1, 3, 1, 2, 1]

    static func repeated() -> (keys: Matrix, targets: [Double]) {
        var x: [Double] = [], y: [Double] = []
        for i in 0..<keys.rows { for _ in 0..<Int(weights[i]) { x.append(keys[i, 0]); y.append(targets[i]) } }
        return (Matrix(column: x), y)
    }

    @Test("Nadaraya–Watson regression, classification and weights: repeated rows", arguments: Kernel.allCases)
    func nadarayaWatson(_ kernel: Kernel) throws {
        let (x, y) = Self.repeated()
        let queries = Matrix(column: [-0.5, 0.3, 1.0, 1.9, 2.9, 5])
        for precision in [Precision.double, .single] {
            let model = NadarayaWatsonRegressor(kernel: kernel, bandwidth: .width(0.7), emptyPolicy: .mean, precision: precision)
            let a = try model.fit(keys: Self.keys, values: Matrix(column: Self.targets), sampleWeights: Self.weights).predict(queries)
            let b = try model.fit(keys: x, values: Matrix(column: y)).predict(queries)
            #expect(relativeError(a, b) <= (precision == .double ? 1e-13 : 1e-5), "\(kernel) \(precision)")
        }
        let labels = Self.targets.map { $0 > 3 ? "high" : "low" }, repeatedLabels = y.map { $0 > 3 ? "high" : "low" }
        let classifier = NadarayaWatsonClassifier(kernel: kernel, bandwidth: .width(0.7), emptyPolicy: .nearest)
        let p = try classifier.fit(keys: Self.keys, labels: labels, sampleWeights: Self.weights).probabilities(queries)
        let q = try classifier.fit(keys: x, labels: repeatedLabels).probabilities(queries)
        #expect(relativeError(p, q) <= 1e-13, "\(kernel)")
        // Attention weights: one column per TRAIN row, 0 for the row of weight 0.
        let w = try NadarayaWatsonRegressor(kernel: kernel, bandwidth: .width(0.7), emptyPolicy: .mean)
            .fit(keys: Self.keys, values: Matrix(column: Self.targets), sampleWeights: Self.weights).attentionWeights(queries)
        #expect(w.columns == Self.keys.rows)
        for i in 0..<w.rows {
            #expect(w[i, 1] == 0)
            #expect(abs(w.row(i).reduce(0, +) - 1) <= 1e-12)
        }
    }

    @Test("densities and rules of thumb: repeated rows", arguments: [Kernel.gaussian, .epanechnikov, .laplacian])
    func density(_ kernel: Kernel) throws {
        let (x, _) = Self.repeated()
        let points = Matrix(column: [0, 0.7, 1.5, 2.5, 9])
        for bandwidth in [Bandwidth.width(0.6), .scott, .silverman] {
            let a = try ParzenDensity(kernel: kernel, bandwidth: bandwidth).fit(samples: Self.keys, sampleWeights: Self.weights)
            let b = try ParzenDensity(kernel: kernel, bandwidth: bandwidth).fit(samples: x)
            #expect(abs(a.bandwidths[0] - b.bandwidths[0]) <= 1e-14 * b.bandwidths[0], "\(kernel) \(bandwidth)")
            let pa = try a.density(points), pb = try b.density(points)
            for (u, v) in zip(pa, pb) { #expect(abs(u - v) <= 1e-13 * max(1e-300, v), "\(kernel) \(bandwidth): \(u) vs \(v)") }
        }
    }

    @Test("weighted quantiles of type 7 equal those of the repeated sample")
    func quantiles() {
        let x: [Double] = [1, 2, 4, 7, 11], s: [Double] = [3, 1, 2, 1, 4]
        let expanded = zip(x, s).flatMap { Array(repeating: $0, count: Int($1)) }
        for p in stride(from: 0.0, through: 1.0, by: 0.05) {
            #expect(abs(Statistics.weightedQuantile(sorted: x, weights: s, p) - Statistics.quantile(sorted: expanded, p)) <= 1e-14)
        }
    }

    @Test("weighted training: the loss and its gradient against a plain implementation and central differences")
    func training() throws {
        let x = Self.keys, y = Self.targets
        let s: [Double] = [2, 0.5, 1, 3, 1, 2, 1.5]
        func plainLoss(_ w: Double) -> Double {
            var loss = 0.0
            for i in 0..<x.rows {
                var num = 0.0, den = 0.0
                for j in 0..<x.rows where j != i {
                    let a = s[j] * exp(-0.5 * pow((x[i, 0] - x[j, 0]) * w, 2))
                    num += a * y[j]
                    den += a
                }
                loss += s[i] * 0.5 * pow(num / den - y[i], 2)
            }
            return loss
        }
        for w in [0.7, 1.9, 4.0] {
            let r = ParametricAttentionPooling.loss(keys: x, targets: y, scales: [w], sampleWeights: s)
            #expect(abs(r.loss - plainLoss(w)) <= 1e-12 * plainLoss(w))
            let step = 1e-6
            let numeric = (plainLoss(w + step) - plainLoss(w - step)) / (2 * step)
            #expect(abs(r.gradient[0] - numeric) <= 1e-6 * max(1, abs(numeric)), "w = \(w): \(r.gradient[0]) vs \(numeric)")
        }
        // Weight 0 removes the row from training and from the model's keys.
        var zeroed = s
        zeroed[3] = 0
        let model = try ParametricAttentionPooling(epochs: 4).fit(keys: x, targets: y, sampleWeights: zeroed)
        let without = try ParametricAttentionPooling(epochs: 4)
            .fit(keys: Matrix(column: (0..<7).filter { $0 != 3 }.map { x[$0, 0] }), targets: (0..<7).filter { $0 != 3 }.map { y[$0] },
                 sampleWeights: (0..<7).filter { $0 != 3 }.map { s[$0] })
        #expect(model.scales == without.scales)
    }
}
