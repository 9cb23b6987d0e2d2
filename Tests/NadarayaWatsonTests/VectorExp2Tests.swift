import Foundation
import Testing
@testable import NadarayaWatson

@Suite("VectorExp2")
struct VectorExp2Tests {
    /// Distance in ulps between `got` and the correctly rounded `expected` (as Foundation's exp2,
    /// itself within 1 ulp; so a bound of 1 here means ≤ 2 against the true value).
    func ulps(_ got: Double, _ expected: Double) -> Double { abs(got - expected) / expected.ulp }

    @Test("double exp2 within 1 ulp of libm over [−1020, 0]")
    func doubleAccuracy() {
        var rng = SeededGenerator(seed: 42)
        var worst = 0.0
        var arguments = (0..<40_000).map { _ in -Double.random(in: 0...1, using: &rng) }
        arguments += (0..<40_000).map { _ in -Double.random(in: 0...1020, using: &rng) }
        arguments += [0, -0.5, -1, -1019.5, -1020, -1e-300]
        for start in stride(from: 0, to: arguments.count - 7, by: 8) {
            let t = SIMD8<Double>(arguments[start..<start + 8])
            let e = SIMD8<Double>.exp2NonPositive(t)
            for lane in 0..<8 { worst = max(worst, ulps(e[lane], exp2(t[lane]))) }
        }
        #expect(worst <= 1, "worst \(worst) ulp")
    }

    @Test("float exp2 within 2 ulp of libm over [−124, 0]")
    func floatAccuracy() {
        var rng = SeededGenerator(seed: 43)
        var worst: Float = 0
        for _ in 0..<5_000 {
            let t = SIMD16<Float>((0..<16).map { _ in -Float.random(in: 0...124, using: &rng) })
            let e = SIMD16<Float>.exp2NonPositive(t)
            for lane in 0..<16 { worst = max(worst, abs(e[lane] - exp2f(t[lane])) / exp2f(t[lane]).ulp) }
        }
        #expect(worst <= 2, "worst \(worst) ulp")
    }

    @Test("arguments below the floor are clamped, never garbage")
    func clamping() {
        let e = SIMD8<Double>.exp2NonPositive(SIMD8(-1021, -2000, -1e300, -.infinity, -1e5, -1023.7, -4000, -1020))
        for lane in 0..<8 { #expect(e[lane] > 0 && e[lane] <= 0x1p-1019, "lane \(lane): \(e[lane])") }
        let f = SIMD16<Float>.exp2NonPositive(SIMD16(repeating: -.infinity))
        #expect(f[0] > 0 && f[0] <= 0x1p-123)
    }
}
