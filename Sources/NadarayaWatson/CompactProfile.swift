import RealModule

/// A compact kernel as a compile-time type, so the engines' loops specialise per kernel with no
/// switch per pair. The arithmetic is exactly `Kernel.radialProfile(squaredDistance:)` and
/// `Kernel.profile(_:)`: the compact engine and the plain streaming engine agree bit for bit.
protocol CompactProfile: SendableMetatype {
    static var kernel: Kernel { get }
    /// K as a function of s = ‖u‖², for 0 ≤ s < 1.
    static func radial(_ s: Double) -> Double
    /// K(a) for 0 ≤ a = |u| < 1.
    static func profile(_ a: Double) -> Double
}

enum BoxcarProfile: CompactProfile {
    static var kernel: Kernel { .boxcar }
    @inline(__always) static func radial(_ s: Double) -> Double { 1 }
    @inline(__always) static func profile(_ a: Double) -> Double { 1 }
}

enum EpanechnikovProfile: CompactProfile {
    static var kernel: Kernel { .epanechnikov }
    @inline(__always) static func radial(_ s: Double) -> Double { 1 - s }
    @inline(__always) static func profile(_ a: Double) -> Double { 1 - a * a }
}

enum TriangularProfile: CompactProfile {
    static var kernel: Kernel { .triangular }
    @inline(__always) static func radial(_ s: Double) -> Double { 1 - s.squareRoot() }
    @inline(__always) static func profile(_ a: Double) -> Double { 1 - a }
}

enum BiweightProfile: CompactProfile {
    static var kernel: Kernel { .biweight }
    @inline(__always) static func radial(_ s: Double) -> Double { (1 - s) * (1 - s) }
    @inline(__always) static func profile(_ a: Double) -> Double { let t = 1 - a * a; return t * t }
}

enum TriweightProfile: CompactProfile {
    static var kernel: Kernel { .triweight }
    @inline(__always) static func radial(_ s: Double) -> Double { (1 - s) * (1 - s) * (1 - s) }
    @inline(__always) static func profile(_ a: Double) -> Double { let t = 1 - a * a; return t * t * t }
}

enum TricubeProfile: CompactProfile {
    static var kernel: Kernel { .tricube }
    @inline(__always) static func radial(_ s: Double) -> Double { profile(s.squareRoot()) }
    @inline(__always) static func profile(_ a: Double) -> Double { let t = 1 - a * a * a; return t * t * t }
}

enum CosineProfile: CompactProfile {
    static var kernel: Kernel { .cosine }
    @inline(__always) static func radial(_ s: Double) -> Double { profile(s.squareRoot()) }
    @inline(__always) static func profile(_ a: Double) -> Double { Double.cos(Double.pi / 2 * a) }
}
