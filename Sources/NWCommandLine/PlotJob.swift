import NadarayaWatson
import NWPlot

/// Everything `nw plot` was asked to do.
public struct PlotOptions: Sendable {
    public var train: String
    public var query: String
    public var kernel: Kernel
    public var bandwidth: BandwidthArgument
    public var output: String
    /// `--target`, `--features`, `--sample-weight`.
    public var columns = ColumnSelection()
    /// The local polynomial's degree (0: Nadaraya–Watson).
    public var degree = 0
    public var form: KernelForm = .radial
    public var empty: EmptyNeighbourhoodPolicy = .nan
    /// A QUERY column with the true function, drawn dashed.
    public var truth: String?
    /// Also draw the attention weights.
    public var heatmap = false
    /// The feature along the x axis; required when TRAIN has more than one.
    public var feature: String?
    public var threads: Int?
    /// `--interval LEVEL` (and the bootstrap's options): a band drawn under the fit.
    public var interval = IntervalRequest()

    public init(train: String, query: String, kernel: Kernel, bandwidth: BandwidthArgument, output: String) {
        self.train = train
        self.query = query
        self.kernel = kernel
        self.bandwidth = bandwidth
        self.output = output
    }

    /// The checks across options, before any file is read.
    public func validate() throws {
        try interval.validate()
        if columns.hasDiscrete {
            for (given, name) in [(heatmap, "--heatmap"), (interval.level != nil, "--interval")] where given {
                throw CommandLineError.option(name, "cannot be combined with --categorical or --ordered yet")
            }
        }
    }
}

/// `nw plot`: the fit over the training points along one feature, and optionally the attention
/// heatmap (queries × keys, both sorted by that feature), as one SVG written atomically.
public enum PlotJob {
    /// The most heatmap cells we draw: beyond this an SVG of rectangles is too large to be useful.
    public static let maximumHeatmapCells = 250_000

    public static func run(_ options: PlotOptions) throws {
        try Cluster.requireOneProcess("nw plot")
        let output = try AtomicFile(path: options.output)
        try output.commit(Array(try svg(options).utf8))
    }

    public static func svg(_ options: PlotOptions) throws -> String {
        let training = try TrainingData(path: options.train, selection: options.columns)
        let names = training.featureNames
        let featureIndex: Int
        if let feature = options.feature {
            guard let index = names.firstIndex(of: feature) else {
                throw CommandLineError.line(training.file, 1, "has no feature column \(quoted(feature)) for --feature (features: \(names.map(quoted).joined(separator: ", ")))")
            }
            featureIndex = index
        } else {
            guard names.count == 1 else {
                throw CommandLineError.option("--feature", "is required: \(training.file) has \(names.count) features (\(names.map(quoted).joined(separator: ", "))); say which one to plot along the x axis")
            }
            featureIndex = 0
        }
        let keys = try training.keys()
        let targets = try training.targetValues()
        let query = try QueryData(path: options.query, features: names, trainFile: training.file, format: options.columns.format)
        // Under --missing drop, the queries with every feature (the curve has no point elsewhere).
        let queries = try query.queries(training)
        var truth: [Double]?
        if let column = options.truth {
            guard let table = query.table else {
                throw CommandLineError.option("--truth", "names a QUERY column, but \(query.file) is a .npy array of features")
            }
            guard let index = table.header.firstIndex(of: column) else {
                throw CommandLineError.line(table.file, 1, "has no column \(quoted(column)) for --truth (columns: \(table.header.map(quoted).joined(separator: ", ")))")
            }
            truth = try (query.complete.map { table.keepingRows($0) } ?? table).numbers(columns: [index]).elements
        }
        if options.heatmap, queries.rows * keys.rows > maximumHeatmapCells {
            throw CommandLineError.option("--heatmap", "would draw \(queries.rows) queries × \(keys.rows) keys = \(queries.rows * keys.rows) cells, more than \(maximumHeatmapCells); plot fewer queries")
        }
        let sampleWeights = try training.sampleWeights()
        let model = try LibraryErrors.translate(training: training, query: query) {
            var estimator = LocalPolynomialRegressor(kernel: options.kernel, form: options.form, bandwidth: options.bandwidth.bandwidth,
                                                     degree: options.degree, emptyPolicy: options.empty, threads: options.threads)
            estimator.featureKinds = training.featureKinds
            estimator.selectionProgress = SelectionReport.progress
            return try estimator.fit(keys: keys, targets: targets, sampleWeights: sampleWeights)
        }
        let widths = model.bandwidths
        SelectionReport.finish(score: model.crossValidationScore, bandwidths: widths)
        let predictions = try LibraryErrors.translate(training: training, query: query) { try model.predict(queries) }

        let featureName = names[featureIndex], targetName = training.table.header[training.targetColumn]
        let queryOrder = (0..<queries.rows).sorted { (queries[$0, featureIndex], $0) < (queries[$1, featureIndex], $1) }
        let x = queryOrder.map { queries[$0, featureIndex] }
        var series: [Series] = []
        if let level = options.interval.level {
            let noise = try LibraryErrors.translate(training: training, query: query) { try model.noise() }
            noise.report()
            let (_, lower, upper) = try LibraryErrors.translate(training: training, query: query) {
                try options.interval.columns(model, queries: queries, estimates: predictions, standardErrors: false, noise: noise)
            }
            let kind = options.interval.bootstrap == nil ? "" : options.interval.band == .simultaneous ? " simultaneous" : " bootstrap"
            series.append(.area(x, lower: queryOrder.map { lower![$0] }, upper: queryOrder.map { upper![$0] },
                                label: "\(SVGText.short(100 * level))%\(kind) band", color: .blue, opacity: 0.2))
        }
        series.append(.line(x, queryOrder.map { predictions[$0] }, label: "prediction", color: .blue))
        if let truth { series.append(.line(x, queryOrder.map { truth[$0] }, label: options.truth, color: .magenta, dashed: true)) }
        series.append(.scatter(keys.column(featureIndex), targets, label: "training data", color: .orange, opacity: 0.5))
        let widthText = widths.map { SVGText.short($0) }.joined(separator: ", ")
        let degreeText = options.degree > 0 ? ", degree \(options.degree)" : ""
        let title = "\(options.kernel.rawValue) kernel\(degreeText), h = \(widthText)"
        var panels = [Panel(title: title, xLabel: featureName, yLabel: targetName, series: series, legend: .upperLeft)]
        var colorBar: ColorBar?
        if options.heatmap {
            // Degree ≥ 1: the equivalent kernel lᵢ(q); its negative side lobes show as 0.
            let weights = try LibraryErrors.translate(training: training, query: query) { try model.smootherWeights(queries) }
            let keyOrder = (0..<keys.rows).sorted { (keys[$0, featureIndex], $0) < (keys[$1, featureIndex], $1) }
            var cells = [Double]()
            cells.reserveCapacity(queries.rows * keys.rows)
            for i in queryOrder { for k in keyOrder { cells.append(Swift.max(0, weights[i, k])) } }
            let maximum = cells.filter(\.isFinite).max() ?? 1
            panels.append(Panel(title: "attention weights", xLabel: "keys sorted by \(featureName)", yLabel: "queries sorted by \(featureName)",
                                heatmap: Heatmap(rows: queries.rows, columns: keys.rows, values: cells)))
            colorBar = ColorBar(title: "attention weight", range: 0...(maximum > 0 ? maximum : 1))
        }
        return Figure(panels: panels, panelWidth: 320, panelHeight: 230, colorBar: colorBar).svg()
    }
}

enum SVGText {
    /// Up to 4 significant digits, for titles.
    static func short(_ value: Double) -> String {
        guard value.isFinite, value != 0 else { return "\(value)" }
        var scale = 1.0
        while (value * scale).magnitude < 1000 { scale *= 10 }
        while (value * scale).magnitude >= 10000 { scale /= 10 }
        let rounded = (value * scale).rounded() / scale
        var text = "\(rounded)"
        if text.hasSuffix(".0") { text.removeLast(2) }
        return text
    }
}
