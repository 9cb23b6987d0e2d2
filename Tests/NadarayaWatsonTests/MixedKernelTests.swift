import Foundation
import Testing
@testable import NadarayaWatson

/// Mixed continuous, categorical and ordered features against a plain implementation of the
/// generalized product kernel (every pair's weight written out), against statsmodels, and the
/// leave-one-out criteria against brute force.
@Suite("Mixed kernels")
struct MixedKernelTests {
    static let kinds: [FeatureKind] = [.continuous, .categorical, .ordered, .continuous]

    /// n rows: x₁ ~ U(0, 3), a category in {0, 1, 2}, an ordered grade in {0…4}, x₂ ~ U(−1, 1).
    static func data(_ n: Int, seed: UInt64 = 7) -> (keys: Matrix, y: [Double], labels: [String]) {
        var random = SplitMix64(seed: seed)
        var rows: [[Double]] = [], y: [Double] = [], labels: [String] = []
        for _ in 0..<n {
            let x1 = 3 * random.nextUniform(), category = Double(Int(3 * random.nextUniform()))
            let grade = Double(Int(5 * random.nextUniform())), x2 = 2 * random.nextUniform() - 1
            rows.append([x1, category, grade, x2])
            let value = sin(x1) + category + 0.3 * grade + x2 * x2 + 0.2 * (random.nextUniform() - 0.5)
            y.append(value)
            labels.append(value > 2 ? "high" : value > 1 ? "mid" : "low")
        }
        return (Matrix(rows), y, labels)
    }

    /// The weight of key k at q, written out: the continuous kernel (radial or product) times
    /// Aitchison–Aitken and Wang–van Ryzin factors, full (with the common 1 − λ).
    static func plainWeight(_ kernel: Kernel, _ form: KernelForm, _ kinds: [FeatureKind], _ bandwidths: [Double],
                            categories: [Int], _ q: [Double], _ k: [Double]) -> Double {
        var weight = 1.0, squared = 0.0, continuous = 0
        var discrete = 0
        for j in kinds.indices {
            let lambda = bandwidths[j]
            switch kinds[j] {
            case .continuous:
                let u = (q[j] - k[j]) / bandwidths[j]
                continuous += 1
                if form == .radial { squared += u * u } else { weight *= plainProfile(kernel, u) }
            case .categorical:
                weight *= q[j] == k[j] ? 1 - lambda : lambda / Double(categories[discrete] - 1)
                discrete += 1
            case .ordered:
                weight *= q[j] == k[j] ? 1 - lambda : 0.5 * (1 - lambda) * pow(lambda, abs(q[j] - k[j]))
                discrete += 1
            }
        }
        if form == .radial && continuous > 0 { weight *= plainProfile(kernel, squared.squareRoot()) }
        return weight
    }

    static func categories(_ keys: Matrix, _ kinds: [FeatureKind]) -> [Int] {
        kinds.indices.filter { kinds[$0].isDiscrete }.map { j in Set(keys.column(j)).count }
    }

    /// Local polynomial of degree 0 or 1 over the continuous features, by the normal equations
    /// written out (Gaussian elimination with partial pivoting).
    static func plainFit(_ kernel: Kernel, _ form: KernelForm, _ kinds: [FeatureKind], _ bandwidths: [Double], keys: Matrix,
                         y: [Double], weights: [Double]?, degree: Int, query q: [Double], excluding: Int = -1) -> Double {
        let c = categories(keys, kinds), continuous = kinds.indices.filter { !kinds[$0].isDiscrete }
        let p = degree == 0 ? 1 : 1 + continuous.count
        var A = [[Double]](repeating: [Double](repeating: 0, count: p + 1), count: p)
        for i in 0..<keys.rows where i != excluding {
            let k = keys.row(i)
            let w = (weights?[i] ?? 1) * plainWeight(kernel, form, kinds, bandwidths, categories: c, q, k)
            let x = [1] + (degree == 0 ? [] : continuous.map { (k[$0] - q[$0]) / bandwidths[$0] })
            for e in 0..<p {
                for f in 0..<p { A[e][f] += w * x[e] * x[f] }
                A[e][p] += w * x[e] * y[i]
            }
        }
        for col in 0..<p {
            let pivot = (col..<p).max { abs(A[$0][col]) < abs(A[$1][col]) }!
            A.swapAt(col, pivot)
            for r in 0..<p where r != col {
                let factor = A[r][col] / A[col][col]
                for cc in col...p { A[r][cc] -= factor * A[col][cc] }
            }
        }
        return A[0][p] / A[0][0]
    }

    static func fit(_ kernel: Kernel, _ form: KernelForm, bandwidths: [Double], degree: Int, keys: Matrix, y: [Double],
                    weights: [Double]? = nil, kinds: [FeatureKind] = kinds) throws -> FittedLocalPolynomialRegressor {
        var estimator = LocalPolynomialRegressor(kernel: kernel, form: form, bandwidth: .widths(bandwidths), degree: degree)
        estimator.featureKinds = kinds
        return try estimator.fit(keys: keys, targets: y, sampleWeights: weights)
    }

    @Test("predictions equal the plain generalized product kernel", arguments: [Kernel.gaussian, .epanechnikov, .laplacian])
    func predictions(kernel: Kernel) throws {
        let (keys, y, _) = Self.data(70)
        let (queries, _, _) = Self.data(25, seed: 99)
        var random = SplitMix64(seed: 3)
        let weights = (0..<keys.rows).map { _ in 0.5 + random.nextUniform() }
        let bandwidths = [1.4, 0.3, 0.4, 1.5]
        for form in [KernelForm.radial, .product] {
            for degree in [0, 1] {
                for w in [nil, weights] {
                    let model = try Self.fit(kernel, form, bandwidths: bandwidths, degree: degree, keys: keys, y: y, weights: w)
                    let predictions = try model.predict(queries)
                    for i in 0..<queries.rows {
                        let expected = Self.plainFit(kernel, form, Self.kinds, bandwidths, keys: keys, y: y, weights: w, degree: degree,
                                                     query: queries.row(i))
                        #expect(abs(predictions[i] - expected) <= 1e-12 * max(1, abs(expected)),
                                "\(kernel) \(form) degree \(degree) query \(i): \(predictions[i]) vs \(expected)")
                    }
                    #expect(model.bandwidths == bandwidths)
                }
            }
        }
    }

    /// statsmodels 0.15.0, computed with:
    ///
    ///     import numpy as np
    ///     from statsmodels.nonparametric.kernel_regression import KernelReg
    ///     x = [0.3, 1.1, 2.0, 2.7, 0.8, 1.9, 2.4, 0.1, 1.5, 2.9, 0.6, 1.3]
    ///     c = [0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 1]
    ///     o = [0, 1, 2, 3, 0, 1, 2, 3, 4, 4, 2, 0]
    ///     y = [1.2, 2.3, 3.9, 1.1, 2.0, 4.2, 1.8, 2.4, 4.8, 1.6, 2.9, 2.2]
    ///     exog = np.column_stack([x, c, o]).astype(float)
    ///     model = KernelReg(endog=np.array(y), exog=exog, var_type='cuo', reg_type='lc', bw=[0.6, 0.3, 0.4])
    ///     q = np.array([[0.5, 0, 1], [1.7, 2, 3], [2.2, 1, 0], [2.95, 2, 4]], dtype=float)
    ///     print(model.fit(q)[0])
    @Test("local-constant predictions equal statsmodels KernelReg(var_type='cuo')")
    func statsmodels() throws {
        let x = [0.3, 1.1, 2.0, 2.7, 0.8, 1.9, 2.4, 0.1, 1.5, 2.9, 0.6, 1.3]
        let c: [Double] = [0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 1], o: [Double] = [0, 1, 2, 3, 0, 1, 2, 3, 4, 4, 2, 0]
        let y = [1.2, 2.3, 3.9, 1.1, 2.0, 4.2, 1.8, 2.4, 4.8, 1.6, 2.9, 2.2]
        let keys = Matrix((0..<x.count).map { [x[$0], c[$0], o[$0]] })
        let queries = Matrix([[0.5, 0, 1], [1.7, 2, 3], [2.2, 1, 0], [2.95, 2, 4]])
        let expected = [1.9414879558646092, 3.7844478233039123, 2.3667823923949074, 2.2489635148424165]
        let predictions = try Self.fit(.gaussian, .radial, bandwidths: [0.6, 0.3, 0.4], degree: 0, keys: keys, y: y,
                                       kinds: [.continuous, .categorical, .ordered]).predict(queries)
        for i in expected.indices { #expect(abs(predictions[i] - expected[i]) <= 1e-14 * expected[i]) }
    }

    @Test("λ = 0 is exact cell matching; λ at the Aitchison–Aitken bound ignores the feature")
    func lambdaLimits() throws {
        let (keys, y, _) = Self.data(80)
        let (queries, _, _) = Self.data(20, seed: 5)
        // λ = 0 for both discrete features: only keys of the query's own cell count.
        let exact = try Self.fit(.gaussian, .radial, bandwidths: [0.8, 0, 0, 0.9], degree: 1, keys: keys, y: y).predict(queries)
        for i in 0..<queries.rows {
            let q = queries.row(i)
            let rows = (0..<keys.rows).filter { keys[$0, 1] == q[1] && keys[$0, 2] == q[2] }
            let cell = Matrix(rows.map { [keys[$0, 0], keys[$0, 3]] })
            let alone = try LocalPolynomialRegressor(kernel: .gaussian, bandwidth: .widths([0.8, 0.9]), degree: 1)
                .fit(keys: cell, targets: rows.map { y[$0] }).predict(Matrix([[q[0], q[3]]]))[0]
            #expect(abs(exact[i] - alone) <= 1e-12 * max(1, abs(alone)))
        }
        // λ = (c − 1)/c = 2/3 for the category: the same as leaving the column out.
        let ignoring = try Self.fit(.gaussian, .radial, bandwidths: [0.8, 2.0 / 3, 0.3, 0.9], degree: 0, keys: keys, y: y).predict(queries)
        let without = FeatureLayout.columns(keys, [0, 2, 3]), queriesWithout = FeatureLayout.columns(queries, [0, 2, 3])
        let reduced = try Self.fit(.gaussian, .radial, bandwidths: [0.8, 0.3, 0.9], degree: 0, keys: without, y: y,
                                   kinds: [.continuous, .ordered, .continuous]).predict(queriesWithout)
        for i in 0..<queries.rows { #expect(abs(ignoring[i] - reduced[i]) <= 1e-12 * max(1, abs(reduced[i]))) }
    }

    @Test("an unseen category gets λ/(c − 1) on every key; λ = 0 leaves it empty")
    func unseenCategory() throws {
        let (keys, y, _) = Self.data(40)
        let query = Matrix([[1.0, 7, 2, 0.1]])
        let bandwidths = [0.8, 0.4, 0.3, 0.9]
        let value = try Self.fit(.gaussian, .radial, bandwidths: bandwidths, degree: 0, keys: keys, y: y).predict(query)[0]
        let expected = Self.plainFit(.gaussian, .radial, Self.kinds, bandwidths, keys: keys, y: y, weights: nil, degree: 0,
                                     query: query.row(0))
        #expect(abs(value - expected) <= 1e-12 * abs(expected))
        let empty = try Self.fit(.gaussian, .radial, bandwidths: [0.8, 0, 0.3, 0.9], degree: 0, keys: keys, y: y).predict(query)[0]
        #expect(empty.isNaN)
        var estimator = LocalPolynomialRegressor(bandwidth: .widths([0.8, 0, 0.3, 0.9]), degree: 0, emptyPolicy: .mean)
        estimator.featureKinds = Self.kinds
        let mean = try estimator.fit(keys: keys, targets: y).predict(query)[0]
        #expect(abs(mean - y.reduce(0, +) / Double(y.count)) <= 1e-12)
    }

    @Test("discrete features only")
    func discreteOnly() throws {
        let (keys, y, _) = Self.data(50)
        let discrete = FeatureLayout.columns(keys, [1, 2]), kinds: [FeatureKind] = [.categorical, .ordered]
        let queries = Matrix([[0, 0], [1, 3], [2, 4], [5, 1]])
        for degree in [0, 2] {
            let model = try Self.fit(.gaussian, .radial, bandwidths: [0.3, 0.6], degree: degree, keys: discrete, y: y, kinds: kinds)
            let predictions = try model.predict(queries)
            for i in 0..<queries.rows {
                let expected = Self.plainFit(.gaussian, .radial, kinds, [0.3, 0.6], keys: discrete, y: y, weights: nil, degree: 0,
                                             query: queries.row(i))
                #expect(abs(predictions[i] - expected) <= 1e-12 * max(1, abs(expected)))
            }
        }
    }

    @Test("bad λ, a single number and rules are errors")
    func errors() throws {
        let (keys, y, _) = Self.data(30)
        #expect(throws: NadarayaWatsonError.self) { try Self.fit(.gaussian, .radial, bandwidths: [1, 0.9, 0.3, 1], degree: 0, keys: keys, y: y) }
        #expect(throws: NadarayaWatsonError.self) { try Self.fit(.gaussian, .radial, bandwidths: [1, 0.2, 1.1, 1], degree: 0, keys: keys, y: y) }
        #expect(throws: NadarayaWatsonError.self) { try Self.fit(.gaussian, .radial, bandwidths: [0.5], degree: 0, keys: keys, y: y) }
        #expect(throws: NadarayaWatsonError.self) { try Self.fit(.gaussian, .radial, bandwidths: [0, 0.2, 0.3, 1], degree: 0, keys: keys, y: y) }
        var estimator = LocalPolynomialRegressor(bandwidth: .scott, degree: 0)
        estimator.featureKinds = Self.kinds
        #expect(throws: NadarayaWatsonError.self) { try estimator.fit(keys: keys, targets: y) }
        let model = try Self.fit(.gaussian, .radial, bandwidths: [1, 0.2, 0.3, 1], degree: 1, keys: keys, y: y)
        #expect(throws: NadarayaWatsonError.self) { try model.standardErrors(keys) }
        #expect(throws: NadarayaWatsonError.self) { try model.predictWithDerivatives(keys) }
    }

    @Test("classification probabilities and densities equal the plain sums")
    func classificationAndDensity() throws {
        let (keys, _, labels) = Self.data(60)
        let (queries, _, _) = Self.data(15, seed: 11)
        let bandwidths = [0.9, 0.3, 0.5, 0.7], c = Self.categories(keys, Self.kinds)
        var classifier = NadarayaWatsonClassifier(bandwidth: .widths(bandwidths))
        classifier.featureKinds = Self.kinds
        let model = try classifier.fit(keys: keys, labels: labels)
        let p = try model.probabilities(queries)
        var density = ParzenDensity(kernel: .gaussian, bandwidth: .widths(bandwidths))
        density.featureKinds = Self.kinds
        let densities = try density.fit(samples: keys).density(queries)
        for i in 0..<queries.rows {
            let w = (0..<keys.rows).map {
                Self.plainWeight(.gaussian, .radial, Self.kinds, bandwidths, categories: c, queries.row(i), keys.row($0))
            }
            let total = w.reduce(0, +)
            for (k, label) in model.classes.enumerated() {
                let expected = zip(w, labels).filter { $0.1 == label }.reduce(0) { $0 + $1.0 } / total
                #expect(abs(p[i, k] - expected) <= 1e-13)
            }
            // The Gaussian density's constant in 2 continuous dimensions: 1/(2π h₁h₄).
            let expected = total / (Double(keys.rows) * 2 * Double.pi * 0.9 * 0.7)
            #expect(abs(densities[i] - expected) <= 1e-12 * expected)
        }
    }

    /// Leave-one-out criteria by brute force: the plain fit over the other rows.
    @Test("leave-one-out criteria equal brute force")
    func leaveOneOutCriteria() throws {
        let (keys, y, labels) = Self.data(45)
        let bandwidths = [0.7, 0.25, 0.45, 0.8], c = Self.categories(keys, Self.kinds), n = keys.rows
        var random = SplitMix64(seed: 21)
        let weights = (0..<n).map { _ in 0.5 + random.nextUniform() }
        for degree in [0, 1] {
            for w in [nil, weights] {
                let (model, _) = try MixedModel.fit(kernel: .gaussian, form: .radial, kinds: Self.kinds, keys: keys,
                                                    values: .dense(Matrix(column: y)), weights: w, bandwidth: .widths(bandwidths),
                                                    emptyPolicy: .nan, threads: 2, criterion: nil, progress: nil)
                let score = MixedCrossValidation.score(model, .leastSquares(targets: y, degree: degree))
                var sum = 0.0
                for i in 0..<n {
                    let f = Self.plainFit(.gaussian, .radial, Self.kinds, bandwidths, keys: keys, y: y, weights: w, degree: degree,
                                          query: keys.row(i), excluding: i)
                    sum += (w?[i] ?? 1) * (y[i] - f) * (y[i] - f)
                }
                let expected = sum / (w?.reduce(0, +) ?? Double(n))
                #expect(abs(score - expected) <= 1e-11 * expected, "degree \(degree): \(score) vs \(expected)")
            }
        }
        // Cross-entropy and the likelihood.
        let classes = ClassLabels(labels)
        let (classModel, _) = try MixedModel.fit(kernel: .gaussian, form: .radial, kinds: Self.kinds, keys: keys,
                                                 values: .classes(indices: classes.indices, count: classes.classes.count),
                                                 weights: nil, bandwidth: .widths(bandwidths), emptyPolicy: .nan, threads: 2,
                                                 criterion: nil, progress: nil)
        let entropy = MixedCrossValidation.score(classModel, .crossEntropy(classes: classes.indices))
        let likelihood = MixedCrossValidation.score(classModel, .likelihood { h in -log(2 * Double.pi * h[0] * h[1]) })
        var expectedEntropy = 0.0, expectedLikelihood = 0.0
        for i in 0..<n {
            let w = (0..<n).map { $0 == i ? 0 : Self.plainWeight(.gaussian, .radial, Self.kinds, bandwidths, categories: c, keys.row(i), keys.row($0)) }
            let total = w.reduce(0, +)
            let own = zip(w, labels).filter { $0.1 == labels[i] }.reduce(0) { $0 + $1.0 }
            expectedEntropy -= log(max(own / total, MixedCrossValidation.probabilityFloor))
            expectedLikelihood -= log(total / (Double(n - 1) * 2 * Double.pi * 0.7 * 0.8))
        }
        #expect(abs(entropy - expectedEntropy / Double(n)) <= 1e-12 * abs(expectedEntropy / Double(n)))
        #expect(abs(likelihood - expectedLikelihood / Double(n)) <= 1e-12 * abs(expectedLikelihood / Double(n)))
    }

    @Test("cross-validation selects every h and λ at least as well as a brute-force grid")
    func selection() throws {
        let (keys, y, labels) = Self.data(40)
        var estimator = LocalPolynomialRegressor(bandwidth: .cv, degree: 0)
        estimator.featureKinds = Self.kinds
        let evaluations = Counter()
        estimator.selectionProgress = { count, _ in evaluations.set(count) }
        let clock = ContinuousClock.now
        let fitted = try estimator.fit(keys: keys, targets: y)
        print("mixed CV: \(evaluations.value) evaluations in \(ContinuousClock.now - clock)")
        let selected = try #require(fitted.crossValidationScore)
        let (base, _) = try MixedModel.fit(kernel: .gaussian, form: .radial, kinds: Self.kinds, keys: keys,
                                           values: .dense(Matrix(column: y)), weights: nil, bandwidth: .widths([1, 0.1, 0.1, 1]),
                                           emptyPolicy: .nan, threads: 2, criterion: nil, progress: nil)
        var gridBest = Double.infinity
        for h1 in [0.25, 0.5, 1] { for l1 in [0.0, 0.3, 0.6] { for l2 in [0.0, 0.4, 0.8] { for h2 in [0.3, 0.6, 1.2] {
            var model = base
            model.widths = [h1, h2]
            model.lambdas = [l1, l2]
            gridBest = min(gridBest, MixedCrossValidation.score(model, .leastSquares(targets: y, degree: 0)))
        } } } }
        #expect(selected <= gridBest * (1 + 1e-9), "selected \(selected), grid \(gridBest)")
        let b = fitted.bandwidths
        #expect(b[1] >= 0 && b[1] <= 2.0 / 3 && b[2] >= 0 && b[2] <= 1)
        // The selected setting's score is the score reported.
        var model = base
        model.widths = [b[0], b[3]]
        model.lambdas = [b[1], b[2]]
        #expect(abs(MixedCrossValidation.score(model, .leastSquares(targets: y, degree: 0)) - selected) <= 1e-12 * selected)

        // Classification and density CV run and report their own criterion (one continuous and
        // one categorical feature: the searches' cost is the number of parameters).
        let small = FeatureLayout.columns(keys, [0, 1]), kinds: [FeatureKind] = [.continuous, .categorical]
        var classifier = NadarayaWatsonClassifier(bandwidth: .cv)
        classifier.featureKinds = kinds
        let classes = try classifier.fit(keys: small, labels: labels)
        #expect(try #require(classes.crossValidationScore) < log(3))
        var density = ParzenDensity(bandwidth: .cv)
        density.featureKinds = kinds
        #expect(try density.fit(samples: small).crossValidationScore?.isFinite == true)
    }
}

/// A count written by a @Sendable progress callback.
final class Counter: @unchecked Sendable {
    private(set) var value = 0
    func set(_ v: Int) { value = v }
}
