import Testing
@testable import NadarayaWatson

@Suite("NadarayaWatsonClassifier")
struct NadarayaWatsonClassifierTests {
    @Test("probabilities are pooled one-hot labels", arguments: [Kernel.gaussian, .epanechnikov, .laplacian])
    func probabilitiesArePooledOneHot(_ kernel: Kernel) throws {
        var rng = SeededGenerator(seed: 21)
        let keys = Matrix.random(rows: 45, columns: 2, in: 0...5, using: &rng)
        let labels = (0..<45).map { _ in ["b", "a", "c"][Int.random(in: 0..<3, using: &rng)] }
        let queries = Matrix.random(rows: 13, columns: 2, in: 0...5, using: &rng)
        let classifier = try NadarayaWatsonClassifier(kernel: kernel, bandwidth: .width(2)).fit(keys: keys, labels: labels)
        #expect(classifier.classes == ["a", "b", "c"])
        let oneHot = Matrix(rows: 45, columns: 3, elements: labels.flatMap { l in ["a", "b", "c"].map { $0 == l ? 1.0 : 0.0 } })
        let plain = plainNadarayaWatson(kernel: kernel, form: .radial, keys: keys, values: oneHot, bandwidths: [2, 2], queries: queries)
        let probabilities = try classifier.probabilities(queries)
        #expect(relativeError(probabilities, plain.predictions) < 1e-13)
        let predicted = try classifier.predict(queries)
        for i in 0..<13 {
            let row = probabilities.row(i)
            #expect(abs(row.reduce(0, +) - 1) < 1e-14)
            #expect(predicted[i] == classifier.classes[row.firstIndex(of: row.max()!)!])
        }
    }

    @Test func tiesGoToTheFirstClass() throws {
        let classifier = try NadarayaWatsonClassifier(kernel: .gaussian, bandwidth: .width(1))
            .fit(keys: Matrix(column: [-1, 1]), labels: ["10", "9"])
        #expect(classifier.classes == ["9", "10"])
        #expect(try classifier.predict(Matrix(column: [0])) == ["9"])
    }

    @Test func emptyQueryHasNoLabelUnderNan() throws {
        let classifier = try NadarayaWatsonClassifier(kernel: .boxcar, bandwidth: .width(1))
            .fit(keys: Matrix(column: [0, 1]), labels: ["x", "y"])
        #expect(try classifier.predict(Matrix(column: [0.2, 50])) == ["x", nil])
    }

    @Test func nearestGivesTheNearestLabel() throws {
        let classifier = try NadarayaWatsonClassifier(kernel: .boxcar, bandwidth: .width(1), emptyPolicy: .nearest)
            .fit(keys: Matrix(column: [0, 1, 5]), labels: ["x", "y", "z"])
        let p = try classifier.probabilities(Matrix(column: [40]))
        #expect(p.row(0) == [0, 0, 1])
    }
}
