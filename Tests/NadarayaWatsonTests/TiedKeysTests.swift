import Foundation
import Testing
@testable import NadarayaWatson

/// CV over merged tied keys against the same score over the rows (`compressesTies` off).
@Suite("Tied keys")
struct TiedKeysTests {
    /// n rows on few distinct keys (integer ages, a 2-D grid), with optional integer weights.
    func data(d: Int, seed: UInt64) -> (keys: Matrix, y: [Double], s: [Double]) {
        var rng = SeededGenerator(seed: seed)
        let n = 90
        let keys = Matrix(rows: n, columns: d, elements: (0..<n * d).map { _ in Double(rng.next() % 6) })
        let y = (0..<n).map { i in sin(keys[i, 0]) + Double(rng.next() % 100) / 50 }
        let s = (0..<n).map { _ in Double(rng.next() % 2 + 1) }
        return (keys, y, s)
    }

    @Test("the groups: counts, means and centred squares of the rows")
    func groups() throws {
        let keys = Matrix(column: [2, 1, 2, 2, 1, 3]), y: [Double] = [1, 5, 2, 6, 7, 4]
        let groups = try #require(TiedKeys(keys: keys, targets: y, weights: nil, maximumFraction: 1))
        #expect(groups.keys.elements == [1, 2, 3])
        #expect(groups.counts == [2, 3, 1] && groups.means == [6, 3, 4])
        #expect(groups.centredSquares == [2, 14, 0])
        #expect(TiedKeys(keys: keys, targets: y, weights: nil, maximumFraction: 0.4) == nil, "3 groups of 6 rows: more than 40%")
        let weighted = try #require(TiedKeys(keys: keys, targets: y, weights: [1, 1, 2, 1, 1, 1], maximumFraction: 1))
        #expect(weighted.counts == [2, 2, 1, 1] && weighted.weights == [1, 1, 2, 1])
    }

    @Test("CV over tied keys equals CV over the rows: every kernel, degrees 0–2, weights, d = 1 and 2",
          arguments: Kernel.allCases)
    func againstRows(_ kernel: Kernel) throws {
        for d in [1, 2] {
            let (keys, y, s) = data(d: d, seed: 17 + UInt64(d))
            for degree in 0...2 where kernel != .constant || degree == 0 {
                for weights in [nil, s] {
                    for h in [0.6, 1.7, 4.0] {
                        var cv = CrossValidation(kernel: kernel, emptyPolicy: .mean, degree: degree)
                        let merged = try cv.score(keys: keys, targets: y, bandwidths: [h], sampleWeights: weights)
                        cv.compressesTies = false
                        let rows = try cv.score(keys: keys, targets: y, bandwidths: [h], sampleWeights: weights)
                        let context = "\(kernel) d \(d) degree \(degree) weighted \(weights != nil) h \(h)"
                        #expect(merged.isFinite == rows.isFinite, "\(context): \(merged) vs \(rows)")
                        // dot's weights grow with the keys (logits up to 2·25/0.36 ≈ 140 here), so its
                        // degree-2 local designs are ill-conditioned: both sums agree to ~1e-9.
                        let tolerance = kernel == .dot && degree == 2 ? 1e-8 : 1e-10
                        if rows.isFinite { #expect(abs(merged - rows) <= tolerance * rows, "\(context): \(merged) vs \(rows)") }
                    }
                }
            }
        }
    }

    @Test("selection over tied keys picks the rows' width")
    func selection() throws {
        let (keys, y, _) = data(d: 1, seed: 5)
        var cv = CrossValidation(degree: 1)
        let merged = try cv.select(keys: keys, targets: y)
        cv.compressesTies = false
        let rows = try cv.select(keys: keys, targets: y)
        #expect(abs(merged.bandwidths[0] - rows.bandwidths[0]) <= 1e-6 * rows.bandwidths[0])
        #expect(abs(merged.score - rows.score) <= 1e-10 * rows.score)
    }
}
