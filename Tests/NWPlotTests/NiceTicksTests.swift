import Testing
@testable import NWPlot

@Suite("NiceTicks")
struct NiceTicksTests {
    @Test("steps are 1, 2, 2.5 or 5 times a power of ten", arguments: [
        (10.0, 2.0), (1.0, 0.2), (5.0, 1.0), (4.9, 1.0), (0.07, 0.02), (100.0, 20.0), (12.0, 2.0), (14.0, 2.5), (2.5, 0.5), (3.0, 0.5),
        (1e6, 2e5), (0.003, 0.0005),
    ])
    func steps(_ span: Double, _ expected: Double) {
        let step = NiceTicks.step(span: span)
        #expect(abs(step - expected) <= 1e-12 * expected, "span \(span): \(step)")
    }

    @Test("ticks are the step's multiples inside the range, never -0")
    func ticks() {
        #expect(NiceTicks.ticks(from: -0.25, to: 5.25) == [0, 1, 2, 3, 4, 5])
        #expect(NiceTicks.ticks(from: -1, to: 5) == [-1, 0, 1, 2, 3, 4, 5])
        #expect(NiceTicks.ticks(from: 0, to: 0.05) == [0, 0.01, 0.02, 0.03, 0.04, 0.05])
        #expect(NiceTicks.ticks(from: -2.6, to: 2.6) == [-2, -1, 0, 1, 2])
        #expect(NiceTicks.ticks(from: -0.3, to: 0.3).allSatisfy { $0.sign == .plus || $0 != 0 })
        #expect(NiceTicks.ticks(from: 3, to: 3) == [3])
    }

    @Test("random ranges: 3 to 12 ticks, evenly spaced, inside the range")
    func randomRanges() {
        var state: UInt64 = 99
        for _ in 0..<2000 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let lo = Double(Int64(bitPattern: state) % 10000) / 37
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let span = pow10(Double(state % 12) - 6) * (1 + Double(state >> 40 % 1000) / 100)
            let ticks = NiceTicks.ticks(from: lo, to: lo + span)
            #expect((3...12).contains(ticks.count), "\(lo)…\(lo + span): \(ticks)")
            #expect(ticks.allSatisfy { $0 >= lo - span * 1e-9 && $0 <= lo + span * (1 + 1e-9) })
        }
    }

    @Test("labels have just enough decimals")
    func decimals() {
        #expect(NiceTicks.decimals(for: 1) == 0)
        #expect(NiceTicks.decimals(for: 20) == 0)
        #expect(NiceTicks.decimals(for: 0.5) == 1)
        #expect(NiceTicks.decimals(for: 0.25) == 2)
        #expect(NiceTicks.decimals(for: 0.001) == 3)
    }

    func pow10(_ e: Double) -> Double { NiceTicks.power10(Int(e)) }
}
