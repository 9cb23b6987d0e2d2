import Foundation
import Testing
@testable import NadarayaWatson

/// The chapter's model written plainly: the full n × n matrix of logits with the diagonal
/// masked, a max-shifted softmax, the loss, and the gradient by the chain rule term by term.
func plainLeaveOneOut(x: [[Double]], y: [Double], w: [Double], includeSelf: Bool) -> (loss: Double, gradient: [Double]) {
    let n = x.count, d = w.count
    var loss = 0.0
    var gradient = [Double](repeating: 0, count: d)
    for i in 0..<n {
        var logits = [Double](repeating: -.infinity, count: n)
        for j in 0..<n where includeSelf || j != i {
            logits[j] = -0.5 * (0..<d).map { pow((x[i][$0] - x[j][$0]) * w[$0], 2) }.reduce(0, +)
        }
        let top = logits.max()!
        let e = logits.map { exp($0 - top) }
        let total = e.reduce(0, +)
        let alpha = e.map { $0 / total }
        let f = zip(alpha, y).map(*).reduce(0, +)
        loss += 0.5 * (f - y[i]) * (f - y[i])
        for k in 0..<d {
            var df = 0.0 // ∂f/∂w_k = Σ_j α_ij (y_j − f) · (−w_k Δ²)
            for j in 0..<n where alpha[j] > 0 {
                df += alpha[j] * (y[j] - f) * (-w[k] * pow(x[i][k] - x[j][k], 2))
            }
            gradient[k] += (f - y[i]) * df
        }
    }
    return (loss, gradient)
}

@Suite("ParametricAttentionPooling")
struct ParametricAttentionPoolingTests {
    static func data(n: Int, d: Int, seed: UInt64) -> (Matrix, [Double]) {
        var rng = SeededGenerator(seed: seed)
        let keys = Matrix.random(rows: n, columns: d, in: 0...5, using: &rng)
        let y = (0..<n).map { 2 * sin(keys[$0, 0]) + (d > 1 ? keys[$0, 1] : 0) + Double.random(in: -0.5...0.5, using: &rng) }
        return (keys, y)
    }

    @Test("analytic gradient matches central finite differences",
          arguments: [(1, 0.7), (1, 2.5), (1, -1.3), (3, 0.9), (3, 1.7)])
    func gradientMatchesFiniteDifferences(_ d: Int, _ scale: Double) {
        let (keys, y) = Self.data(n: 37, d: d, seed: UInt64(d * 10))
        var rng = SeededGenerator(seed: 99)
        let w = (0..<d).map { _ in scale * Double.random(in: 0.8...1.2, using: &rng) }
        for includeSelf in [false, true] {
            let analytic = ParametricAttentionPooling.loss(keys: keys, targets: y, scales: w, includeSelf: includeSelf).gradient
            for k in 0..<d {
                let step = 1e-5 * max(1, abs(w[k]))
                var up = w, down = w
                up[k] += step
                down[k] -= step
                let numeric = (ParametricAttentionPooling.loss(keys: keys, targets: y, scales: up, includeSelf: includeSelf).loss
                    - ParametricAttentionPooling.loss(keys: keys, targets: y, scales: down, includeSelf: includeSelf).loss) / (2 * step)
                #expect(abs(analytic[k] - numeric) <= 1e-6 * max(1, abs(numeric)), "k=\(k) self=\(includeSelf): \(analytic[k]) vs \(numeric)")
            }
        }
    }

    @Test("loss and gradient match the plain n × n implementation", arguments: [1, 2, 5])
    func matchesPlain(_ d: Int) {
        let (keys, y) = Self.data(n: 29, d: d, seed: UInt64(d))
        let w = (0..<d).map { 0.6 + 0.3 * Double($0) }
        let rows = (0..<keys.rows).map { keys.row($0) }
        for includeSelf in [false, true] {
            let fast = ParametricAttentionPooling.loss(keys: keys, targets: y, scales: w, includeSelf: includeSelf)
            let plain = plainLeaveOneOut(x: rows, y: y, w: w, includeSelf: includeSelf)
            #expect(abs(fast.loss - plain.loss) <= 1e-12 * plain.loss)
            for k in 0..<d { #expect(abs(fast.gradient[k] - plain.gradient[k]) <= 1e-10 * max(1, abs(plain.gradient[k]))) }
        }
    }

    @Test("the chapter's setting: n = 50, lr 0.5, 5 epochs, the same trajectory as the plain implementation")
    func chapterTrajectory() throws {
        let data = ChapterDatasets.parametric(seed: 2024)
        let keys = Matrix(column: data.x)
        var w = [1.0]
        var expected: [(loss: Double, w: Double)] = []
        for _ in 0..<5 {
            let plain = plainLeaveOneOut(x: data.x.map { [$0] }, y: data.y, w: w, includeSelf: false)
            w[0] -= 0.5 * plain.gradient[0]
            expected.append((plain.loss, w[0]))
        }
        let model = try ParametricAttentionPooling(initialScale: 1, epochs: 5, learningRate: 0.5).fit(keys: keys, targets: data.y)
        #expect(model.history.count == 5)
        for (got, want) in zip(model.history, expected) {
            #expect(abs(got.loss - want.loss) <= 1e-12 * want.loss, "epoch \(got.epoch)")
            #expect(abs(got.scales[0] - want.w) <= 1e-12 * abs(want.w), "epoch \(got.epoch)")
        }
    }

    @Test("the loss does not increase for a small learning rate")
    func monotoneLoss() throws {
        let (keys, y) = Self.data(n: 60, d: 2, seed: 4)
        let model = try ParametricAttentionPooling(initialScale: 0.3, epochs: 25, learningRate: 0.002).fit(keys: keys, targets: y)
        for (a, b) in zip(model.history, model.history.dropFirst()) { #expect(b.loss <= a.loss * (1 + 1e-12)) }
    }

    @Test("Adam reaches the known optimum of a quadratic")
    func adamOnQuadratic() {
        // f(w) = Σ (wₖ − cₖ)², minimum at c.
        let c = [3.0, -1.5, 0.25]
        var w = [0.0, 0.0, 0.0]
        var state = OptimizerState(.adam, learningRate: 0.05, count: 3)
        for _ in 0..<3000 { state.update(&w, gradient: (0..<3).map { 2 * (w[$0] - c[$0]) }) }
        for k in 0..<3 { #expect(abs(w[k] - c[k]) < 1e-3) }
    }

    /// The leave-one-out optimum of a 1-D problem by a fine scan of w (1% steps), then a golden-
    /// section refinement: the known optimum the optimisers are judged against.
    static func scannedOptimum(_ keys: Matrix, _ y: [Double]) -> (w: Double, loss: Double) {
        func loss(_ w: Double) -> Double { ParametricAttentionPooling.loss(keys: keys, targets: y, scales: [w]).loss }
        var best = 0.5
        var w = 0.5
        while w < 50 { if loss(w) < loss(best) { best = w }; w *= 1.01 }
        var lo = best / 1.01, hi = best * 1.01
        let g = (5.0.squareRoot() - 1) / 2
        for _ in 0..<60 {
            let a = hi - g * (hi - lo), b = lo + g * (hi - lo)
            if loss(a) < loss(b) { hi = b } else { lo = a }
        }
        return ((lo + hi) / 2, loss((lo + hi) / 2))
    }

    @Test("Adam converges to the known leave-one-out optimum")
    func adamReachesOptimum() throws {
        let data = ChapterDatasets.parametric(seed: 11)
        let keys = Matrix(column: data.x)
        let optimum = Self.scannedOptimum(keys, data.y)
        let model = try ParametricAttentionPooling(initialScale: 1, epochs: 300, learningRate: 0.1, optimizer: .adam)
            .fit(keys: keys, targets: data.y)
        let end = ParametricAttentionPooling.loss(keys: keys, targets: data.y, scales: model.scales).loss
        #expect(abs(model.scales[0] - optimum.w) < 0.05 * optimum.w, "w \(model.scales[0]) vs optimum \(optimum.w)")
        #expect(end - optimum.loss < 1e-3 * optimum.loss)
    }

    @Test("without leave-one-out w grows without bound and the leave-one-out loss gets worse")
    func includeSelfOverfits() throws {
        let data = ChapterDatasets.parametric(seed: 11)
        let keys = Matrix(column: data.x)
        let optimum = Self.scannedOptimum(keys, data.y)
        let model = try ParametricAttentionPooling(initialScale: 1, epochs: 200, learningRate: 0.5, includeSelf: true)
            .fit(keys: keys, targets: data.y)
        let scales = model.history.map { $0.scales[0] }
        for (a, b) in zip(scales, scales.dropFirst()) { #expect(b > a) }
        #expect(scales.last! > 2.5 * optimum.w)
        // The training loss (each point sees itself) keeps falling towards 0 …
        let training = model.history.map(\.loss)
        #expect(training.last! < 0.2 * training.first!)
        // … while the honest, leave-one-out loss rises past the optimum, epoch after epoch.
        let looLoss = stride(from: 20, to: 200, by: 30).map {
            ParametricAttentionPooling.loss(keys: keys, targets: data.y, scales: model.history[$0].scales).loss
        }
        for (a, b) in zip(looLoss, looLoss.dropFirst()) { #expect(b > a) }
        #expect(looLoss.last! > 1.05 * optimum.loss)
    }

    @Test("the gradient is odd in w; the loss even")
    func signSymmetry() {
        let (keys, y) = Self.data(n: 21, d: 1, seed: 5)
        let plus = ParametricAttentionPooling.loss(keys: keys, targets: y, scales: [1.3])
        let minus = ParametricAttentionPooling.loss(keys: keys, targets: y, scales: [-1.3])
        #expect(plus.loss == minus.loss && plus.gradient[0] == -minus.gradient[0])
    }

    @Test("early stopping and thread independence")
    func earlyStoppingAndThreads() throws {
        let data = ChapterDatasets.parametric(seed: 3)
        let one = try ParametricAttentionPooling(epochs: 500, learningRate: 0.5, tolerance: 1e-6, threads: 1)
            .fit(keys: Matrix(column: data.x), targets: data.y)
        let many = try ParametricAttentionPooling(epochs: 500, learningRate: 0.5, tolerance: 1e-6, threads: 3)
            .fit(keys: Matrix(column: data.x), targets: data.y)
        #expect(one.history.count < 500)
        #expect(one == many)
    }
}
