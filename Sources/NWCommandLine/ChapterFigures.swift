import NadarayaWatson
import NWPlot

/// One figure of the demo: its file name, the SVG, and what it shows (for index.html).
public struct DemoFigure: Sendable {
    public let name: String
    public let title: String
    public let caption: String
    public let svg: String
}

/// The figures of both *Dive into Deep Learning* chapters, computed with this library on the
/// chapters' synthetic data (seeded).
public struct ChapterFigures: Sendable {
    public let seed: UInt64
    /// "Attention pooling by similarity": y = 2 sin x + x + ε, σ = 1, n = 40.
    let similarity: ChapterDatasets.Data
    /// "Nadaraya–Watson kernel regression": y = 2 sin x + x^0.8 + ε, σ = 0.5, n = 50.
    let regression: ChapterDatasets.Data

    /// The chapter's five kernels of the fits, all with width 1; the fourth is the chapter's
    /// "Epanechikov", which is the triangular kernel.
    static let fitKernels: [(kernel: Kernel, title: String)] = [
        (.gaussian, "gaussian"), (.boxcar, "boxcar"), (.constant, "constant"),
        (.triangular, "triangular (“Epanechikov”)"), (.epanechnikov, "epanechnikov"),
    ]
    static let sigmas: [Double] = [0.1, 0.2, 0.5, 1]

    public init(seed: UInt64) {
        self.seed = seed
        similarity = ChapterDatasets.similarity(seed: seed)
        regression = ChapterDatasets.parametric(seed: seed &+ 1)
    }

    // MARK: Results shared by the figures and the summary

    /// The chapter's parametric model: 5 full-batch SGD steps, lr 0.5, w starting at 1.
    public func trainParametric(epochs: Int = 5, includeSelf: Bool = false) throws -> TrainedAttentionModel {
        try ParametricAttentionPooling(initialScale: 1, epochs: epochs, learningRate: 0.5, optimizer: .sgd, includeSelf: includeSelf)
            .fit(keys: Matrix(column: regression.x), targets: regression.y)
    }

    func fit(_ kernel: Kernel, width: Double, on data: ChapterDatasets.Data) throws -> (prediction: [Double], weights: Matrix) {
        let model = try NadarayaWatsonRegressor(kernel: kernel, bandwidth: .width(width))
            .fit(keys: Matrix(column: data.x), values: Matrix(column: data.y))
        let queries = Matrix(column: data.grid)
        return (try model.predict(queries).elements, try model.attentionWeights(queries))
    }

    // MARK: Figures

    /// Every figure, and the chapter's trained parametric model they show.
    public func all() throws -> (figures: [DemoFigure], trained: TrainedAttentionModel) {
        let trained = try trainParametric()
        let overfit = try trainParametric(epochs: 300, includeSelf: true)
        let honest = try trainParametric(epochs: 300)
        let figures = [
            kernelShapes(),
            try fits(name: "similarity-fits", title: "Attention pooling with different kernels (width 1)",
                     caption: "Nadaraya–Watson estimates ŷ for the kernels above on 40 noisy samples of y = 2 sin x + x (dashed). All kernels but the constant one give workable fits. The chapter calls the triangular kernel max(0, 1 − |u|) “Epanechikov”; the true Epanechnikov kernel 1 − u² is shown beside it.",
                     panels: Self.fitKernels.map { ($0.kernel, 1, $0.title) }),
            try heatmaps(name: "similarity-attention", title: "Attention weights (rows: queries, columns: keys, both sorted)",
                         caption: "Each row is one query’s attention over the 40 training keys. Gaussian, boxcar and both Epanechnikov-type kernels attend to nearby keys — hence their similar fits; the constant kernel attends to all keys equally (average pooling).",
                         panels: Self.fitKernels.map { ($0.kernel, 1, $0.title) }),
            try fits(name: "sigma-fits", title: "Gaussian attention pooling: the width σ",
                     caption: "The narrower the kernel, the less smooth the estimate and the closer it follows the noise; σ = 1 smooths over the bumps.",
                     panels: Self.sigmas.map { (.gaussian, $0, "σ = \(format($0))") }),
            try heatmaps(name: "sigma-attention", title: "Gaussian attention weights for σ = 0.1, 0.2, 0.5, 1",
                         caption: "The narrower the kernel, the narrower the band of large attention weights along the diagonal.",
                         panels: Self.sigmas.map { (.gaussian, $0, "σ = \(format($0))") }),
            averagePooling(),
            try nonparametricFit(),
            try nonparametricAttention(),
            try localPolynomialFits(),
            try confidenceBands(),
            parametricLoss(trained, honest: honest, overfit: overfit),
            try parametricFit(trained),
            try parametricAttention(trained),
        ]
        return (figures, trained)
    }

    /// The kernel profiles on [−2.5, 2.5], with the key at 0.
    public func kernelShapes() -> DemoFigure {
        // A grid, plus both sides of the compact kernels' edges at ±1 so the boxcar's jumps are vertical.
        let grid: [Double] = (0...100).map { -2.5 + Double($0) * 0.05 }
        let edges: [Double] = [-1, 1, -1 + 1e-9, 1 - 1e-9]
        let u = (grid + edges).sorted()
        let panels = Self.fitKernels.map { kernel, title in
            Panel(title: title, xLabel: "q − k", yLabel: "α(q, k)", series: [.line(u, u.map(kernel.profile), color: .blue)])
        }
        return DemoFigure(name: "kernel-shapes", title: "Kernels",
                          caption: "α(q, k) for a key at 0: gaussian exp(−u²/2), boxcar 1 for |u| < 1, constant 1, triangular max(0, 1 − |u|) (the chapter’s “Epanechikov”), and the Epanechnikov kernel max(0, 1 − u²).",
                          svg: Figure(panels: panels, sharesY: true, panelWidth: 180, panelHeight: 140).svg())
    }

    func fitSeries(_ data: ChapterDatasets.Data, prediction: [Double], predictionLabel: String = "ŷ", truthLabel: String = "y") -> [Series] {
        [.line(data.grid, prediction, label: predictionLabel, color: .blue),
         .line(data.grid, data.truth, label: truthLabel, color: .magenta, dashed: true),
         .scatter(data.x, data.y, color: .orange, opacity: 0.5)]
    }

    func fits(name: String, title: String, caption: String, panels: [(Kernel, Double, String)]) throws -> DemoFigure {
        let figurePanels = try panels.map { kernel, width, panelTitle in
            Panel(title: panelTitle, xLabel: "x", yLabel: "y",
                  series: fitSeries(similarity, prediction: try fit(kernel, width: width, on: similarity).prediction), legend: .upperLeft)
        }
        return DemoFigure(name: name, title: title, caption: caption,
                          svg: Figure(panels: figurePanels, sharesY: true, panelWidth: 180, panelHeight: 150).svg())
    }

    func heatmaps(name: String, title: String, caption: String, panels: [(Kernel, Double, String)]) throws -> DemoFigure {
        let weights = try panels.map { kernel, width, _ in try fit(kernel, width: width, on: similarity).weights }
        let maximum = weights.map { w in w.elements.filter(\.isFinite).max() ?? 0 }.max() ?? 1
        let figurePanels = zip(panels, weights).map { panel, w in
            Panel(title: panel.2, xLabel: "Sorted training inputs", yLabel: "Sorted testing inputs",
                  heatmap: Heatmap(rows: w.rows, columns: w.columns, values: w.elements))
        }
        return DemoFigure(name: name, title: title, caption: caption,
                          svg: Figure(panels: figurePanels, sharesY: true, panelWidth: 160, panelHeight: 200,
                                      colorBar: ColorBar(title: "attention weight", range: 0...maximum)).svg())
    }

    func regressionPanel(prediction: [Double], title: String) -> Panel {
        Panel(title: title, xLabel: "x", yLabel: "y", xRange: 0...5, yRange: -1...5,
              series: fitSeries(regression, prediction: prediction, predictionLabel: "Pred", truthLabel: "Truth"), legend: .upperRight)
    }

    public func averagePooling() -> DemoFigure {
        let mean = regression.y.reduce(0, +) / Double(regression.y.count)
        let panel = regressionPanel(prediction: regression.grid.map { _ in mean }, title: "Average pooling: f(x) = (1/n) Σ yᵢ")
        return DemoFigure(name: "average-pooling", title: "Average pooling",
                          caption: "The trivial estimator ignores the inputs: every query gets the mean of the 50 training targets of y = 2 sin x + x^0.8 + ε (σ = 0.5).",
                          svg: Figure(panels: [panel], panelWidth: 320, panelHeight: 220).svg())
    }

    func nonparametricFit() throws -> DemoFigure {
        let prediction = try fit(.gaussian, width: 1, on: regression).prediction
        return DemoFigure(name: "nonparametric-fit", title: "Nonparametric attention pooling",
                          caption: "The Gaussian kernel with width 1: f(x) = Σᵢ softmax(−(x − xᵢ)²/2) yᵢ. Smooth and far better than the mean, but too wide for the bumps of the truth.",
                          svg: Figure(panels: [regressionPanel(prediction: prediction, title: "Gaussian, h = 1")],
                                      panelWidth: 320, panelHeight: 220).svg())
    }

    /// Degrees 0, 1 and 2 with the nonparametric figure's kernel: the boundary bias of degree 0.
    func localPolynomialFits() throws -> DemoFigure {
        let panels = try [0, 1, 2].map { degree in
            let prediction = try LocalPolynomialRegressor(bandwidth: .width(1), degree: degree)
                .fit(keys: Matrix(column: regression.x), targets: regression.y).predict(Matrix(column: regression.grid))
            let name = ["Nadaraya–Watson", "local linear", "local quadratic"][degree]
            return regressionPanel(prediction: prediction, title: "degree \(degree): \(name)")
        }
        return DemoFigure(name: "local-polynomial-fits", title: "Local polynomial regression: degree 0, 1, 2 (Gaussian, h = 1)",
                          caption: "At x = 0 the truth is 0, but every key near a query at the edge lies to its right, so the weighted mean (degree 0) is pulled up towards them: boundary bias. A local line (degree 1, statsmodels’ and R np’s local linear) follows the slope into the edge; degree 2 also follows the curvature of the bumps, at the price of more variance.",
                          svg: Figure(panels: panels, sharesY: true, panelWidth: 240, panelHeight: 200).svg())
    }

    /// The Gaussian fit at its cross-validated width with 95% wild-bootstrap bands (B = 999, the
    /// demo's seed): pointwise and simultaneous.
    func confidenceBands() throws -> DemoFigure {
        let model = try LocalPolynomialRegressor(bandwidth: .crossValidation)
            .fit(keys: Matrix(column: regression.x), targets: regression.y)
        let grid = Matrix(column: regression.grid)
        let prediction = try model.predict(grid), noise = try model.noise()
        let bootstrap = WildBootstrap(resamples: 999, seed: seed)
        let panels = try [BandKind.pointwise, .simultaneous].map { band in
            let result = try model.bootstrapBand(grid, level: 0.95, bootstrap: bootstrap, band: band, noise: noise)
            var panel = regressionPanel(prediction: prediction, title: band == .pointwise ? "pointwise" : "simultaneous (sup-t)")
            panel.series.insert(.area(regression.grid, lower: result.lower, upper: result.upper, label: "95% band", color: .blue), at: 0)
            return panel
        }
        return DemoFigure(name: "confidence-bands", title: "95% wild-bootstrap bands (Gaussian, h = \(format(model.bandwidths[0])) by CV)",
                          caption: "999 wild-bootstrap resamples y* = ŷ + ε̃v (Rademacher v) refitted with the same width. Left: each query's 2.5–97.5% percentiles, which cover the truth at each x about 95% of the time. Right: the sup-t band ŷ ∓ c·se, wide enough to hold the whole curve with probability 95%. Both widen at the edges, where fewer keys share each query's weight.",
                          svg: Figure(panels: panels, sharesY: true, panelWidth: 300, panelHeight: 210).svg())
    }

    func attentionFigure(name: String, title: String, caption: String, width: Double) throws -> DemoFigure {
        let w = try fit(.gaussian, width: width, on: regression).weights
        let panel = Panel(xLabel: "Sorted training inputs", yLabel: "Sorted testing inputs",
                          heatmap: Heatmap(rows: w.rows, columns: w.columns, values: w.elements))
        let maximum = w.elements.filter(\.isFinite).max() ?? 1
        return DemoFigure(name: name, title: title, caption: caption,
                          svg: Figure(panels: [panel], panelWidth: 250, panelHeight: 250,
                                      colorBar: ColorBar(title: "attention weight", range: 0...maximum)).svg())
    }

    func nonparametricAttention() throws -> DemoFigure {
        try attentionFigure(name: "nonparametric-attention", title: "Nonparametric attention weights",
                            caption: "Queries and keys are both sorted, so the closer a key is to a query, the larger its weight: a broad band along the diagonal.",
                            width: 1)
    }

    func parametricLoss(_ trained: TrainedAttentionModel, honest: TrainedAttentionModel, overfit: TrainedAttentionModel) -> DemoFigure {
        let epochs = trained.history.map { Double($0.epoch) }
        let chapter = Panel(title: "The chapter’s run: SGD, lr 0.5", xLabel: "epoch", yLabel: "loss",
                            series: [.line(epochs, trained.history.map(\.loss), label: "leave-one-out loss", color: .blue),
                                     .scatter(epochs, trained.history.map(\.loss), color: .blue, opacity: 1, radius: 2.5)],
                            legend: .upperRight)
        let longEpochs = honest.history.map { Double($0.epoch) }
        let scales = Panel(title: "Why leave-one-out: w over 300 epochs", xLabel: "epoch", yLabel: "w",
                           series: [.line(longEpochs, honest.history.map { $0.scales[0] }, label: "leave-one-out", color: .blue),
                                    .line(overfit.history.map { Double($0.epoch) }, overfit.history.map { $0.scales[0] },
                                          label: "each point attends to itself", color: .red)],
                           legend: .upperLeft)
        return DemoFigure(name: "parametric-loss", title: "Training parametric attention pooling",
                          caption: "Left: the loss of f(xᵢ) = Σ_{j≠i} softmax(−((xᵢ − xⱼ) w)²/2) yⱼ over the chapter’s 5 steps. Right: with leave-one-out, w settles at \(format(honest.scales[0].magnitude)); if each point may attend to itself, w grows without bound (\(format(overfit.scales[0].magnitude)) after 300 epochs) because every point then predicts itself.",
                          svg: Figure(panels: [chapter, scales], panelWidth: 280, panelHeight: 190).svg())
    }

    func parametricFit(_ trained: TrainedAttentionModel) throws -> DemoFigure {
        let prediction = try trained.predict(Matrix(column: regression.grid))
        return DemoFigure(name: "parametric-fit", title: "Parametric attention pooling",
                          caption: "After training, w = \(format(trained.scales[0])) (width h = 1/|w| = \(format(trained.bandwidths[0]))): a narrower kernel than the nonparametric one, which follows the truth more closely but is rougher.",
                          svg: Figure(panels: [regressionPanel(prediction: prediction, title: "Gaussian, learned w = \(format(trained.scales[0]))")],
                                      panelWidth: 320, panelHeight: 220).svg())
    }

    func parametricAttention(_ trained: TrainedAttentionModel) throws -> DemoFigure {
        try attentionFigure(name: "parametric-attention", title: "Parametric attention weights",
                            caption: "The learned kernel is narrower: the band of large weights along the diagonal is sharper than the nonparametric one.",
                            width: trained.bandwidths[0])
    }
}

/// A short decimal for captions and titles: up to 3 significant decimals, no trailing zeros.
func format(_ value: Double) -> String {
    let rounded = (value * 1000).rounded() / 1000
    var text = "\(rounded)"
    if text.hasSuffix(".0") { text.removeLast(2) }
    return text
}
