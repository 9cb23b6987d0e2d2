#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NadarayaWatson

/// Everything `nw train` was asked to do.
public struct TrainOptions: Sendable {
    public var train: String
    /// `--target`, `--features`, `--sample-weight`.
    public var columns = ColumnSelection()
    /// `--kernel`: gaussian (a scale per feature) or dot (one scale, the temperature w²).
    public var kernel: Kernel = .gaussian
    public var initialW = 1.0
    public var epochs = 5
    public var learningRate = 0.5
    public var optimizer: Optimizer = .sgd
    public var tolerance = 0.0
    public var includeSelf = false
    public var lossLog: String?
    public var model: String?
    public var threads: Int?

    public init(train: String) {
        self.train = train
    }
}

/// `nw train`: parametric attention pooling, as in the chapter. Writes the loss log and the
/// model atomically, prints the learned scales (feature, w, |w|, h = 1/|w|) as CSV on stdout —
/// one row per feature, or for the dot kernel one row `*` (every feature shares w) — and shows
/// progress on stderr only when it is a terminal.
public enum TrainJob {
    public static func run(_ options: TrainOptions) throws {
        try Cluster.requireOneProcess("nw train")
        let logFile = try options.lossLog.map { try AtomicFile(path: $0) }
        let modelFile = try options.model.map { try AtomicFile(path: $0) }
        if options.columns.hasDiscrete {
            throw CommandLineError.option(
                options.columns.categorical.isEmpty ? "--ordered" : "--categorical",
                "does not apply to nw train (its parametric models, gaussian and dot, take continuous features)")
        }
        if options.columns.normalize {
            throw CommandLineError.option("--normalize", "does not apply to nw train (a model does not scale its queries): normalise TRAIN first")
        }
        let training = try TrainingData(path: options.train, selection: options.columns)
        let keys = try training.keys()
        let targets = try training.targetValues()
        let trainer = ParametricAttentionPooling(kernel: options.kernel, initialScale: options.initialW,
                                                 epochs: options.epochs, learningRate: options.learningRate, optimizer: options.optimizer,
                                                 tolerance: options.tolerance, includeSelf: options.includeSelf,
                                                 threads: options.threads)
        let progress = isatty(2) != 0
        let model = try LibraryErrors.translate(training: training) {
            try trainer.fit(keys: keys, targets: targets, sampleWeights: training.sampleWeights()) { epoch in
                if progress {
                    StandardError.write("\rnw train: epoch \(epoch.epoch)/\(options.epochs)  loss \(NumberFormat.roundTrip(epoch.loss))  w \(NumberFormat.roundTrip(epoch.scales[0]))\u{1B}[K")
                }
            }
        }
        if progress { StandardError.write("\r\u{1B}[K") }

        var log = CSVWriter()
        log.field("epoch"); log.field("loss"); log.field("w")
        log.endRow()
        for epoch in model.history {
            log.field(String(epoch.epoch)); log.number(epoch.loss); log.number(epoch.scales[0])
            log.endRow()
        }
        let file = ModelFile(kernel: model.kernel.rawValue, features: training.featureNames,
                             target: training.table.header[training.targetColumn],
                             w: model.scales, bandwidths: model.bandwidths,
                             keys: (0..<model.keys.rows).map { model.keys.row($0) }, values: model.targets, weights: model.sampleWeights,
                             training: .init(optimizer: options.optimizer.rawValue, learningRate: options.learningRate,
                                             initialW: options.initialW, epochs: model.history.count,
                                             includeSelf: options.includeSelf, loss: model.history.map(\.loss)))
        var summary = CSVWriter()
        for name in ["feature", "w", "abs_w", "h"] { summary.field(name) }
        summary.endRow()
        // The dot kernel learns one scale for all features: one row, named `*`.
        let names = model.kernel == .dot ? ["*"] : training.featureNames
        for (k, name) in names.enumerated() {
            summary.field(name); summary.number(model.scales[k]); summary.number(model.scales[k].magnitude)
            summary.number(model.bandwidths[k])
            summary.endRow()
        }
        try logFile?.commit(log.bytes)
        try modelFile?.commit(file.encoded())
        try FileIO.writeStandardOutput(summary.bytes)
    }
}
