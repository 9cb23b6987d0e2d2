/// A figure: panels side by side, optionally sharing the y axis (as matplotlib's
/// `subplots(1, k, sharey=True)`), with an optional colour bar for their heatmaps.
///
/// ```swift
/// var figure = Figure(panels: [Panel(title: "gaussian", series: [.line(x, y, label: "ŷ")])])
/// let svg = figure.svg()            // deterministic: same figure, same bytes
/// ```
public struct Figure: Sendable {
    public var title: String?
    public var panels: [Panel]
    /// One y range for all panels, tick labels on the first only.
    public var sharesY: Bool
    /// The plot area of each panel, in SVG user units (pixels).
    public var panelWidth: Double, panelHeight: Double
    /// A colour bar right of the panels, for heatmaps: its title and the range its colours span.
    /// Heatmaps in the figure use the same scale.
    public var colorBar: ColorBar?

    public init(title: String? = nil, panels: [Panel], sharesY: Bool = false, panelWidth: Double = 220, panelHeight: Double = 170,
                colorBar: ColorBar? = nil) {
        self.title = title
        self.panels = panels
        self.sharesY = sharesY
        self.panelWidth = panelWidth
        self.panelHeight = panelHeight
        self.colorBar = colorBar
    }

    /// The figure as a standalone SVG document.
    ///
    /// - Complexity: O(total points + heatmap cells).
    public func svg() -> String { FigureRenderer(figure: self).render() }
}

/// One set of axes: line and scatter series, or a heatmap.
public struct Panel: Sendable {
    public var title: String?
    public var xLabel: String?, yLabel: String?
    /// Fixed axis ranges; nil means the data's range with a 5% margin (matplotlib's default).
    public var xRange: ClosedRange<Double>?, yRange: ClosedRange<Double>?
    public var series: [Series]
    public var heatmap: Heatmap?
    public var legend: LegendPosition?

    public init(title: String? = nil, xLabel: String? = nil, yLabel: String? = nil, xRange: ClosedRange<Double>? = nil,
                yRange: ClosedRange<Double>? = nil, series: [Series] = [], heatmap: Heatmap? = nil, legend: LegendPosition? = nil) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.xRange = xRange
        self.yRange = yRange
        self.series = series
        self.heatmap = heatmap
        self.legend = legend
    }
}

/// Where a panel's legend sits, inside its plot area.
public enum LegendPosition: Sendable {
    case upperLeft, upperRight, lowerLeft, lowerRight
}

/// A line, a set of points, or a band.
public enum Series: Sendable {
    case line(Line)
    case scatter(Scatter)
    case area(Area)

    /// A solid or dashed polyline through (x[i], y[i]); non-finite points break the line.
    public static func line(_ x: [Double], _ y: [Double], label: String? = nil, color: Color = .blue, dashed: Bool = false,
                            width: Double = 1.5) -> Series {
        .line(Line(x: x, y: y, label: label, color: color, dashed: dashed, width: width))
    }

    /// Filled circles at (x[i], y[i]); non-finite points are skipped.
    public static func scatter(_ x: [Double], _ y: [Double], label: String? = nil, color: Color = .orange, opacity: Double = 0.5,
                               radius: Double = 3) -> Series {
        .scatter(Scatter(x: x, y: y, label: label, color: color, opacity: opacity, radius: radius))
    }

    /// A translucent band between lower[i] and upper[i] over x[i] (x ascending): a confidence
    /// band under a fit. Points where any of the three is not finite break the band.
    public static func area(_ x: [Double], lower: [Double], upper: [Double], label: String? = nil, color: Color = .blue,
                            opacity: Double = 0.2) -> Series {
        .area(Area(x: x, lower: lower, upper: upper, label: label, color: color, opacity: opacity))
    }

    var label: String? {
        switch self {
        case let .line(line): line.label
        case let .scatter(scatter): scatter.label
        case let .area(area): area.label
        }
    }

    var points: (x: [Double], y: [Double]) {
        switch self {
        case let .line(line): (line.x, line.y)
        case let .scatter(scatter): (scatter.x, scatter.y)
        case let .area(area): (area.x + area.x, area.lower + area.upper)
        }
    }
}

public struct Line: Sendable {
    public var x: [Double], y: [Double]
    public var label: String?
    public var color: Color
    public var dashed: Bool
    public var width: Double
}

public struct Area: Sendable {
    public var x: [Double], lower: [Double], upper: [Double]
    public var label: String?
    public var color: Color
    public var opacity: Double
}

public struct Scatter: Sendable {
    public var x: [Double], y: [Double]
    public var label: String?
    public var color: Color
    public var opacity: Double
    public var radius: Double
}

/// A matrix drawn as coloured cells, row 0 at the top (as matplotlib's `imshow`).
public struct Heatmap: Sendable {
    public let rows: Int, columns: Int
    /// Row-major, rows × columns.
    public let values: [Double]
    public var colorMap: ColorMap

    public init(rows: Int, columns: Int, values: [Double], colorMap: ColorMap = .reds) {
        precondition(values.count == rows * columns, "values should hold rows × columns = \(rows * columns) entries, but holds \(values.count)")
        self.rows = rows
        self.columns = columns
        self.values = values
        self.colorMap = colorMap
    }

    /// The largest finite value, or 1 if there is none above 0.
    public var maximum: Double {
        let largest = values.filter(\.isFinite).max() ?? 0
        return largest > 0 ? largest : 1
    }
}

/// A vertical colour bar: `colorMap` over `range`, with nice ticks.
public struct ColorBar: Sendable {
    public var title: String?
    public var range: ClosedRange<Double>
    public var colorMap: ColorMap

    public init(title: String? = nil, range: ClosedRange<Double>, colorMap: ColorMap = .reds) {
        self.title = title
        self.range = range
        self.colorMap = colorMap
    }
}
