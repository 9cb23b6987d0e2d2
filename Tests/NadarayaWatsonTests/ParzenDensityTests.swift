import Foundation
import Testing
@testable import NadarayaWatson

@Suite("ParzenDensity")
struct ParzenDensityTests {
    static let integrable: [Kernel] = Kernel.allCases.filter { $0 != .constant && $0 != .dot }

    /// ∫ f over ℝ by x = c + s·tan θ and the composite midpoint rule in θ ∈ (−π/2, π/2) with
    /// `intervals` steps: heavy tails become a bounded integrand, and no end point is evaluated.
    static func integrate(intervals: Int, center c: Double, scale s: Double, _ f: ([Double]) -> [Double]) -> Double {
        let step = Double.pi / Double(intervals)
        let thetas = (0..<intervals).map { -Double.pi / 2 + (Double($0) + 0.5) * step }
        let values = f(thetas.map { c + s * tan($0) })
        var sum = 0.0
        for (k, theta) in thetas.enumerated() { sum += values[k] * s / (cos(theta) * cos(theta)) }
        return sum * step
    }

    /// ∫ f over (a, b) by the composite midpoint rule.
    static func integrate(from a: Double, to b: Double, intervals: Int, _ f: (Double) -> Double) -> Double {
        let step = (b - a) / Double(intervals)
        var sum = 0.0
        for k in 0..<intervals { sum += f(a + (Double(k) + 0.5) * step) }
        return sum * step
    }

    @Test("the normalising constants match numerical integrals of the profiles", arguments: integrable)
    func constants(_ kernel: Kernel) throws {
        // 1-D: c·∫K = 1.
        let c1 = try #require(kernel.normalizingConstant)
        // Compact kernels over their support (kinks only at its ends), the others over ℝ.
        func integral(_ g: @escaping (Double) -> Double, radial: Bool) -> Double {
            if kernel.isCompact { return Self.integrate(from: radial ? 0 : -1, to: 1, intervals: 200_000, g) }
            let whole = Self.integrate(intervals: 200_000, center: 0, scale: 1) { xs in xs.map(g) }
            return radial ? whole / 2 : whole
        }
        let oneD = integral(kernel.profile, radial: false)
        #expect(abs(c1 * oneD - 1) < 1e-8, "\(kernel): \(c1 * oneD)")
        // Radial d = 2, 3: c_d · S_{d−1} · ∫₀^∞ K(r) r^{d−1} dr = 1 (the even extension halved).
        for d in [2, 3] where kernel != .cauchy {
            let cd = try #require(kernel.normalizingConstant(dimension: d, form: .radial))
            let sphere = 2 * pow(Double.pi, Double(d) / 2) / tgamma(Double(d) / 2)
            let radial = integral({ kernel.profile($0) * pow(abs($0), Double(d - 1)) }, radial: true)
            #expect(abs(cd * sphere * radial - 1) < 1e-8, "\(kernel) d=\(d): \(cd * sphere * radial)")
        }
        #expect(kernel.normalizingConstant(dimension: 3, form: .product) == pow(c1, 3))
    }

    @Test("the Dirichlet eta function: η(1) = ln 2, η(2) = π²/12, η(4) = 7π⁴/720")
    func eta() {
        #expect(abs(Kernel.dirichletEta(1) - log(2)) < 1e-15)
        #expect(abs(Kernel.dirichletEta(2) - Double.pi * Double.pi / 12) < 1e-15)
        #expect(abs(Kernel.dirichletEta(4) - 7 * pow(Double.pi, 4) / 720) < 1e-15)
    }

    @Test("p̂ integrates to 1 in 1-D", arguments: integrable)
    func integratesTo1OneD(_ kernel: Kernel) throws {
        let samples = Matrix(column: [0, 0.7, 2.1, 2.15, 5])
        let kde = try ParzenDensity(kernel: kernel, bandwidth: .width(0.6)).fit(samples: samples)
        let total = Self.integrate(intervals: 100_000, center: 2, scale: 2) { xs in (try? kde.density(Matrix(column: xs))) ?? [] }
        // The boxcar's jumps limit the midpoint rule to ~1e-5 here; smooth kernels reach 1e-8.
        #expect(abs(total - 1) < (kernel == .boxcar ? 1e-4 : 1e-6), "\(kernel): \(total)")
    }

    @Test("p̂ integrates to 1 in 2-D, both forms, per-feature widths", arguments: integrable)
    func integratesTo1TwoD(_ kernel: Kernel) throws {
        let samples = Matrix([[0, 0], [0.7, 0.3], [2.1, -1], [1, 1]])
        for form in KernelForm.allCases {
            if kernel == .cauchy && form == .radial {
                #expect(throws: NadarayaWatsonError.self) { try ParzenDensity(kernel: kernel, form: form, bandwidth: .width(1)).fit(samples: samples) }
                continue
            }
            let kde = try ParzenDensity(kernel: kernel, form: form, bandwidth: .widths([0.8, 0.5])).fit(samples: samples)
            // Tensor-product midpoint rule in (θ₁, θ₂).
            let intervals = 600
            let step = Double.pi / Double(intervals)
            let thetas = (0..<intervals).map { -Double.pi / 2 + (Double($0) + 0.5) * step }
            let (c, s) = ([1.0, 0.0], [1.5, 1.0])
            var points: [[Double]] = [], weights: [Double] = []
            for t1 in thetas {
                for t2 in thetas {
                    points.append([c[0] + s[0] * tan(t1), c[1] + s[1] * tan(t2)])
                    let w1 = s[0] / (cos(t1) * cos(t1))
                    let w2 = s[1] / (cos(t2) * cos(t2))
                    weights.append(w1 * w2)
                }
            }
            let p = try kde.density(Matrix(points))
            let total = zip(p, weights).map(*).reduce(0, +) * step * step
            // The boxcar's jumps along grid lines limit a tensor midpoint rule to ~2e-3 here; kinked
            // profiles reach ~5e-5, smooth ones 1e-14.
            #expect(abs(total - 1) < (kernel == .boxcar ? 5e-3 : 1e-4), "\(kernel) \(form): \(total)")
        }
    }

    @Test("the Gaussian SIMD path equals the log-space sum; far points get a tiny density, not NaN")
    func gaussianPath() throws {
        var rng = SeededGenerator(seed: 31)
        let samples = Matrix.random(rows: 203, columns: 3, in: -2...2, using: &rng)
        let points = Matrix.random(rows: 77, columns: 3, in: -3...3, using: &rng)
        let kde = try ParzenDensity(bandwidth: .widths([0.3, 0.5, 0.4])).fit(samples: samples)
        let fast = try kde.logDensity(points)
        var worst = 0.0
        points.elements.withUnsafeBufferPointer { xs in
            for i in 0..<points.rows {
                let slow = StreamingEngine.logTotalWeight(kde.problem, query: xs.baseAddress! + i * 3) + kde.logScale
                worst = max(worst, abs(fast[i] - slow) / max(1, abs(slow)))
            }
        }
        #expect(worst < 1e-13, "worst \(worst)")
        let far = try kde.logDensity(Matrix([[1e3, 0, 0], [1e200, 1e200, 1e200]]))
        #expect(far[0].isFinite && far[0] < -1e5)
        #expect(!far[1].isNaN)
        #expect(try kde.density(Matrix([[1e3, 0, 0]]))[0] == 0)
    }

    @Test("exercise 1: binary NW classification agrees in sign with p̂(x, y=1) − p̂(x, y=−1)",
          arguments: [Kernel.gaussian, .epanechnikov, .laplacian])
    func classificationIdentity(_ kernel: Kernel) throws {
        var rng = SeededGenerator(seed: 41)
        let n = 120
        let x = Matrix.random(rows: n, columns: 2, in: 0...4, using: &rng)
        let labels = (0..<n).map { i in (x[i, 0] + x[i, 1] + Double.random(in: -1.5...1.5, using: &rng)) > 4 ? "1" : "-1" }
        let h = 0.9
        let classifier = try NadarayaWatsonClassifier(kernel: kernel, bandwidth: .width(h), emptyPolicy: .nan)
            .fit(keys: x, labels: labels)
        let queries = Matrix.random(rows: 300, columns: 2, in: -0.5...4.5, using: &rng)
        let probabilities = try classifier.probabilities(queries)
        let plus = classifier.classes.firstIndex(of: "1")!, minus = classifier.classes.firstIndex(of: "-1")!
        // The joint densities p̂(x, y = c) = (1/n) Σ_{i: yᵢ = c} K_h(x − xᵢ) = (n_c/n) p̂(x | c).
        func joint(_ label: String) throws -> [Double] {
            let rows = (0..<n).filter { labels[$0] == label }
            let kde = try ParzenDensity(kernel: kernel, bandwidth: .width(h)).fit(samples: Matrix(rows.map { x.row($0) }))
            return try kde.density(queries).map { $0 * Double(rows.count) / Double(n) }
        }
        let p1 = try joint("1"), p2 = try joint("-1")
        var compared = 0
        for i in 0..<queries.rows {
            let total = p1[i] + p2[i]
            guard total > 0 else { continue } // outside every support: both sides undefined
            let difference = probabilities[i, plus] - probabilities[i, minus]
            // P(1|x) − P(−1|x) = (p̂(x,1) − p̂(x,−1)) / p̂(x): same sign, and equal after dividing.
            #expect(abs(difference - (p1[i] - p2[i]) / total) < 1e-12, "query \(i)")
            if abs(difference) > 1e-9 {
                #expect((difference > 0) == (p1[i] > p2[i]), "query \(i)")
                compared += 1
            }
        }
        #expect(compared > 200)
    }
}
