import Testing
@testable import NWPlot

@Suite("Figure")
struct FigureTests {
    /// A figure with every element: shared y, a band (with a gap), lines (one dashed, one with a
    /// gap), scatter, legends, a heatmap and a colour bar, titles with characters XML must escape.
    static func everything() -> Figure {
        let x = (0..<21).map { Double($0) / 4 }
        let line = Panel(title: "fit <a & b>", xLabel: "x", yLabel: "y \"quoted\"",
                         series: [.area(x, lower: x.map { $0 * $0 / 5 - 0.4 }, upper: x.map { $0 == 3 ? .nan : $0 * $0 / 5 + 0.4 },
                                        label: "95% band"),
                                  .line(x, x.map { $0 * $0 / 5 }, label: "ŷ"),
                                  .line(x, x.map { $0 == 2 ? .nan : $0 }, label: "y", color: .magenta, dashed: true),
                                  .scatter([0.5, 1.5, 4.5], [0.2, 1.1, 3.9], label: "data")],
                         legend: .upperLeft)
        let heat = Panel(title: "weights", xLabel: "keys", heatmap: Heatmap(rows: 3, columns: 4, values: [0, 0, 0.5, 1, 0.25, 0.25, 0.25, 0.25, 0, 0, 0, 0]))
        return Figure(title: "Everything", panels: [line, heat], sharesY: true, panelWidth: 200, panelHeight: 150,
                      colorBar: ColorBar(title: "α", range: 0...1))
    }

    @Test("SVG is well-formed XML with the expected elements")
    func wellFormed() {
        let svg = Self.everything().svg()
        let (error, counts) = parseXML(svg)
        #expect(error == nil, "\(error ?? "")")
        #expect(counts["svg"] == 1)
        // The dashed line breaks at the NaN: two polylines, plus the solid one.
        #expect(counts["polyline"] == 3)
        // The band breaks at its NaN: two polygons.
        #expect(counts["polygon"] == 2)
        // Three data points and the legend's marker.
        #expect(counts["circle"] == 4)
        #expect(counts["linearGradient"] == 1 && counts["stop"] == ColorMap.reds.stops.count)
        #expect(svg.contains("fit &lt;a &amp; b&gt;") && svg.contains("y &quot;quoted&quot;"))
    }

    @Test("same figure, same bytes; snapshot (re-record with NW_RECORD_SNAPSHOTS=1)")
    func deterministic() {
        let svg = Self.everything().svg()
        #expect(svg == Self.everything().svg())
        let difference = compareSnapshot(svg, named: "everything.svg")
        #expect(difference == nil, "\(difference ?? "")")
    }

    @Test("heatmap cells of one colour in a row merge into one rectangle")
    func heatmapRuns() {
        let figure = Figure(panels: [Panel(heatmap: Heatmap(rows: 2, columns: 5, values: [0, 0, 0, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.5]))])
        let svg = figure.svg()
        let cells = svg.split(separator: "\n").filter { $0.hasPrefix("<rect") && $0.contains("fill=\"#") && !$0.contains("stroke") && !$0.contains("100%") }
        #expect(cells.count == 3, "\(cells)")
    }

    @Test("numbers: at most 2 decimals, no trailing zeros, never -0")
    func numbers() {
        #expect(SVGDocument.number(1) == "1")
        #expect(SVGDocument.number(1.5) == "1.5")
        #expect(SVGDocument.number(-0.001) == "0")
        #expect(SVGDocument.number(2.345) == "2.35" || SVGDocument.number(2.345) == "2.34")
        #expect(SVGDocument.number(-12.3456) == "-12.35")
        #expect(SVGDocument.fixed(0.5, decimals: 2) == "0.50")
        #expect(SVGDocument.fixed(3, decimals: 0) == "3")
    }

    @Test("Reds runs from near-white to dark red, monotone in lightness")
    func reds() {
        let map = ColorMap.reds
        #expect(map.color(at: 0) == Color(hex: 0xFFF5F0))
        #expect(map.color(at: 1) == Color(hex: 0x67000D))
        #expect(map.color(at: -3) == map.color(at: 0) && map.color(at: .nan) == map.color(at: 0) && map.color(at: 7) == map.color(at: 1))
        var previous = Double.infinity
        for step in 0...100 {
            let c = map.color(at: Double(step) / 100)
            let luma = 0.2126 * Double(c.red) + 0.7152 * Double(c.green) + 0.0722 * Double(c.blue)
            #expect(luma <= previous + 0.5, "step \(step)")
            previous = luma
        }
        #expect(Color(hex: 0x1F77B4).svg == "#1f77b4")
    }
}
