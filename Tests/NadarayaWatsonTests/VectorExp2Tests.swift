import Foundation
import Testing
@testable import NadarayaWatson

@Suite("VectorExp2")
struct VectorExp2Tests {
    @Test("double: 2^t − 2^−1020 within 2 ulp of libm (each side rounds once more) over [−1020, 0]")
    func doubleAccuracy() {
        var rng = SeededGenerator(seed: 42)
        var worst = 0.0
        var arguments = (0..<40_000).map { _ in -Double.random(in: 0...1, using: &rng) }
        arguments += (0..<40_000).map { _ in -Double.random(in: 0...1020, using: &rng) }
        arguments += [0, -0.5, -1, -1019.5, -1e-300, -1019.75, -2, -7.25]
        for start in stride(from: 0, to: arguments.count - 7, by: 8) {
            let t = SIMD8<Double>(arguments[start..<start + 8])
            let e = SIMD8<Double>.exp2NonPositive(t)
            for lane in 0..<8 {
                let exact = exp2(t[lane])
                worst = max(worst, abs(e[lane] - (exact - 0x1p-1020)) / exact.ulp)
            }
        }
        #expect(worst <= 2, "worst \(worst) ulp")
    }

    @Test("float: 2^t − 2^−124 to within 2 ulp of 2^t over [−124, 0]")
    func floatAccuracy() {
        var rng = SeededGenerator(seed: 43)
        var worst: Float = 0
        for _ in 0..<5_000 {
            let t = SIMD16<Float>((0..<16).map { _ in -Float.random(in: 0...124, using: &rng) })
            let e = SIMD16<Float>.exp2NonPositive(t)
            for lane in 0..<16 {
                let exact = exp2f(t[lane])
                worst = max(worst, abs(e[lane] - (exact - 0x1p-124)) / exact.ulp)
            }
        }
        #expect(worst <= 2, "worst \(worst) ulp")
    }

    @Test("at and below the floor the result is exactly zero, never garbage, down to −∞")
    func floor() {
        let e = SIMD8<Double>.exp2NonPositive(SIMD8(-1020, -2000, -1e300, -.infinity, -1e5, -1023.7, -4000, -1019))
        for lane in 0..<7 { #expect(e[lane] == 0, "lane \(lane)") }
        #expect(e[7] == 0x1p-1020)
        #expect(SIMD16<Float>.exp2NonPositive(SIMD16(repeating: -.infinity))[0] == 0)
        #expect(SIMD16<Float>.exp2NonPositive(SIMD16(repeating: -124))[0] == 0)
        #expect(SIMD16<Float>.exp2NonPositive(SIMD16(repeating: 0))[0] == 1 - 0x1p-124)
    }

    @Test("a key far beyond a narrow kernel contributes exactly nothing")
    func farKeysContributeNothing() throws {
        // The nearest key has value 0; every other key is > 40 widths away.
        let model = try NadarayaWatsonRegressor(bandwidth: .width(0.01), strategy: .vectorized)
            .fit(keys: Matrix(column: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]), values: Matrix(column: [0, 5, 5, 5, 5, 5, 5, 5, 5, 5]))
        #expect(try model.predict(Matrix(column: [0.001]))[0, 0] == 0)
    }

    @Test("vector square root within 1 ulp of sqrt, from 10⁻³⁰⁰ to the largest double; +∞ reads as the largest")
    func squareRoot() {
        var rng = SeededGenerator(seed: 44)
        var worst = 0.0
        var arguments = (0..<20_000).map { _ in exp2(Double.random(in: -996...1023.99, using: &rng)) }
        arguments += [0, 1, 2, 4, 0.25, 1e-300, .greatestFiniteMagnitude, 3, 5, 7, 1e300, 0x1p-996]
        for start in stride(from: 0, to: arguments.count - 7, by: 8) {
            let x = SIMD8<Double>(arguments[start..<start + 8])
            let r = SIMD8<Double>.squareRoot(x)
            for lane in 0..<8 {
                let exact = x[lane].squareRoot()
                worst = max(worst, exact == 0 ? r[lane] : abs(r[lane] - exact) / exact.ulp)
            }
        }
        #expect(worst <= 1, "worst \(worst) ulp")
        #expect(SIMD8<Double>.squareRoot(SIMD8(repeating: .infinity))[0] == Double.greatestFiniteMagnitude.squareRoot())
        var worstFloat: Float = 0
        for _ in 0..<2_000 {
            let x = SIMD16<Float>((0..<16).map { _ in exp2f(Float.random(in: -120...127.9, using: &rng)) })
            let r = SIMD16<Float>.squareRoot(x)
            for lane in 0..<16 { worstFloat = max(worstFloat, abs(r[lane] - x[lane].squareRoot()) / x[lane].squareRoot().ulp) }
        }
        #expect(worstFloat <= 1, "worst \(worstFloat) ulp")
        #expect(SIMD16<Float>.squareRoot(SIMD16(repeating: 0))[0] == 0)
    }
}
