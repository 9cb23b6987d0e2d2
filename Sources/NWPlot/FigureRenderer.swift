// Layout, in SVG user units: a title band, then the panels left to right (each a plot area of
// panelWidth × panelHeight with its own title above and x axis below), then the colour bar.

/// Lays out and draws a `Figure`. Every coordinate goes through `SVGDocument.number`, so the
/// output is a function of the figure alone.
struct FigureRenderer {
    let figure: Figure
    let left = 62.0, right = 18.0, bottom = 46.0
    let top: Double
    let gap: Double
    let colorBarSpace: Double

    init(figure: Figure) {
        self.figure = figure
        let panelTitles = figure.panels.contains { $0.title != nil }
        top = (figure.title == nil ? 10 : 34) + (panelTitles ? 20 : 0)
        gap = figure.sharesY ? 18 : 62
        colorBarSpace = figure.colorBar == nil ? 0 : 86
    }

    var width: Double {
        let k = Double(max(1, figure.panels.count))
        return left + k * figure.panelWidth + (k - 1) * gap + colorBarSpace + right
    }

    var height: Double { top + figure.panelHeight + bottom }

    func render() -> String {
        var document = SVGDocument(width: width, height: height)
        if let title = figure.title {
            document.append(##"<text x="\##(n(width / 2))" y="22" text-anchor="middle" font-size="14">\##(SVGDocument.escape(title))</text>"##)
        }
        let sharedY = figure.sharesY ? Self.union(figure.panels.map(yRange)) : nil
        for (index, panel) in figure.panels.enumerated() {
            let x0 = left + Double(index) * (figure.panelWidth + gap)
            drawPanel(panel, index: index, x0: x0, yRange: sharedY ?? yRange(panel),
                      yTickLabels: !figure.sharesY || index == 0, into: &document)
        }
        if let bar = figure.colorBar {
            let x0 = left + Double(figure.panels.count) * (figure.panelWidth + gap) - gap + 22
            drawColorBar(bar, x0: x0, into: &document)
        }
        return document.text
    }

    // MARK: Ranges

    func xRange(_ panel: Panel) -> ClosedRange<Double> {
        if let heatmap = panel.heatmap { return 0...Double(max(1, heatmap.columns)) }
        return panel.xRange ?? Self.padded(panel.series.flatMap(\.points.x))
    }

    func yRange(_ panel: Panel) -> ClosedRange<Double> {
        if let heatmap = panel.heatmap { return 0...Double(max(1, heatmap.rows)) }
        return panel.yRange ?? Self.padded(panel.series.flatMap(\.points.y))
    }

    /// The finite values' range with a 5% margin each side; a single value gets ±0.5.
    static func padded(_ values: [Double]) -> ClosedRange<Double> {
        let finite = values.filter(\.isFinite)
        guard let lo = finite.min(), let hi = finite.max() else { return 0...1 }
        guard hi > lo else { return (lo - 0.5)...(hi + 0.5) }
        // In halves, so that ±1.7·10³⁰⁸ neither overflows the span nor the margin.
        let margin = (hi / 2 - lo / 2) * 0.1
        let largest = Double.greatestFiniteMagnitude
        return Swift.max(lo - margin, -largest)...Swift.min(hi + margin, largest)
    }

    /// (x − lo)/(hi − lo), computed in halves so that no difference overflows; the same number
    /// where none would.
    static func fraction(_ x: Double, of range: ClosedRange<Double>) -> Double {
        (x / 2 - range.lowerBound / 2) / (range.upperBound / 2 - range.lowerBound / 2)
    }

    static func union(_ ranges: [ClosedRange<Double>]) -> ClosedRange<Double> {
        guard let first = ranges.first else { return 0...1 }
        return ranges.dropFirst().reduce(first) { min($0.lowerBound, $1.lowerBound)...max($0.upperBound, $1.upperBound) }
    }

    // MARK: Panels

    func drawPanel(_ panel: Panel, index: Int, x0: Double, yRange: ClosedRange<Double>, yTickLabels: Bool,
                   into document: inout SVGDocument) {
        let W = figure.panelWidth, H = figure.panelHeight, y0 = top
        let xRange = xRange(panel)
        let isHeatmap = panel.heatmap != nil
        func sx(_ x: Double) -> Double { x0 + Self.fraction(x, of: xRange) * W }
        // Heatmaps put row 0 at the top.
        func sy(_ y: Double) -> Double {
            isHeatmap ? y0 + Self.fraction(y, of: yRange) * H : y0 + H - Self.fraction(y, of: yRange) * H
        }
        let clip = "panel\(index)"
        document.append(##"<clipPath id="\##(clip)"><rect x="\##(n(x0))" y="\##(n(y0))" width="\##(n(W))" height="\##(n(H))"/></clipPath>"##)
        document.append(##"<g clip-path="url(#\##(clip))">"##)
        if let heatmap = panel.heatmap {
            drawHeatmap(heatmap, x0: x0, y0: y0, into: &document)
        }
        for series in panel.series {
            switch series {
            case let .line(line):
                for run in Self.finiteRuns(line.x, line.y) {
                    let points = run.map { "\(n(sx($0.0))),\(n(sy($0.1)))" }.joined(separator: " ")
                    let dash = line.dashed ? ##" stroke-dasharray="6,4""## : ""
                    document.append(##"<polyline points="\##(points)" fill="none" stroke="\##(line.color.svg)" stroke-width="\##(n(line.width))" stroke-linejoin="round"\##(dash)/>"##)
                }
            case let .scatter(scatter):
                document.append(##"<g fill="\##(scatter.color.svg)" fill-opacity="\##(n(scatter.opacity))">"##)
                for (x, y) in zip(scatter.x, scatter.y) where x.isFinite && y.isFinite {
                    document.append(##"<circle cx="\##(n(sx(x)))" cy="\##(n(sy(y)))" r="\##(n(scatter.radius))"/>"##)
                }
                document.append("</g>")
            case let .area(area):
                // Each finite run as one polygon: along the upper edge, back along the lower.
                let finite = zip(area.lower, area.upper).map { $0.isFinite && $1.isFinite ? 0.0 : .nan }
                let indices = area.x.indices.map(Double.init)
                for run in Self.finiteRuns(zip(area.x, finite).map(+), indices) {
                    let upper = run.map { "\(n(sx($0.0))),\(n(sy(area.upper[Int($0.1)])))" }
                    let lower = run.reversed().map { "\(n(sx($0.0))),\(n(sy(area.lower[Int($0.1)])))" }
                    document.append(##"<polygon points="\##((upper + lower).joined(separator: " "))" fill="\##(area.color.svg)" fill-opacity="\##(n(area.opacity))" stroke="none"/>"##)
                }
            }
        }
        document.append("</g>")
        document.append(##"<rect x="\##(n(x0))" y="\##(n(y0))" width="\##(n(W))" height="\##(n(H))" fill="none" stroke="#000000" stroke-width="0.8"/>"##)

        // Ticks: nice values on data axes; row and column indices (at cell centres) on heatmaps.
        let xTicks = isHeatmap ? Self.indexTicks(panel.heatmap!.columns) : NiceTicks.ticks(from: xRange.lowerBound, to: xRange.upperBound)
        let xDecimals = isHeatmap ? 0 : NiceTicks.decimals(for: NiceTicks.step(from: xRange.lowerBound, to: xRange.upperBound))
        for tick in xTicks {
            let x = sx(isHeatmap ? tick + 0.5 : tick)
            document.append(##"<line x1="\##(n(x))" y1="\##(n(y0 + H))" x2="\##(n(x))" y2="\##(n(y0 + H + 4))" stroke="#000000" stroke-width="0.8"/>"##)
            document.append(##"<text x="\##(n(x))" y="\##(n(y0 + H + 15))" text-anchor="middle">\##(SVGDocument.fixed(tick, decimals: xDecimals))</text>"##)
        }
        let yTicks = isHeatmap ? Self.indexTicks(panel.heatmap!.rows) : NiceTicks.ticks(from: yRange.lowerBound, to: yRange.upperBound)
        let yDecimals = isHeatmap ? 0 : NiceTicks.decimals(for: NiceTicks.step(from: yRange.lowerBound, to: yRange.upperBound))
        for tick in yTicks {
            let y = sy(isHeatmap ? tick + 0.5 : tick)
            document.append(##"<line x1="\##(n(x0 - 4))" y1="\##(n(y))" x2="\##(n(x0))" y2="\##(n(y))" stroke="#000000" stroke-width="0.8"/>"##)
            if yTickLabels {
                document.append(##"<text x="\##(n(x0 - 7))" y="\##(n(y + 4))" text-anchor="end">\##(SVGDocument.fixed(tick, decimals: yDecimals))</text>"##)
            }
        }
        if let title = panel.title {
            document.append(##"<text x="\##(n(x0 + W / 2))" y="\##(n(y0 - 8))" text-anchor="middle" font-size="12">\##(SVGDocument.escape(title))</text>"##)
        }
        if let label = panel.xLabel {
            document.append(##"<text x="\##(n(x0 + W / 2))" y="\##(n(y0 + H + 34))" text-anchor="middle">\##(SVGDocument.escape(label))</text>"##)
        }
        if let label = panel.yLabel, yTickLabels {
            let x = x0 - 46, y = y0 + H / 2
            document.append(##"<text x="\##(n(x))" y="\##(n(y))" text-anchor="middle" transform="rotate(-90 \##(n(x)) \##(n(y)))">\##(SVGDocument.escape(label))</text>"##)
        }
        if let position = panel.legend {
            drawLegend(panel.series.filter { $0.label != nil }, position: position, x0: x0, y0: y0, into: &document)
        }
    }

    /// Indices 0..<count at nice integer steps.
    static func indexTicks(_ count: Int) -> [Double] {
        guard count > 1 else { return [0] }
        let step = max(1, NiceTicks.step(span: Double(count - 1)).rounded(.up))
        return Array(stride(from: 0.0, through: Double(count - 1), by: step))
    }

    /// Maximal runs of consecutive finite points.
    static func finiteRuns(_ x: [Double], _ y: [Double]) -> [[(Double, Double)]] {
        var runs: [[(Double, Double)]] = [], current: [(Double, Double)] = []
        for (a, b) in zip(x, y) {
            if a.isFinite && b.isFinite {
                current.append((a, b))
            } else if !current.isEmpty {
                runs.append(current)
                current = []
            }
        }
        if !current.isEmpty { runs.append(current) }
        return runs
    }

    /// Cells as rectangles, consecutive cells of one colour in a row merged into one.
    func drawHeatmap(_ heatmap: Heatmap, x0: Double, y0: Double, into document: inout SVGDocument) {
        let range = figure.colorBar?.range ?? 0...heatmap.maximum
        let span = range.upperBound - range.lowerBound
        let cellWidth = figure.panelWidth / Double(max(1, heatmap.columns))
        let cellHeight = figure.panelHeight / Double(max(1, heatmap.rows))
        document.append(##"<g shape-rendering="crispEdges">"##)
        for row in 0..<heatmap.rows {
            let colors = (0..<heatmap.columns).map {
                heatmap.colorMap.color(at: (heatmap.values[row * heatmap.columns + $0] - range.lowerBound) / span)
            }
            var column = 0
            while column < heatmap.columns {
                let color = colors[column]
                var end = column + 1
                while end < heatmap.columns, colors[end] == color { end += 1 }
                // Cells overlap their right and lower neighbours by a fraction of a unit so no
                // hairline of background shows between them at any zoom.
                document.append(##"<rect x="\##(n(x0 + Double(column) * cellWidth))" y="\##(n(y0 + Double(row) * cellHeight))" width="\##(n(Double(end - column) * cellWidth + 0.3))" height="\##(n(cellHeight + 0.3))" fill="\##(color.svg)"/>"##)
                column = end
            }
        }
        document.append("</g>")
    }

    func drawLegend(_ entries: [Series], position: LegendPosition, x0: Double, y0: Double, into document: inout SVGDocument) {
        guard !entries.isEmpty else { return }
        let rowHeight = 15.0
        let textWidth = entries.map { Double(($0.label ?? "").count) * 6.4 }.max() ?? 0
        let boxWidth = 34 + textWidth, boxHeight = Double(entries.count) * rowHeight + 6
        let W = figure.panelWidth, H = figure.panelHeight
        let bx: Double, by: Double
        switch position {
        case .upperLeft: (bx, by) = (x0 + 6, y0 + 6)
        case .upperRight: (bx, by) = (x0 + W - 6 - boxWidth, y0 + 6)
        case .lowerLeft: (bx, by) = (x0 + 6, y0 + H - 6 - boxHeight)
        case .lowerRight: (bx, by) = (x0 + W - 6 - boxWidth, y0 + H - 6 - boxHeight)
        }
        document.append(##"<rect x="\##(n(bx))" y="\##(n(by))" width="\##(n(boxWidth))" height="\##(n(boxHeight))" fill="#ffffff" fill-opacity="0.85" stroke="#cccccc" stroke-width="0.8" rx="2"/>"##)
        for (row, entry) in entries.enumerated() {
            let y = by + 3 + rowHeight * (Double(row) + 0.5)
            switch entry {
            case let .line(line):
                let dash = line.dashed ? ##" stroke-dasharray="6,4""## : ""
                document.append(##"<line x1="\##(n(bx + 6))" y1="\##(n(y))" x2="\##(n(bx + 26))" y2="\##(n(y))" stroke="\##(line.color.svg)" stroke-width="\##(n(line.width))"\##(dash)/>"##)
            case let .area(area):
                document.append(##"<rect x="\##(n(bx + 6))" y="\##(n(y - 5))" width="20" height="10" fill="\##(area.color.svg)" fill-opacity="\##(n(area.opacity))"/>"##)
            case let .scatter(scatter):
                document.append(##"<circle cx="\##(n(bx + 16))" cy="\##(n(y))" r="\##(n(scatter.radius))" fill="\##(scatter.color.svg)" fill-opacity="\##(n(scatter.opacity))"/>"##)
            }
            document.append(##"<text x="\##(n(bx + 31))" y="\##(n(y + 4))">\##(SVGDocument.escape(entry.label ?? ""))</text>"##)
        }
    }

    func drawColorBar(_ bar: ColorBar, x0: Double, into document: inout SVGDocument) {
        let H = figure.panelHeight, y0 = top, barWidth = 14.0
        let stops = bar.colorMap.stops
        document.append(##"<linearGradient id="colorbar" x1="0" y1="1" x2="0" y2="0">"##)
        for (k, color) in stops.enumerated() {
            document.append(##"<stop offset="\##(n(Double(k) / Double(stops.count - 1)))" stop-color="\##(color.svg)"/>"##)
        }
        document.append("</linearGradient>")
        document.append(##"<rect x="\##(n(x0))" y="\##(n(y0))" width="\##(n(barWidth))" height="\##(n(H))" fill="url(#colorbar)" stroke="#000000" stroke-width="0.8"/>"##)
        let lo = bar.range.lowerBound, span = bar.range.upperBound - lo
        let decimals = NiceTicks.decimals(for: NiceTicks.step(span: span))
        for tick in NiceTicks.ticks(from: lo, to: bar.range.upperBound) {
            let y = y0 + H - (tick - lo) / span * H
            document.append(##"<line x1="\##(n(x0 + barWidth))" y1="\##(n(y))" x2="\##(n(x0 + barWidth + 4))" y2="\##(n(y))" stroke="#000000" stroke-width="0.8"/>"##)
            document.append(##"<text x="\##(n(x0 + barWidth + 7))" y="\##(n(y + 4))">\##(SVGDocument.fixed(tick, decimals: decimals))</text>"##)
        }
        if let title = bar.title {
            let x = x0 + barWidth + 52, y = y0 + H / 2
            document.append(##"<text x="\##(n(x))" y="\##(n(y))" text-anchor="middle" transform="rotate(-90 \##(n(x)) \##(n(y)))">\##(SVGDocument.escape(title))</text>"##)
        }
    }

    private func n(_ value: Double) -> String { SVGDocument.number(value) }
}
