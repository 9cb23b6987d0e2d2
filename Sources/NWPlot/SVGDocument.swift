/// A minimal SVG writer: elements appended in order, numbers in a fixed short form, text escaped.
/// The same calls give the same bytes.
struct SVGDocument {
    private(set) var body = ""
    let width: Double, height: Double

    init(width: Double, height: Double) {
        (self.width, self.height) = (width, height)
    }

    mutating func append(_ element: String) {
        body += element
        body += "\n"
    }

    /// The finished document.
    var text: String {
        """
        <?xml version="1.0" encoding="UTF-8"?>
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Self.number(width))" height="\(Self.number(height))" \
        viewBox="0 0 \(Self.number(width)) \(Self.number(height))" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="11">
        <rect width="100%" height="100%" fill="#ffffff"/>
        \(body)</svg>

        """
    }

    /// A coordinate or length with at most 2 decimals, no trailing zeros, never "-0".
    static func number(_ value: Double) -> String { fixed(value, decimals: 2, trim: true) }

    /// `value` rounded to `decimals` places (ties away from zero); with `trim`, trailing zeros
    /// and a bare point are dropped. Magnitudes beyond 10¹⁵ fall back to Swift's shortest form.
    static func fixed(_ value: Double, decimals: Int, trim: Bool = false) -> String {
        guard value.isFinite else { return value.isNaN ? "NaN" : (value < 0 ? "-Infinity" : "Infinity") }
        let scale = NiceTicks.power10(decimals)
        // Beyond what fixed notation shows well (axes of ±10³⁰⁸ or 10⁻³⁰⁰ data): 12 significant
        // digits and an exponent, "-1.5e308", never the 17 digits of a rounded multiple.
        if value.magnitude * scale >= 1e17 || (value != 0 && value.magnitude < 1e-9) {
            return scientific(value)
        }
        let scaled = (value * scale).rounded(.toNearestOrAwayFromZero)
        if scaled == 0 { return "0" }
        let negative = scaled < 0
        let digits = UInt64(scaled.magnitude)
        let integer = digits / UInt64(scale), fraction = digits % UInt64(scale)
        var text = negative ? "-" : ""
        text += String(integer)
        if decimals > 0 {
            var fractionText = String(fraction)
            fractionText = String(repeating: "0", count: decimals - fractionText.count) + fractionText
            if trim { while fractionText.last == "0" { fractionText.removeLast() } }
            if !fractionText.isEmpty { text += "." + fractionText }
        }
        return text
    }

    /// `value` (finite, nonzero) as m·10ᵉ with 1 ≤ |m| < 10 to 12 significant digits: "2.5e-301".
    static func scientific(_ value: Double) -> String {
        var exponent = Int(NiceTicks.log10(value.magnitude).rounded(.down))
        // 10ᵉ in two factors, so that neither overflows nor underflows at the ends of the range.
        let half = exponent / 2
        var mantissa = value / NiceTicks.power10(half) / NiceTicks.power10(exponent - half)
        if mantissa.magnitude < 1 { mantissa *= 10; exponent -= 1 }
        // A mantissa that rounds to 10 at 11 decimals is 1 of the next power.
        if mantissa.magnitude >= 9.999999999995 { return (value < 0 ? "-1e" : "1e") + "\(exponent + 1)" }
        return fixed(mantissa, decimals: 11, trim: true) + "e\(exponent)"
    }

    /// Text content or attribute value with &, <, >, " and ' escaped.
    static func escape(_ text: String) -> String {
        var result = ""
        for character in text {
            switch character {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&apos;"
            default: result.append(character)
            }
        }
        return result
    }
}
