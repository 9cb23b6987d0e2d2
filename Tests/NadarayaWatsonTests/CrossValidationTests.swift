import Foundation
import Testing
@testable import NadarayaWatson

@Suite("CrossValidation")
struct CrossValidationTests {
    /// CV by brute force: for each i, the plain linear-space estimator over the other points.
    static func bruteForce(kernel: Kernel, form: KernelForm, keys: Matrix, y: [Double], h: [Double]) -> Double {
        let n = keys.rows
        var sum = 0.0
        for i in 0..<n {
            let others = (0..<n).filter { $0 != i }
            let k = Matrix(others.map { keys.row($0) })
            let v = Matrix(column: others.map { y[$0] })
            let f = plainNadarayaWatson(kernel: kernel, form: form, keys: k, values: v, bandwidths: h,
                                        queries: Matrix([keys.row(i)])).predictions[0, 0]
            sum += (y[i] - f) * (y[i] - f)
        }
        return sum / Double(n)
    }

    @Test("CV(h) matches brute force", arguments: [Kernel.gaussian, .epanechnikov, .cauchy, .laplacian, .tricube])
    func scoreMatchesBruteForce(_ kernel: Kernel) throws {
        for d in [1, 2] {
            var rng = SeededGenerator(seed: UInt64(d * 13))
            let keys = Matrix.random(rows: 41, columns: d, in: 0...5, using: &rng)
            let y = (0..<41).map { sin(keys[$0, 0]) + Double.random(in: -0.3...0.3, using: &rng) }
            let h = (0..<d).map { 1.2 + 0.4 * Double($0) }
            for form in KernelForm.allCases {
                let fast = try CrossValidation(kernel: kernel, form: form).score(keys: keys, targets: y, bandwidths: h)
                let slow = Self.bruteForce(kernel: kernel, form: form, keys: keys, y: y, h: h)
                #expect(abs(fast - slow) <= 1e-12 * slow, "d=\(d) \(form)")
            }
        }
    }

    @Test("a width leaving a point without neighbours scores +∞ under nan, finite under mean")
    func emptyNeighbourhoods() throws {
        let keys = Matrix(column: [0, 0.1, 0.2, 5])
        let y = [1.0, 2, 3, 4]
        #expect(try CrossValidation(kernel: .boxcar).score(keys: keys, targets: y, bandwidths: [1]) == .infinity)
        let mean = try CrossValidation(kernel: .boxcar, emptyPolicy: .mean).score(keys: keys, targets: y, bandwidths: [1])
        #expect(mean.isFinite)
    }

    @Test("the selected width is the global minimum of a fine grid (1-D)", arguments: [Kernel.gaussian, .epanechnikov])
    func globalMinimum(_ kernel: Kernel) throws {
        let data = ChapterDatasets.similarity(seed: 3)
        let keys = Matrix(column: data.x)
        let cv = CrossValidation(kernel: kernel, emptyPolicy: .mean)
        let selected = try cv.select(keys: keys, targets: data.y)
        var gridBest = Double.infinity
        var h = 0.01
        while h < 20 { gridBest = min(gridBest, try cv.score(keys: keys, targets: data.y, bandwidths: [h])); h *= 1.005 }
        #expect(selected.score <= gridBest * (1 + 1e-9), "selected \(selected) vs grid \(gridBest)")
        #expect(abs(try cv.score(keys: keys, targets: data.y, bandwidths: selected.bandwidths) - selected.score) < 1e-15)
    }

    @Test("per-feature widths in 2-D improve on the best common factor")
    func perFeature() throws {
        var rng = SeededGenerator(seed: 8)
        let keys = Matrix.random(rows: 150, columns: 2, in: 0...5, using: &rng)
        // y varies fast along feature 0 and not at all along feature 1: h₁ should come out much wider.
        let y = (0..<150).map { sin(3 * keys[$0, 0]) + Double.random(in: -0.1...0.1, using: &rng) }
        let selected = try CrossValidation().select(keys: keys, targets: y)
        #expect(selected.bandwidths[1] > 3 * selected.bandwidths[0])
        let common = try CrossValidation().score(keys: keys, targets: y, bandwidths: [selected.bandwidths[0]])
        #expect(selected.score < common)
    }
}
