import Foundation
import Testing
@testable import NadarayaWatson

/// The dot kernel's parametric model written plainly: for each point the n logits w²·xᵢ·xⱼ
/// (own key masked unless `includeSelf`) plus ln sⱼ, a max-shifted softmax, the loss, and the
/// derivative by the chain rule term by term: ∂fᵢ/∂w = Σⱼ aᵢⱼ (yⱼ − fᵢ)·2w·xᵢ·xⱼ.
func plainDotLeaveOneOut(x: [[Double]], y: [Double], w: Double, weights s: [Double]?, includeSelf: Bool)
    -> (loss: Double, derivative: Double, predictions: [Double]) {
    let n = x.count
    var loss = 0.0, derivative = 0.0
    var predictions = [Double](repeating: 0, count: n)
    for i in 0..<n {
        let g = (0..<n).map { j in zip(x[i], x[j]).map(*).reduce(0, +) }
        var logits = [Double](repeating: -.infinity, count: n)
        for j in 0..<n where includeSelf || j != i { logits[j] = w * w * g[j] + log(s?[j] ?? 1) }
        let top = logits.max()!
        let e = logits.map { exp($0 - top) }
        let total = e.reduce(0, +)
        let a = e.map { $0 / total }
        let f = zip(a, y).map(*).reduce(0, +)
        predictions[i] = f
        let si = s?[i] ?? 1
        loss += si * 0.5 * (f - y[i]) * (f - y[i])
        var df = 0.0
        for j in 0..<n where a[j] > 0 { df += a[j] * (y[j] - f) * 2 * w * g[j] }
        derivative += si * (f - y[i]) * df
    }
    return (loss, derivative, predictions)
}

@Suite("DotTraining")
struct DotTrainingTests {
    /// n points in d features, coordinates of a scale that keeps the logits w²·xᵢ·xⱼ of order 1–10.
    static func data(n: Int, d: Int, seed: UInt64) -> (keys: Matrix, targets: [Double], weights: [Double]) {
        var rng = SeededGenerator(seed: seed)
        let spread = d > 10 ? 0.5 : 1.0
        let keys = Matrix.random(rows: n, columns: d, in: -spread...spread, using: &rng)
        let targets = (0..<n).map { 2 * sin(3 * keys[$0, 0]) + keys[$0, 1] + Double.random(in: -0.3...0.3, using: &rng) }
        let weights = (0..<n).map { _ in Double.random(in: 0.25...3, using: &rng) }
        return (keys, targets, weights)
    }

    static func relative(_ a: Double, _ b: Double) -> Double { abs(a - b) / max(abs(b), 1e-300) }

    @Test("loss, derivative and predictions match the plain n × n implementation",
          arguments: [(3, 1.3), (3, -0.6), (40, 2.1), (40, 0.9)])
    func matchesPlain(_ d: Int, _ w: Double) {
        let (keys, y, s) = Self.data(n: 53, d: d, seed: UInt64(d))
        let rows = (0..<keys.rows).map { keys.row($0) }
        for weighted in [false, true] {
            for includeSelf in [false, true] {
                let weights = weighted ? s : nil
                let fast = ParametricAttentionPooling.loss(kernel: .dot, keys: keys, targets: y, scales: [w],
                                                           includeSelf: includeSelf, sampleWeights: weights)
                let plain = plainDotLeaveOneOut(x: rows, y: y, w: w, weights: weights, includeSelf: includeSelf)
                let label = "d=\(d) w=\(w) weighted=\(weighted) self=\(includeSelf)"
                #expect(Self.relative(fast.loss, plain.loss) <= 1e-12, "\(label): \(fast.loss) vs \(plain.loss)")
                let worst = zip(fast.predictions, plain.predictions).map { abs($0 - $1) / max(1, abs($1)) }.max()!
                #expect(worst <= 1e-12, "\(label): predictions off by \(worst)")
                #expect(fast.gradient.count == 1)
                #expect(Self.relative(fast.gradient[0], plain.derivative) <= 1e-10,
                        "\(label): \(fast.gradient[0]) vs \(plain.derivative)")
            }
        }
    }

    @Test("the derivative matches central finite differences; L is even in w, dL/dw odd",
          arguments: [(3, 0.4), (3, 1.3), (3, 2.2), (40, 0.8), (40, 2.1)])
    func derivativeMatchesFiniteDifferences(_ d: Int, _ w: Double) {
        let (keys, y, s) = Self.data(n: 61, d: d, seed: UInt64(100 + d))
        for weights in [nil, s] {
            for includeSelf in [false, true] {
                func loss(_ w: Double) -> Double {
                    ParametricAttentionPooling.loss(kernel: .dot, keys: keys, targets: y, scales: [w],
                                                    includeSelf: includeSelf, sampleWeights: weights).loss
                }
                let analytic = ParametricAttentionPooling.loss(
                    kernel: .dot, keys: keys, targets: y, scales: [w], includeSelf: includeSelf, sampleWeights: weights
                ).gradient[0]
                let step = 1e-5 * max(1, abs(w))
                let numeric = (loss(w + step) - loss(w - step)) / (2 * step)
                #expect(abs(analytic - numeric) <= 1e-6 * max(1, abs(numeric)),
                        "d=\(d) w=\(w) self=\(includeSelf): \(analytic) vs \(numeric)")
                let mirrored = ParametricAttentionPooling.loss(kernel: .dot, keys: keys, targets: y, scales: [-w],
                                                               includeSelf: includeSelf, sampleWeights: weights)
                #expect(mirrored.loss == loss(w) && mirrored.gradient[0] == -analytic)
            }
        }
    }

    @Test("where every logit overflows the prediction is the softmax's limit: the largest products' targets")
    func hardAttentionLimit() {
        let (keys, y, _) = Self.data(n: 9, d: 2, seed: 7)
        let r = ParametricAttentionPooling.loss(kernel: .dot, keys: keys, targets: y, scales: [1e160])
        let expected = (0..<9).map { i in
            let others = (0..<9).filter { $0 != i }
            let best = others.max { a, b in
                keys[i, 0] * keys[a, 0] + keys[i, 1] * keys[a, 1] < keys[i, 0] * keys[b, 0] + keys[i, 1] * keys[b, 1]
            }!
            return y[best]
        }
        #expect(r.predictions == expected)
        #expect(r.loss.isFinite && r.gradient == [0])
    }

    @Test("training lowers the loss; the model predicts as NadarayaWatsonRegressor(kernel: .dot) with h = 1/|w|",
          arguments: [3, 40])
    func trainingAndPrediction(_ d: Int) throws {
        let (keys, y, s) = Self.data(n: 80, d: d, seed: UInt64(200 + d))
        for weights in [nil, s] {
            let trainer = ParametricAttentionPooling(kernel: .dot, initialScale: 0.3, epochs: 30, learningRate: 0.1,
                                                     optimizer: .adam, threads: 2)
            let model = try trainer.fit(keys: keys, targets: y, sampleWeights: weights)
            #expect(model.kernel == .dot && model.scales.count == 1 && model.history.count == 30)
            #expect(model.history.allSatisfy { $0.scales.count == 1 && $0.gradient.count == 1 })
            let start = ParametricAttentionPooling.loss(kernel: .dot, keys: keys, targets: y, scales: [0.3],
                                                        sampleWeights: weights).loss
            let end = ParametricAttentionPooling.loss(kernel: .dot, keys: keys, targets: y, scales: model.scales,
                                                      sampleWeights: weights).loss
            #expect(model.history[0].loss == start)
            #expect(end < 0.9 * start, "d=\(d): \(start) → \(end)")
            let h = 1 / abs(model.scales[0])
            #expect(model.bandwidths == Array(repeating: h, count: d))

            var rng = SeededGenerator(seed: 5)
            let queries = Matrix.random(rows: 17, columns: d, in: -1...1, using: &rng)
            let direct = try NadarayaWatsonRegressor(kernel: .dot, bandwidth: .widths(Array(repeating: h, count: d)))
                .fit(keys: keys, values: Matrix(column: y), sampleWeights: weights).predict(queries).elements
            #expect(try model.predict(queries) == direct)
        }
    }

    @Test("the same trajectory on any thread count")
    func threadIndependent() throws {
        let (keys, y, _) = Self.data(n: 70, d: 5, seed: 3)
        let one = try ParametricAttentionPooling(kernel: .dot, epochs: 6, learningRate: 0.05, threads: 1)
            .fit(keys: keys, targets: y)
        let many = try ParametricAttentionPooling(kernel: .dot, epochs: 6, learningRate: 0.05, threads: 3)
            .fit(keys: keys, targets: y)
        #expect(one == many)
    }

    @Test("other kernels are refused with a one-line reason")
    func otherKernels() {
        let (keys, y, _) = Self.data(n: 10, d: 2, seed: 1)
        for kernel in Kernel.allCases where kernel != .gaussian && kernel != .dot {
            do {
                _ = try ParametricAttentionPooling(kernel: kernel).fit(keys: keys, targets: y)
                Issue.record("\(kernel) should be refused")
            } catch let NadarayaWatsonError.invalidArgument(message) {
                #expect(message.contains("should be gaussian or dot, but is \(kernel)"), "\(message)")
            } catch {
                Issue.record("unexpected \(error)")
            }
        }
    }

    @Test("a model encoded without \"kernel\" decodes as Gaussian; a dot model round-trips")
    func decoding() throws {
        let (keys, y, _) = Self.data(n: 12, d: 2, seed: 11)
        let gaussian = try ParametricAttentionPooling(epochs: 2).fit(keys: keys, targets: y)
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let text = String(decoding: try encoder.encode(gaussian), as: UTF8.self)
        #expect(text.contains("\"kernel\":\"gaussian\","))
        // The file as written before the model had a kernel: the same bytes without the key.
        let without = text.replacingOccurrences(of: "\"kernel\":\"gaussian\",", with: "")
        #expect(!without.contains("kernel"))
        let old = try JSONDecoder().decode(TrainedAttentionModel.self, from: Data(without.utf8))
        #expect(old.kernel == .gaussian && old == gaussian)

        let dot = try ParametricAttentionPooling(kernel: .dot, epochs: 2).fit(keys: keys, targets: y)
        let decoded = try JSONDecoder().decode(TrainedAttentionModel.self, from: JSONEncoder().encode(dot))
        #expect(decoded == dot && decoded.kernel == .dot)
        #expect(try decoded.predict(keys) == dot.predict(keys))
    }
}
