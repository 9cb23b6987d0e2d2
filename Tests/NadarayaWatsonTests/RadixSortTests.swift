import Testing
@testable import NadarayaWatson

@Suite("RadixSort")
struct RadixSortTests {
    @Test("the order of a stable comparison sort by (value, index)", arguments: [0, 1, 5, 4095, 4096, 10_007, 100_003])
    func matchesComparisonSort(_ n: Int) {
        var rng = SeededGenerator(seed: UInt64(n) &+ 1)
        // Mixed magnitudes and signs, many ties, ±0, subnormals and the extremes.
        let special: [Double] = [0, -0.0, 1, -1, .greatestFiniteMagnitude, -.greatestFiniteMagnitude,
                                 .leastNonzeroMagnitude, -.leastNonzeroMagnitude, .leastNormalMagnitude, 1e-300, -1e300]
        let values = (0..<n).map { i -> Double in
            switch i % 4 {
            case 0: return special[Int.random(in: 0..<special.count, using: &rng)]
            case 1: return Double(Int.random(in: -5...5, using: &rng))
            case 2: return Double.random(in: -1e6...1e6, using: &rng)
            default: return Double.random(in: -1...1, using: &rng) * Double.random(in: 1e-200...1e200, using: &rng)
            }
        }
        let expected = (0..<n).sorted { values[$0] < values[$1] || (values[$0] == values[$1] && $0 < $1) }
        #expect(RadixSort.sortedOrder(values) == expected, "n = \(n), seed \(n + 1)")
    }
}
