// Implementation goals, in order of priority:
// 1. Accurate: ~1 ulp over the whole range the engines use (t ≤ 0), no NaN, no garbage.
// 2. Branch-free and vectorisable: plain SIMD arithmetic and integer bit operations only.

/// A SIMD vector the engines compute in: `SIMD8<Double>` or `SIMD16<Float>` (one AVX-512
/// register each), with a vectorised 2^t.
protocol EngineVector: SIMD, SendableMetatype where Scalar: BinaryFloatingPoint {
    /// 2^t − 2^F for t ≤ 0, with F = −1020 (double) or −124 (float), to about 1 ulp of 2^t: for
    /// t ≤ F the result is exactly 0 (never garbage or NaN, down to t = −∞); above it, 2^t less an
    /// absolute 2^F, which is below rounding for every weight that can matter beside the largest
    /// (weight 1). So keys far beyond the support contribute exactly nothing.
    static func exp2NonPositive(_ t: Self) -> Self

    /// ``exp2NonPositive(_:)`` of R vectors in lock-step, the same arithmetic: each step of the
    /// polynomial for every vector before the next, so that R independent multiply-add chains
    /// overlap. (Written as a loop over single vectors, the register block's exponentials ran one
    /// after another on AVX2 — an 8-wide double is two ymm registers, too many for the compiler
    /// to unroll the block — with 2 chains in flight where the two FMA units take 8.)
    static func exp2NonPositive<let R: Int>(interleaving t: borrowing InlineArray<R, Self>) -> InlineArray<R, Self>

    /// F: where ``exp2NonPositive(_:)`` clamps t.
    static var exp2Floor: Scalar { get }
    /// 2^F: what ``exp2NonPositive(_:)`` subtracts.
    static var exp2FloorPower: Scalar { get }
    /// 1.5·2^(mantissa bits): t + magic rounds t to an integer held in the low bits.
    static var roundingMagic: Scalar { get }
    /// 2^r for r ∈ [−½, ½] in each of R vectors, by this precision's polynomial.
    static func exp2Reduced<let R: Int>(_ r: borrowing InlineArray<R, Self>) -> InlineArray<R, Self>
    /// p·2^k, with k in the low bits of `rounded` (t + magic), by an integer add to the exponent.
    static func scaled(_ p: Self, byExponentIn rounded: Self) -> Self

    // Comparisons go through these requirements because in generic code `.<` resolves to the
    // standard library's lane-by-lane fallback; in the concrete extensions below it resolves to
    // the vector builtin (one vcmppd).

    /// −a as a floating-point negation. Written a · (−1): the standard library's `-a` is 0 − a,
    /// which differs for signed zeros and so is never folded into a negative multiply-add.
    static func negated(_ a: Self) -> Self
    /// The lane-wise minimum.
    static func minimum(_ a: Self, _ b: Self) -> Self
    /// The lane-wise maximum.
    static func maximum(_ a: Self, _ b: Self) -> Self
    /// 1 / a, lane-wise.
    static func reciprocal(_ a: Self) -> Self
    /// √a, lane-wise.
    static func squareRoot(_ a: Self) -> Self
    /// |a|, lane-wise.
    static func magnitude(_ a: Self) -> Self
    /// Whether any lane of any of the vectors is positive.
    static func anyPositive<let R: Int>(_ e: borrowing InlineArray<R, Self>) -> Bool
}

extension SIMD8: EngineVector where Scalar == Double {
    @inline(__always)
    static func minimum(_ a: SIMD8<Double>, _ b: SIMD8<Double>) -> SIMD8<Double> { a.replacing(with: b, where: b .< a) }

    @inline(__always)
    static func maximum(_ a: SIMD8<Double>, _ b: SIMD8<Double>) -> SIMD8<Double> { a.replacing(with: b, where: b .> a) }

    @inline(__always)
    static func negated(_ a: SIMD8<Double>) -> SIMD8<Double> { a * SIMD8(repeating: -1) }

    @inline(__always)
    static func reciprocal(_ a: SIMD8<Double>) -> SIMD8<Double> { SIMD8(repeating: 1) / a }

    @inline(__always)
    static func squareRoot(_ a: SIMD8<Double>) -> SIMD8<Double> {
        let x = minimum(a, SIMD8(repeating: .greatestFiniteMagnitude))
        let estimate = SIMD8<UInt64>(repeating: 0x5FE6_EB50_C7B5_37A9) &- (unsafeBitCast(x, to: SIMD8<UInt64>.self) &>> 1)
        return newtonSquareRoot(x, reciprocalEstimate: unsafeBitCast(estimate, to: SIMD8<Double>.self), steps: 4)
    }

    @inline(__always)
    static func magnitude(_ a: SIMD8<Double>) -> SIMD8<Double> { maximum(a, negated(a)) }

    @inline(__always)
    static func anyPositive<let R: Int>(_ e: borrowing InlineArray<R, SIMD8<Double>>) -> Bool {
        var mask = SIMDMask<SIMD8<Int64>>(repeating: false)
        for r in 0..<R { mask .|= e[r] .> 0 }
        return anyLane(mask)
    }

    /// 2^t = 2^k · 2^r with k = round(t), r = t − k ∈ [−½, ½]: 2^r by a degree-11 polynomial
    /// (Chebyshev interpolation, approximation error 4·10⁻¹⁸), then k added to the exponent bits.
    /// t is clamped at −1020, where the polynomial gives exactly 1 and the result exactly 2⁻¹⁰²⁰,
    /// which the final subtraction (an add-port operation, off the multiply-add ports that bound
    /// the engines' loops) turns into 0. Tested ≤ 2 ulp against libm's exp2 − 2⁻¹⁰²⁰ (one more
    /// rounding on each side) over [−1020, 0].
    static var exp2Floor: Double { -1020 }
    static var exp2FloorPower: Double { 0x1p-1020 }
    static var roundingMagic: Double { 6755399441055744.0 }

    @inline(__always)
    static func exp2Reduced<let R: Int>(_ r: borrowing InlineArray<R, SIMD8<Double>>) -> InlineArray<R, SIMD8<Double>> {
        // Highest degree first (Horner).
        let coefficients: InlineArray<12, Double> = [
            4.4558179083360645e-10, 7.074194297288521e-09, 1.0178057087733941e-07, 1.3215432535912375e-06,
            1.5252733841556773e-05, 0.00015403530463724353, 0.001333355814640647, 0.009618129107587256,
            0.055504108664821625, 0.24022650695910158, 0.6931471805599453, 1.0,
        ]
        var p = InlineArray<R, SIMD8<Double>>(repeating: SIMD8(repeating: coefficients[0]))
        // Straight-line steps, not a loop over k: with constant indices throughout, p and r stay
        // in registers (a loop kept them on the stack, a load and a store per multiply-add).
        hornerStep(&p, r, coefficients[1]); hornerStep(&p, r, coefficients[2]); hornerStep(&p, r, coefficients[3])
        hornerStep(&p, r, coefficients[4]); hornerStep(&p, r, coefficients[5]); hornerStep(&p, r, coefficients[6])
        hornerStep(&p, r, coefficients[7]); hornerStep(&p, r, coefficients[8]); hornerStep(&p, r, coefficients[9])
        hornerStep(&p, r, coefficients[10]); hornerStep(&p, r, coefficients[11])
        return p
    }

    @inline(__always)
    static func scaled(_ p: SIMD8<Double>, byExponentIn rounded: SIMD8<Double>) -> SIMD8<Double> {
        let exponent = unsafeBitCast(rounded, to: SIMD8<UInt64>.self) &<< 52
        return unsafeBitCast(unsafeBitCast(p, to: SIMD8<UInt64>.self) &+ exponent, to: SIMD8<Double>.self)
    }
}

extension SIMD16: EngineVector where Scalar == Float {
    @inline(__always)
    static func minimum(_ a: SIMD16<Float>, _ b: SIMD16<Float>) -> SIMD16<Float> { a.replacing(with: b, where: b .< a) }

    @inline(__always)
    static func maximum(_ a: SIMD16<Float>, _ b: SIMD16<Float>) -> SIMD16<Float> { a.replacing(with: b, where: b .> a) }

    @inline(__always)
    static func negated(_ a: SIMD16<Float>) -> SIMD16<Float> { a * SIMD16(repeating: -1) }

    @inline(__always)
    static func reciprocal(_ a: SIMD16<Float>) -> SIMD16<Float> { SIMD16(repeating: 1) / a }

    @inline(__always)
    static func squareRoot(_ a: SIMD16<Float>) -> SIMD16<Float> {
        let x = minimum(a, SIMD16(repeating: .greatestFiniteMagnitude))
        let estimate = SIMD16<UInt32>(repeating: 0x5F37_5A86) &- (unsafeBitCast(x, to: SIMD16<UInt32>.self) &>> 1)
        return newtonSquareRoot(x, reciprocalEstimate: unsafeBitCast(estimate, to: SIMD16<Float>.self), steps: 3)
    }

    @inline(__always)
    static func magnitude(_ a: SIMD16<Float>) -> SIMD16<Float> { maximum(a, negated(a)) }

    @inline(__always)
    static func anyPositive<let R: Int>(_ e: borrowing InlineArray<R, SIMD16<Float>>) -> Bool {
        var mask = SIMDMask<SIMD16<Int32>>(repeating: false)
        for r in 0..<R { mask .|= e[r] .> 0 }
        return anyLane(mask)
    }

    static var exp2Floor: Float { -124 }
    static var exp2FloorPower: Float { 0x1p-124 }
    static var roundingMagic: Float { 12582912.0 } // 1.5·2²³

    /// A degree-6 polynomial (approximation error 2.5·10⁻⁹): ``exp2NonPositive(_:)`` is tested
    /// ≤ 2 ulp of `Float` over [−124, 0].
    @inline(__always)
    static func exp2Reduced<let R: Int>(_ r: borrowing InlineArray<R, SIMD16<Float>>) -> InlineArray<R, SIMD16<Float>> {
        let coefficients: InlineArray<7, Float> = [
            0.0001546144469856913, 0.0013400428177615838, 0.009618056678524637, 0.05550327226670302,
            0.24022650922288757, 0.6931472067028326, 1.0,
        ]
        var p = InlineArray<R, SIMD16<Float>>(repeating: SIMD16(repeating: coefficients[0]))
        hornerStep(&p, r, coefficients[1]); hornerStep(&p, r, coefficients[2]); hornerStep(&p, r, coefficients[3])
        hornerStep(&p, r, coefficients[4]); hornerStep(&p, r, coefficients[5]); hornerStep(&p, r, coefficients[6])
        return p
    }

    @inline(__always)
    static func scaled(_ p: SIMD16<Float>, byExponentIn rounded: SIMD16<Float>) -> SIMD16<Float> {
        let exponent = unsafeBitCast(rounded, to: SIMD16<UInt32>.self) &<< 23
        return unsafeBitCast(unsafeBitCast(p, to: SIMD16<UInt32>.self) &+ exponent, to: SIMD16<Float>.self)
    }
}

extension EngineVector {
    /// 2^t = 2^k · 2^r with k = round(t), r = t − k ∈ [−½, ½]: 2^r by the precision's polynomial
    /// (double: degree 11, Chebyshev interpolation, approximation error 4·10⁻¹⁸), then k added to
    /// the exponent bits. t is clamped at F (−1020 or −124), where the polynomial gives exactly 1
    /// and the result exactly 2^F, which the final subtraction (an add-port operation, off the
    /// multiply-add ports that bound the engines' loops) turns into 0. Tested ≤ 2 ulp against
    /// libm's exp2 − 2^F (one more rounding on each side) over [F, 0].
    @inline(__always)
    static func exp2NonPositive(_ t: Self) -> Self {
        exp2NonPositive(interleaving: InlineArray<1, Self>(repeating: t))[0]
    }

    @inline(__always)
    static func exp2NonPositive<let R: Int>(interleaving t: borrowing InlineArray<R, Self>) -> InlineArray<R, Self> {
        let floor = Self(repeating: exp2Floor), magic = Self(repeating: roundingMagic)
        // Round to nearest with the magic number: exact for |t| < 2^(mantissa bits − 1); the low
        // bits of `rounded` then hold k in two's complement.
        var rounded = InlineArray<R, Self>(repeating: .zero), r = rounded
        for i in 0..<R {
            let clamped = maximum(t[i], floor)
            rounded[i] = clamped + magic
            r[i] = clamped - (rounded[i] - magic)
        }
        var p = exp2Reduced(r)
        let offset = Self(repeating: exp2FloorPower)
        for i in 0..<R { p[i] = scaled(p[i], byExponentIn: rounded[i]) - offset }
        return p
    }
}

/// One Horner step p ← c + p·r for each of R vectors.
@inline(__always)
func hornerStep<V: EngineVector, let R: Int>(_ p: inout InlineArray<R, V>, _ r: borrowing InlineArray<R, V>, _ c: V.Scalar) {
    let c = V(repeating: c)
    for i in 0..<R { p[i] = c.addingProduct(p[i], r[i]) }
}

/// √x for finite x ≥ 0 within about 1 ulp, in plain vector arithmetic (the standard library's
/// `SIMD.squareRoot()` is a loop of scalar square roots), from an estimate y of 1/√x.
///
/// The callers' bit-level estimate `magic − bits(x)/2` has relative error ≤ 3.5%; each Newton
/// step y ← y·(3/2 − x·y²/2) squares the error, so 4 (double) or 3 (float) steps reach rounding;
/// then s = x·y and one correction s + y·(x − s²)/2 with fused multiply-adds. Subnormal inputs
/// converge less far, but their roots (< 10⁻¹⁵⁴) only ever meet e^(−r) = 1.
@inline(__always)
func newtonSquareRoot<V: EngineVector>(_ x: V, reciprocalEstimate: V, steps: Int) -> V {
    var y = reciprocalEstimate
    let half = x * V(repeating: 0.5)
    for _ in 0..<steps {
        y = y * (V(repeating: 1.5) - half * y * y)
    }
    let s = x * y
    let residual = x.addingProduct(V.negated(s), s)
    return s.addingProduct(y * V(repeating: 0.5), residual)
}

/// Whether any lane of the mask is set. The standard library's `any(_:)` is a generic reduction
/// that the optimiser may outline into a call inside the hot loops; this OR-reduction always
/// inlines to a vector test.
@inline(__always)
func anyLane(_ mask: SIMDMask<SIMD8<Int64>>) -> Bool {
    let v = unsafeBitCast(mask, to: SIMD8<Int64>.self)
    return ((v[0] | v[1]) | (v[2] | v[3])) | ((v[4] | v[5]) | (v[6] | v[7])) != 0
}

@inline(__always)
func anyLane(_ mask: SIMDMask<SIMD16<Int32>>) -> Bool {
    let v = unsafeBitCast(mask, to: SIMD16<Int32>.self)
    let a = ((v[0] | v[1]) | (v[2] | v[3])) | ((v[4] | v[5]) | (v[6] | v[7]))
    let b = ((v[8] | v[9]) | (v[10] | v[11])) | ((v[12] | v[13]) | (v[14] | v[15]))
    return a | b != 0
}
