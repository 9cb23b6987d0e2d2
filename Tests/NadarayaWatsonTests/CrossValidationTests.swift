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
        // The quasi-Newton refinement ends at a local minimum: no 1% step along a feature improves.
        for k in 0..<2 {
            for factor in [0.99, 1.01] {
                var h = selected.bandwidths
                h[k] *= factor
                let nearby = try CrossValidation().score(keys: keys, targets: y, bandwidths: h)
                #expect(nearby >= selected.score * (1 - 1e-6), "feature \(k) × \(factor): \(nearby) < \(selected.score)")
            }
        }
    }

    /// 20 tight clusters of 12 points along x: the cluster means follow 5 sin(x/2) plus a
    /// cluster-level deviation (σ 1.5), the points scatter around them (σ 0.5). CV has two minima:
    /// averaging within a cluster (h ≈ 0.015, the global one: it captures each cluster's
    /// deviation) and smoothing across neighbouring clusters (h ≈ 0.3).
    static func clusteredData(seed: UInt64) -> (x: [Double], y: [Double]) {
        var rng = SeededGenerator(seed: seed)
        func normal() -> Double {
            let u = 1 - Double.random(in: 0..<1, using: &rng), v = Double.random(in: 0..<1, using: &rng)
            return (-2 * log(u)).squareRoot() * cos(2 * Double.pi * v)
        }
        var x: [Double] = [], y: [Double] = []
        for c in 0..<20 {
            let mean = 5 * sin(0.5 * Double(c)) + 1.5 * normal()
            for _ in 0..<12 {
                x.append(Double(c) + Double.random(in: -0.02...0.02, using: &rng))
                y.append(mean + 0.5 * normal())
            }
        }
        return (x, y)
    }

    @Test("bimodal CV curve: a local search from Scott's width ends in the wrong minimum, ours in the global one")
    func bimodal() throws {
        let seed: UInt64 = 3
        let (x, y) = Self.clusteredData(seed: seed)
        let keys = Matrix(column: x)
        let cv = CrossValidation()
        func score(_ h: Double) -> Double { (try? cv.score(keys: keys, targets: y, bandwidths: [h])) ?? .infinity }

        // The curve on a grid (2% steps): two local minima.
        var grid: [(h: Double, cv: Double)] = []
        var h = 0.002
        while h < 20 { grid.append((h, score(h))); h *= 1.02 }
        let minima = (1..<grid.count - 1).filter { grid[$0].cv < grid[$0 - 1].cv && grid[$0].cv < grid[$0 + 1].cv }.map { grid[$0] }
        #expect(minima.count >= 2, "seed \(seed): minima \(minima)")
        let global = grid.min { $0.cv < $1.cv }!

        // A local search from Scott's width: downhill in steps of 10% until CV rises.
        let scott = try BandwidthRule.scott.bandwidths(for: keys)[0]
        var local = scott, value = score(scott)
        let factor = score(scott / 1.1) < value ? 1 / 1.1 : 1.1
        while true {
            let next = score(local * factor)
            guard next < value else { break }
            (local, value) = (local * factor, next)
        }
        #expect(value > global.cv * 1.005 && local > 5 * global.h, "seed \(seed): the local search from \(scott) found \(local) with CV \(value); global \(global)")

        let selected = try cv.select(keys: keys, targets: y)
        #expect(selected.score <= global.cv * (1 + 1e-9), "seed \(seed): selected \(selected), grid minimum \(global)")
        #expect(abs(selected.bandwidths[0] - global.h) < 0.01 * global.h, "seed \(seed): \(selected.bandwidths[0]) vs \(global.h)")
    }

    @Test("the Gaussian CV gradient in log h matches central finite differences of the score", arguments: [2, 3])
    func gradient(_ d: Int) throws {
        var rng = SeededGenerator(seed: UInt64(70 + d))
        let keys = Matrix.random(rows: 97, columns: d, in: 0...4, using: &rng)
        let y = (0..<97).map { i in sin(2 * keys[i, 0]) + 0.5 * keys[i, d - 1] + Double.random(in: -0.2...0.2, using: &rng) }
        let h = (0..<d).map { 0.3 + 0.25 * Double($0) }
        let r = CrossValidation.gaussianScoreAndGradient(keys: keys, targets: y, bandwidths: h, threads: 2)
        let cv = CrossValidation()
        #expect(abs(r.score - (try cv.score(keys: keys, targets: y, bandwidths: h))) < 1e-14 * r.score)
        // With frequency weights too (the quasi-Newton steps take them since the loss runs on the
        // moment engine).
        let s = (0..<97).map { _ in Double(Int.random(in: 1...3, using: &rng)) }
        let weighted = CrossValidation.gaussianScoreAndGradient(keys: keys, targets: y, bandwidths: h, sampleWeights: s, threads: 2)
        #expect(abs(weighted.score - (try cv.score(keys: keys, targets: y, bandwidths: h, sampleWeights: s))) < 1e-14 * weighted.score)
        let step = 1e-5
        for k in 0..<d {
            var up = h, down = h
            up[k] *= exp(step)
            down[k] *= exp(-step)
            let numeric = (try cv.score(keys: keys, targets: y, bandwidths: up) - cv.score(keys: keys, targets: y, bandwidths: down)) / (2 * step)
            #expect(abs(r.gradient[k] - numeric) < 1e-6 * max(1e-3, abs(numeric)), "feature \(k): \(r.gradient[k]) vs \(numeric)")
            let numericWeighted = (try cv.score(keys: keys, targets: y, bandwidths: up, sampleWeights: s)
                - cv.score(keys: keys, targets: y, bandwidths: down, sampleWeights: s)) / (2 * step)
            #expect(abs(weighted.gradient[k] - numericWeighted) < 1e-6 * max(1e-3, abs(numericWeighted)),
                    "weighted, feature \(k): \(weighted.gradient[k]) vs \(numericWeighted)")
        }
    }
}
