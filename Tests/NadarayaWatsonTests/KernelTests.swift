import Foundation
import Testing
@testable import NadarayaWatson

@Suite("Kernel")
struct KernelTests {
    /// Hand-computed profiles (Python's math module, or exact arithmetic) at u = 0, ±0.5, 0.9,
    /// the open boundary 1 and beyond.
    static let table: [(Kernel, [(Double, Double)])] = [
        (.gaussian, [(0, 1), (0.5, 0.8824969025845955), (-0.5, 0.8824969025845955), (1, 0.6065306597126334), (2.5, 0.04393693362340742)]),
        (.boxcar, [(0, 1), (0.5, 1), (-0.999, 1), (1, 0), (-1, 0), (2.5, 0)]),
        (.constant, [(0, 1), (0.5, 1), (1, 1), (1e300, 1)]),
        (.epanechnikov, [(0, 1), (0.5, 0.75), (-0.5, 0.75), (0.9, 0.18999999999999995), (1, 0), (-1, 0), (2.5, 0)]),
        (.triangular, [(0, 1), (0.5, 0.5), (-0.25, 0.75), (1, 0), (-1, 0), (2.5, 0)]),
        (.biweight, [(0, 1), (0.5, 0.5625), (-0.5, 0.5625), (1, 0), (2.5, 0)]),
        (.triweight, [(0, 1), (0.5, 0.421875), (-0.5, 0.421875), (1, 0), (2.5, 0)]),
        (.tricube, [(0, 1), (0.5, 0.669921875), (-0.5, 0.669921875), (0.9, 0.01990251099999998), (1, 0), (2.5, 0)]),
        (.cosine, [(0, 1), (0.5, 0.7071067811865476), (-0.3, 0.8910065241883679), (0.9, 0.15643446504023092), (1, 0), (-1, 0), (2.5, 0)]),
        (.logistic, [(0, 0.25), (0.5, 0.2350037122015945), (-0.3, 0.24445831169074586), (1, 0.19661193324148185), (2.5, 0.07010371654510816)]),
        (.cauchy, [(0, 1), (0.5, 0.8), (-0.3, 0.9174311926605504), (1, 0.5), (2.5, 0.13793103448275862)]),
        (.laplacian, [(0, 1), (0.5, 0.6065306597126334), (-0.3, 0.7408182206817179), (1, 0.36787944117144233), (2.5, 0.0820849986238988)]),
        // dot is not a function of u; its profile functions are the Gaussian's (the unit-sphere identity).
        (.dot, [(0, 1), (0.5, 0.8824969025845955), (-0.5, 0.8824969025845955), (1, 0.6065306597126334), (2.5, 0.04393693362340742)]),
    ]

    @Test("every kernel has a table", arguments: Kernel.allCases)
    func tableCoversKernel(_ kernel: Kernel) {
        #expect(Self.table.contains { $0.0 == kernel })
    }

    @Test("profile matches hand-computed values", arguments: Self.table.map { $0.0 })
    func profileMatchesTable(_ kernel: Kernel) {
        let rows = Self.table.first { $0.0 == kernel }!.1
        for (u, expected) in rows {
            let got = kernel.profile(u)
            #expect(abs(got - expected) <= 4 * Double.ulpOfOne * max(abs(expected), 1e-300), "K(\(u)) = \(got), expected \(expected)")
        }
    }

    @Test("log profile is the log of the profile", arguments: Kernel.allCases)
    func logProfileMatchesProfile(_ kernel: Kernel) {
        for u in stride(from: -2.0, through: 2.0, by: 0.0625) {
            let k = kernel.profile(u)
            let logK = kernel.logProfile(u)
            if k == 0 {
                #expect(logK == -.infinity)
            } else {
                #expect(abs(logK - log(k)) <= 1e-14 * max(1, abs(logK)), "u = \(u)")
            }
        }
    }

    @Test("compact support is open and exactly the unit interval", arguments: Kernel.allCases)
    func openSupport(_ kernel: Kernel) {
        let inside = kernel.profile(1.0.nextDown), atOne = kernel.profile(1), outside = kernel.profile(1.0.nextUp)
        if kernel.isCompact {
            #expect(inside > 0)
            #expect(atOne == 0)
            #expect(outside == 0)
            #expect(kernel.radialProfile(squaredDistance: 1) == 0)
            #expect(kernel.radialLogProfile(squaredDistance: 1) == -.infinity)
        } else {
            #expect(atOne > 0 && outside > 0)
        }
    }

    @Test("log space keeps the far tail", arguments: [Kernel.gaussian, .logistic, .cauchy, .laplacian])
    func farTailIsFinite(_ kernel: Kernel) {
        let u = 1e6
        #expect(kernel.logProfile(u).isFinite)
        #expect(kernel.logProfile(u) < kernel.logProfile(u / 2))
    }

    @Test("radial profile of s equals the profile of √s", arguments: Kernel.allCases)
    func radialMatchesProfile(_ kernel: Kernel) {
        for s in stride(from: 0.0, through: 3.0, by: 0.03125) {
            let expected = plainProfile(kernel, s.squareRoot())
            #expect(abs(kernel.radialProfile(squaredDistance: s) - expected) <= 1e-15, "s = \(s)")
        }
    }
}
