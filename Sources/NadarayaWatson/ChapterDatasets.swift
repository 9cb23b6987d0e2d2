import RealModule

/// The synthetic data sets of the *Dive into Deep Learning* chapters, from a seeded generator so
/// figures and tests are reproducible (the chapter's own draws are not).
public enum ChapterDatasets {
    /// Training inputs sorted in [0, 5), targets with noise, and the noise-free truth on a grid.
    public struct Data: Sendable {
        public let x: [Double], y: [Double]
        public let grid: [Double], truth: [Double]
    }

    /// "Nadaraya–Watson kernel regression": y = 2 sin x + x^0.8 + ε, ε ~ N(0, 0.5²), n = 50,
    /// queries 0, 0.1, …, 4.9.
    public static func parametric(n: Int = 50, seed: UInt64) -> Data {
        make(n: n, sigma: 0.5, seed: seed) { 2 * Double.sin($0) + Double.pow($0, 0.8) }
    }

    /// "Attention pooling by similarity": y = 2 sin x + x + ε, ε ~ N(0, 1), n = 40, queries 0, 0.1, …, 4.9.
    public static func similarity(n: Int = 40, seed: UInt64) -> Data {
        make(n: n, sigma: 1, seed: seed) { 2 * Double.sin($0) + $0 }
    }

    static func make(n: Int, sigma: Double, seed: UInt64, _ f: (Double) -> Double) -> Data {
        var generator = SplitMix64(seed: seed)
        func uniform() -> Double { generator.nextUniform() }
        func normal() -> Double {
            // Box–Muller.
            let u = 1 - uniform(), v = uniform()
            return (-2 * Double.log(u)).squareRoot() * Double.cos(2 * Double.pi * v)
        }
        let x = (0..<n).map { _ in 5 * uniform() }.sorted()
        let y = x.map { f($0) + sigma * normal() }
        let grid = (0..<50).map { Double($0) / 10 }
        return Data(x: x, y: y, grid: grid, truth: grid.map(f))
    }
}
