import Foundation
import Testing
@testable import NadarayaWatson

/// The textbook local polynomial estimator, independent of the moment engine: the n × p design
/// X of monomials of u = (k − q)/h (exponents enumerated here by brute force), weights
/// wᵢ = sᵢ·α(q, kᵢ) in linear space from `plainProfile`, and the normal equations XᵀWX β = XᵀWy
/// solved by Gaussian elimination with partial pivoting. β₀ per query.
func plainLocalPolynomial(kernel: Kernel, form: KernelForm, keys: Matrix, targets: [Double], weights: [Double]? = nil,
                          bandwidths h: [Double], degree P: Int, queries: Matrix) -> [[Double]] {
    let n = keys.rows, d = keys.columns
    var exponents: [[Int]] = []
    func all(_ prefix: [Int]) {
        if prefix.count == d {
            if prefix.reduce(0, +) <= P { exponents.append(prefix) }
            return
        }
        for e in 0...P { all(prefix + [e]) }
    }
    all([])
    exponents.sort { $0.reduce(0, +) < $1.reduce(0, +) }  // the constant first; the rest's order is irrelevant to β₀
    let p = exponents.count
    return (0..<queries.rows).map { i in
        var A = [[Double]](repeating: [Double](repeating: 0, count: p + 1), count: p)
        for k in 0..<n {
            let u = (0..<d).map { (keys[k, $0] - queries[i, $0]) / h[$0] }
            // dot: exp(Σⱼ qⱼkⱼ/hⱼ²), not a function of u (the same in both forms).
            let dot = (0..<d).reduce(0.0) { $0 + queries[i, $1] * keys[k, $1] / (h[$1] * h[$1]) }
            let alpha: Double = if kernel == .dot {
                exp(dot)
            } else if form == .radial {
                plainProfile(kernel, sqrt(u.map { $0 * $0 }.reduce(0, +)))
            } else {
                u.map { plainProfile(kernel, $0) }.reduce(1, *)
            }
            let w = alpha * (weights?[k] ?? 1)
            let x = exponents.map { e in (0..<d).reduce(1.0) { $0 * pow(u[$1], Double(e[$1])) } }
            for r in 0..<p {
                for c in 0..<p { A[r][c] += w * x[r] * x[c] }
                A[r][p] += w * x[r] * targets[k]
            }
        }
        for col in 0..<p {
            let pivot = (col..<p).max { abs(A[$0][col]) < abs(A[$1][col]) }!
            A.swapAt(col, pivot)
            for r in 0..<p where r != col {
                let factor = A[r][col] / A[col][col]
                for c in col...p { A[r][c] -= factor * A[col][c] }
            }
        }
        return (0..<p).map { A[$0][p] / A[$0][$0] }
    }
}

@Suite("LocalPolynomialRegressor")
struct LocalPolynomialRegressorTests {
    @Test("against plain weighted least squares: every kernel, both forms, degrees 0–3, d = 1, 2, 3",
          arguments: [1, 2, 3])
    func againstPlainLeastSquares(_ d: Int) throws {
        // Sizes not multiples of the 8 SIMD lanes; widths wide enough that every query's local
        // design is well posed, so that no fallback hides a difference.
        let n = [29, 61, 83][d - 1]
        var rng = SeededGenerator(seed: 40 + UInt64(d))
        let keys = Matrix.random(rows: n, columns: d, in: -1...1, using: &rng)
        let targets = (0..<n).map { i in sin(3 * keys[i, 0]) + (d > 1 ? keys[i, 1] * keys[i, 1] : 0) + Double.random(in: -0.1...0.1, using: &rng) }
        let queries = Matrix.random(rows: 7, columns: d, in: -0.8...0.8, using: &rng)
        for kernel in Kernel.allCases {
            for form in KernelForm.allCases {
                for degree in 0...(d == 3 ? 2 : 3) {
                    let h = Array(repeating: kernel.isCompact ? 1.6 : 0.7, count: d)
                    let fitted = try LocalPolynomialRegressor(kernel: kernel, form: form, bandwidth: .widths(h), degree: degree, threads: 2)
                        .fit(keys: keys, targets: targets)
                    let f = try fitted.predict(queries)
                    let expected = plainLocalPolynomial(kernel: kernel, form: form, keys: keys, targets: targets, bandwidths: h,
                                                        degree: degree, queries: queries).map { $0[0] }
                    for i in 0..<queries.rows {
                        #expect(abs(f[i] - expected[i]) <= 1e-9 * max(1, abs(expected[i])),
                                "\(kernel) \(form) degree \(degree) d = \(d) query \(i): \(f[i]) vs \(expected[i])")
                    }
                    let evaluation = try fitted.evaluate(queries, derivatives: false)
                    #expect(degree == 0 || evaluation.degrees.allSatisfy { $0 == degree }, "\(kernel) \(form) degree \(degree): fell back")
                }
            }
        }
    }

    /// statsmodels 0.15.0, local linear with the Gaussian kernel and a fixed width:
    ///
    ///     import numpy as np
    ///     from statsmodels.nonparametric.kernel_regression import KernelReg
    ///     x = np.array([0.1, 0.4, 0.9, 1.3, 1.7, 2.2, 2.6, 3.1, 3.5, 4.0])
    ///     y = np.array([1.2, 1.9, 2.1, 3.4, 3.3, 4.8, 5.1, 5.0, 6.4, 7.1])
    ///     kr = KernelReg(y, x, var_type='c', reg_type='ll', bw=[0.6])
    ///     print(repr(kr.fit(np.array([0.0, 0.5, 1.9, 3.3, 4.2]))[0]))
    @Test("degree 1 equals statsmodels KernelReg(reg_type='ll')")
    func statsmodelsLocalLinear() throws {
        let x: [Double] = [0.1, 0.4, 0.9, 1.3, 1.7, 2.2, 2.6, 3.1, 3.5, 4.0]
        let y: [Double] = [1.2, 1.9, 2.1, 3.4, 3.3, 4.8, 5.1, 5.0, 6.4, 7.1]
        let f = try LocalPolynomialRegressor(bandwidth: .width(0.6), degree: 1).fit(keys: Matrix(column: x), targets: y)
            .predict(Matrix(column: [0.0, 0.5, 1.9, 3.3, 4.2]))
        let statsmodels: [Double] = [1.137441917210447, 1.8518237394459127, 3.9814847736685954, 5.875484822466932, 7.502361125185042]
        for (a, b) in zip(f, statsmodels) { #expect(abs(a - b) <= 1e-12 * abs(b), "\(a) vs \(b)") }
    }

    @Test("degree 0 is the Nadaraya–Watson estimator, bit for bit", arguments: [Kernel.gaussian, .epanechnikov, .cauchy])
    func degreeZero(_ kernel: Kernel) throws {
        let data = engineTestData(n: 37, m: 11, d: 2, p: 1, seed: 5, widths: 0.8...1.5)
        let y = data.values.column(0)
        let local = try LocalPolynomialRegressor(kernel: kernel, bandwidth: .widths(data.h), degree: 0).fit(keys: data.keys, targets: y)
            .predict(data.queries)
        let nw = try NadarayaWatsonRegressor(kernel: kernel, bandwidth: .widths(data.h)).fit(keys: data.keys, values: data.values)
            .predict(data.queries).elements
        #expect(local.map(\.bitPattern) == nw.map(\.bitPattern))
    }

    @Test("integer sample weights equal repeated rows; weight 0 removes the row", arguments: [0, 1, 2])
    func sampleWeights(_ degree: Int) throws {
        var rng = SeededGenerator(seed: 77)
        let n = 19
        let keys = Matrix.random(rows: n, columns: 1, in: 0...3, using: &rng)
        let targets = (0..<n).map { _ in Double.random(in: -2...2, using: &rng) }
        let weights = (0..<n).map { $0 % 5 == 0 ? 0.0 : Double(1 + $0 % 3) }
        var repeatedKeys: [Double] = [], repeatedTargets: [Double] = []
        for i in 0..<n { for _ in 0..<Int(weights[i]) { repeatedKeys.append(keys[i, 0]); repeatedTargets.append(targets[i]) } }
        // Inside the data for degree ≥ 1: outside, a local design rests on a few keys and its
        // condition amplifies the rounding by which two equal designs differ.
        let queries = Matrix(column: degree == 0 ? [-0.2, 0.5, 1.4, 2.9, 3.3] : [0.5, 1.4, 2.2])
        let tolerance = degree == 0 ? 1e-12 : 1e-9
        for kernel in [Kernel.gaussian, .epanechnikov, .laplacian] {
            for bandwidth in [Bandwidth.width(0.9), .scott, .silverman] {
                let model = LocalPolynomialRegressor(kernel: kernel, bandwidth: bandwidth, degree: degree, emptyPolicy: .nearest)
                let weighted = try model.fit(keys: keys, targets: targets, sampleWeights: weights)
                let repeated = try model.fit(keys: Matrix(column: repeatedKeys), targets: repeatedTargets)
                #expect(abs(weighted.bandwidths[0] - repeated.bandwidths[0]) <= 1e-14 * repeated.bandwidths[0], "\(kernel) \(bandwidth)")
                let a = try weighted.predictWithDerivatives(queries), b = try repeated.predictWithDerivatives(queries)
                for i in 0..<queries.rows {
                    #expect(abs(a.values[i] - b.values[i]) <= tolerance, "\(kernel) \(bandwidth) degree \(degree) query \(i)")
                    #expect(abs(a.derivatives[i, 0] - b.derivatives[i, 0]) <= 100 * tolerance * max(1, abs(b.derivatives[i, 0])))
                }
            }
        }
        #expect(throws: NadarayaWatsonError.invalidSampleWeight(row: 2, value: -1)) {
            try LocalPolynomialRegressor(bandwidth: .width(1), degree: degree).fit(keys: keys, targets: targets,
                                                                                    sampleWeights: [1, 1, -1] + Array(repeating: 1, count: n - 3))
        }
    }

    @Test("degree 0 derivatives equal central differences of the estimate", arguments: Kernel.allCases)
    func exactDerivative(_ kernel: Kernel) throws {
        let data = engineTestData(n: 23, m: 6, d: 2, p: 1, seed: 9, widths: 1.5...2.5)
        for form in KernelForm.allCases {
            let fitted = try LocalPolynomialRegressor(kernel: kernel, form: form, bandwidth: .widths(data.h), degree: 0, emptyPolicy: .mean)
                .fit(keys: data.keys, targets: data.values.column(0))
            let (f, slopes) = try fitted.predictWithDerivatives(data.queries)
            for i in 0..<data.queries.rows where f[i].isFinite {
                for j in 0..<2 {
                    let step = 1e-6
                    var plus = data.queries.row(i), minus = plus
                    plus[j] += step
                    minus[j] -= step
                    let difference = try (fitted.predict(Matrix([plus]))[0] - fitted.predict(Matrix([minus]))[0]) / (2 * step)
                    // Kinks (laplacian, triangular at a key; compact supports' edges) are away from these queries
                    // but the central difference still carries O(step²) curvature and rounding.
                    #expect(abs(slopes[i, j] - difference) <= 1e-5 * max(1, abs(difference)),
                            "\(kernel) \(form) query \(i) feature \(j): \(slopes[i, j]) vs \(difference)")
                }
            }
        }
    }

    @Test("local slopes are exact on polynomial data of the fitted degree", arguments: [1, 2, 3])
    func slopes(_ degree: Int) throws {
        let x = (0..<40).map { Double($0) / 8 }
        // y = 1 + 2x − 0.5x² + 0.1x³ truncated to the degree: reproduced exactly by the local fit.
        let coefficients = [1.0, 2, -0.5, 0.1].prefix(degree + 1)
        let y = x.map { v in coefficients.enumerated().reduce(0) { $0 + $1.element * pow(v, Double($1.offset)) } }
        let queries: [Double] = [0.3, 1.7, 4.1]
        let (f, slopes) = try LocalPolynomialRegressor(bandwidth: .width(0.9), degree: degree).fit(keys: Matrix(column: x), targets: y)
            .predictWithDerivatives(Matrix(column: queries))
        for (i, q) in queries.enumerated() {
            let value = coefficients.enumerated().reduce(0) { $0 + $1.element * pow(q, Double($1.offset)) }
            let slope = coefficients.enumerated().dropFirst().reduce(0) { $0 + Double($1.offset) * $1.element * pow(q, Double($1.offset - 1)) }
            #expect(abs(f[i] - value) <= 1e-9 * max(1, abs(value)))
            #expect(abs(slopes[i, 0] - slope) <= 1e-8 * max(1, abs(slope)), "degree \(degree) at \(q): \(slopes[i, 0]) vs \(slope)")
        }
    }

    @Test("fallback: a far query and a design with fewer distinct keys than monomials")
    func fallback() throws {
        // Far from every key, Gaussian weights are one-hot: degree 0 of the nearest key.
        let keys = Matrix(column: [0, 1, 2, 3])
        let targets: [Double] = [1, 4, 2, 8]
        let far = try LocalPolynomialRegressor(bandwidth: .width(0.05), degree: 2).fit(keys: keys, targets: targets)
        // At −1e200 every log weight is −∞ and the far limit holds; there −1e200 − k rounds to
        // −1e200 for every key, so the four tie and share the weight.
        let evaluation = try far.evaluate(Matrix(column: [40, -1e6, -1e200, 1.5]), derivatives: true)
        #expect(evaluation.values[0] == 8 && evaluation.values[1] == 1 && evaluation.values[2] == 3.75)
        #expect(evaluation.degrees[0] == 0 && evaluation.degrees[1] == 0 && evaluation.degrees[2] == 0)
        #expect(evaluation.values.allSatisfy { $0.isFinite } && evaluation.derivatives.elements.allSatisfy { $0.isFinite })
        // Two distinct keys (each repeated): degree 2 falls back to the line through them.
        let two = try LocalPolynomialRegressor(bandwidth: .width(2), degree: 2).fit(keys: Matrix(column: [0, 0, 1, 1, 1]),
                                                                                   targets: [1, 1, 3, 3, 3])
        let line = try two.evaluate(Matrix(column: [0.25, 0.5]), derivatives: true)
        #expect(line.degrees == [1, 1])
        #expect(abs(line.values[0] - 1.5) < 1e-12 && abs(line.values[1] - 2) < 1e-12)
        #expect(abs(line.derivatives[0, 0] - 2) < 1e-10)
        // Compact kernel, one key in the support: degree 0, its value.
        let one = try LocalPolynomialRegressor(kernel: .epanechnikov, bandwidth: .width(0.6), degree: 1).fit(keys: keys, targets: targets)
        #expect(try one.predict(Matrix(column: [2.1])) == [2])
        #expect(try one.predict(Matrix(column: [9])).allSatisfy { $0.isNaN })
    }

    @Test("moment states merge exactly across key shards")
    func mergeShards() throws {
        let data = engineTestData(n: 40, m: 5, d: 2, p: 1, seed: 3, widths: 0.5...1)
        let y = data.values.column(0)
        func states(_ rows: Range<Int>) -> MomentStates {
            let keys = Matrix(rows: rows.count, columns: 2, elements: Array(data.keys.elements[rows.lowerBound * 2 ..< rows.upperBound * 2]))
            let problem = AttentionProblem(kernel: .gaussian, form: .radial, keys: keys, bandwidths: data.h,
                                           values: .dense(Matrix(column: Array(y[rows]))))
            return MomentEngine.states(MomentProblem(attention: problem, logWeights: nil,
                                                     moments: MomentSet(dimension: 2, degree: 1)), queries: data.queries, threads: 1)
        }
        let whole = states(0..<40), a = states(0..<17), b = states(17..<40)
        for i in 0..<5 {
            let merged = MomentState.merge(a.state(i), b.state(i))
            #expect(abs(merged.shift - whole.shifts[i]) <= 1e-12 * abs(whole.shifts[i]))
            for (x, y) in zip(merged.sums, whole.state(i).sums) { #expect(abs(x - y) <= 1e-12 * max(1, abs(y))) }
            #expect(MomentState.merge(merged, MomentState(count: merged.sums.count)) == merged)
        }
    }
}

@Suite("Cross-validation of local polynomial and weighted fits")
struct LocalPolynomialCrossValidationTests {
    /// Brute force: refit without row i (the plain least-squares implementation), predict at xᵢ.
    func bruteForce(kernel: Kernel, form: KernelForm, keys: Matrix, targets: [Double], weights: [Double]?, h: [Double],
                    degree: Int) -> Double {
        let n = keys.rows
        var total = 0.0, weightTotal = 0.0
        for i in 0..<n {
            let others = (0..<n).filter { $0 != i }
            let x = Matrix(rows: n - 1, columns: keys.columns, elements: others.flatMap { keys.row($0) })
            let f = plainLocalPolynomial(kernel: kernel, form: form, keys: x, targets: others.map { targets[$0] },
                                         weights: weights.map { w in others.map { w[$0] } }, bandwidths: h, degree: degree,
                                         queries: Matrix([keys.row(i)]))[0][0]
            let s = weights?[i] ?? 1
            total += s * (targets[i] - f) * (targets[i] - f)
            weightTotal += s
        }
        return total / weightTotal
    }

    @Test("leave-one-out scores equal refitting without each row", arguments: [0, 1, 2])
    func againstRefitting(_ degree: Int) throws {
        var rng = SeededGenerator(seed: 12)
        for d in [1, 2] {
            let n = 23
            let keys = Matrix.random(rows: n, columns: d, in: 0...2, using: &rng)
            let targets = (0..<n).map { i in cos(2 * keys[i, 0]) + Double.random(in: -0.2...0.2, using: &rng) }
            let weights = (0..<n).map { _ in Double.random(in: 0.5...3, using: &rng) }
            for kernel in [Kernel.gaussian, .epanechnikov, .cauchy] {
                for w in [nil, weights] {
                    let h = Array(repeating: kernel.isCompact ? 1.8 : 0.6, count: d)
                    let score = try CrossValidation(kernel: kernel, degree: degree, threads: 2)
                        .score(keys: keys, targets: targets, bandwidths: h, sampleWeights: w)
                    let expected = bruteForce(kernel: kernel, form: .radial, keys: keys, targets: targets, weights: w, h: h, degree: degree)
                    #expect(abs(score - expected) <= 1e-9 * expected, "\(kernel) d = \(d) degree \(degree) weighted: \(w != nil)")
                }
            }
        }
    }

    @Test("the hat identity: f₋ᵢ = (f̂ᵢ − lᵢᵢyᵢ)/(1 − lᵢᵢ) from the full fit")
    func hatIdentity() throws {
        var rng = SeededGenerator(seed: 8)
        let n = 17
        let keys = Matrix.random(rows: n, columns: 1, in: 0...3, using: &rng)
        let targets = (0..<n).map { _ in Double.random(in: -1...1, using: &rng) }
        let h = [0.5]
        // lᵢᵢ from the full fit's design at xᵢ: (A⁻¹)₀₀ · α(xᵢ, xᵢ), A the local design (sums of α uᵉ⁺ᶠ).
        var total = 0.0
        for i in 0..<n {
            let fit = plainLocalPolynomial(kernel: .gaussian, form: .radial, keys: keys, targets: targets, bandwidths: h, degree: 1,
                                           queries: Matrix([keys.row(i)]))[0][0]
            let unit = plainLocalPolynomial(kernel: .gaussian, form: .radial, keys: keys,
                                            targets: (0..<n).map { $0 == i ? 1 : 0 }, bandwidths: h, degree: 1,
                                            queries: Matrix([keys.row(i)]))[0][0]
            let leaveOut = (fit - unit * targets[i]) / (1 - unit)
            total += (targets[i] - leaveOut) * (targets[i] - leaveOut)
        }
        let score = try CrossValidation(degree: 1).score(keys: keys, targets: targets, bandwidths: h)
        #expect(abs(score - total / Double(n)) <= 1e-10 * score)
    }

    @Test("selection with degree 1 finds the grid's global minimum")
    func selection() throws {
        var rng = SeededGenerator(seed: 2)
        let n = 60
        let x = (0..<n).map { _ in Double.random(in: 0...4, using: &rng) }
        let y = x.map { sin(2 * $0) + Double.random(in: -0.3...0.3, using: &rng) }
        let cv = CrossValidation(degree: 1)
        let selected = try cv.select(keys: Matrix(column: x), targets: y)
        let grid = (0..<400).map { 0.02 * pow(1.015, Double($0)) }
        let best = try grid.map { try cv.score(keys: Matrix(column: x), targets: y, bandwidths: [$0]) }.min()!
        #expect(selected.score <= best * (1 + 1e-9))
    }
}
