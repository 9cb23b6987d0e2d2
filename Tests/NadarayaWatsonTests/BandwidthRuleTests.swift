import Testing
@testable import NadarayaWatson

@Suite("BandwidthRule")
struct BandwidthRuleTests {
    // Expected values from NumPy: sd with ddof=1, np.percentile (type 7), n^(-1/(d+4)).
    @Test func scottAndSilvermanOneFeature() throws {
        let keys = Matrix(column: [1, 2, 3, 4, 10])
        let scott = try BandwidthRule.scott.bandwidths(for: keys)
        let silverman = try BandwidthRule.silverman.bandwidths(for: keys)
        #expect(abs(scott[0] - 2.7162320597788) < 1e-14)
        #expect(abs(silverman[0] - 0.9670892473090081) < 1e-14)
    }

    @Test func scottAndSilvermanTwoFeatures() throws {
        let keys = Matrix([[1, 5], [2, 3], [3, 8], [4, 1], [10, 2], [6, 6.5]])
        let scott = try BandwidthRule.scott.bandwidths(for: keys)
        let silverman = try BandwidthRule.silverman.bandwidths(for: keys)
        #expect(abs(scott[0] - 2.5681971045360905) < 1e-14)
        #expect(abs(scott[1] - 2.135477512732916) < 1e-14)
        #expect(abs(silverman[0] - 1.6085036312838594) < 1e-14)
        #expect(abs(silverman[1] - 1.8131412843958719) < 1e-14)
    }

    @Test func type7Quantiles() {
        let x: [Double] = [1, 2, 3, 4, 10]
        #expect(Statistics.quantile(sorted: x, 0.25) == 2)
        #expect(Statistics.quantile(sorted: x, 0.75) == 4)
        #expect(Statistics.quantile(sorted: [1, 2, 3, 4], 0.25) == 1.75)
        #expect(Statistics.quantile(sorted: [7], 0.75) == 7)
    }

    @Test func standardDeviationSurvivesLargeOffset() {
        let x = [1e9 + 1, 1e9 + 2, 1e9 + 3]
        #expect(abs(Statistics.standardDeviation(x) - 1) < 1e-12)
    }

    @Test func constantFeatureIsAnError() {
        #expect(throws: NadarayaWatsonError.degenerateBandwidth(feature: 1, rule: "scott", reason: "the feature is constant")) {
            try BandwidthRule.scott.bandwidths(for: Matrix([[1, 5], [2, 5], [3, 5]]))
        }
    }

    @Test func zeroInterquartileRangeIsAnError() {
        #expect(throws: NadarayaWatsonError.degenerateBandwidth(feature: 0, rule: "silverman", reason: "its interquartile range is 0")) {
            try BandwidthRule.silverman.bandwidths(for: Matrix(column: [0, 1, 1, 1, 1, 1, 9]))
        }
    }

    @Test func oneRowIsAnError() {
        #expect(throws: NadarayaWatsonError.self) { try BandwidthRule.scott.bandwidths(for: Matrix(column: [1])) }
    }
}
