/// An opaque sRGB colour.
public struct Color: Hashable, Sendable {
    public let red: UInt8, green: UInt8, blue: UInt8

    public init(red: UInt8, green: UInt8, blue: UInt8) {
        (self.red, self.green, self.blue) = (red, green, blue)
    }

    /// From `0xRRGGBB`.
    public init(hex: UInt32) {
        self.init(red: UInt8(hex >> 16 & 0xFF), green: UInt8(hex >> 8 & 0xFF), blue: UInt8(hex & 0xFF))
    }

    /// `#rrggbb`, lower case.
    public var svg: String {
        let digits = Array("0123456789abcdef")
        var text = "#"
        for byte in [red, green, blue] {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0xF)])
        }
        return text
    }

    // matplotlib's default cycle ("tab10") and its 'm' magenta.
    public static let blue = Color(hex: 0x1F77B4)
    public static let orange = Color(hex: 0xFF7F0E)
    public static let green = Color(hex: 0x2CA02C)
    public static let red = Color(hex: 0xD62728)
    public static let purple = Color(hex: 0x9467BD)
    public static let magenta = Color(hex: 0xBF00BF)
    public static let gray = Color(hex: 0x7F7F7F)
    public static let black = Color(hex: 0x000000)
    public static let white = Color(hex: 0xFFFFFF)

    /// The series colours in order.
    public static let cycle: [Color] = [.blue, .orange, .green, .red, .purple, .gray]
}

/// A sequential colour map from 0 to 1.
public struct ColorMap: Sendable {
    /// Colours at equally spaced positions 0, 1/(k−1), …, 1; linear interpolation in between.
    public let stops: [Color]

    public init(stops: [Color]) {
        precondition(stops.count >= 2, "a colour map should have at least 2 stops, but has \(stops.count)")
        self.stops = stops
    }

    /// matplotlib's "Reds" (ColorBrewer's 9-class Reds): white through red to dark red, perceptually
    /// ordered in lightness.
    public static let reds = ColorMap(stops: [0xFFF5F0, 0xFEE0D2, 0xFCBBA1, 0xFC9272, 0xFB6A4A, 0xEF3B2C, 0xCB181D, 0xA50F15, 0x67000D]
        .map { Color(hex: $0) })

    /// The colour at t, clamped to [0, 1]; NaN maps to 0.
    ///
    /// - Complexity: O(1).
    public func color(at t: Double) -> Color {
        let t = t.isNaN ? 0 : min(1, max(0, t))
        let position = t * Double(stops.count - 1)
        let index = min(stops.count - 2, Int(position))
        let f = position - Double(index)
        let a = stops[index], b = stops[index + 1]
        func mix(_ x: UInt8, _ y: UInt8) -> UInt8 { UInt8((Double(x) + (Double(y) - Double(x)) * f).rounded()) }
        return Color(red: mix(a.red, b.red), green: mix(a.green, b.green), blue: mix(a.blue, b.blue))
    }
}
