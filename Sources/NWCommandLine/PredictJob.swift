import NadarayaWatson

/// Everything `nw predict` was asked to do, parsed but not yet validated against the files.
public struct PredictOptions: Sendable {
    public var train: String
    public var query: String
    public var kernel: Kernel
    public var bandwidth: BandwidthArgument
    /// `--target`, `--features`, `--sample-weight`.
    public var columns = ColumnSelection()
    /// The local polynomial's degree (0: Nadaraya–Watson).
    public var degree = 0
    /// Add `d_<feature>` columns: local slopes (degree ≥ 1) or the exact derivative (degree 0).
    public var derivatives = false
    /// Add an `se` column: σ̂·‖l(q)‖.
    public var standardErrors = false
    /// Add `lower` and `upper`: f̂ ∓ z·se (z the normal quantile at (1 + level)/2), or the
    /// bootstrap's band.
    public var interval = IntervalRequest()
    /// Print a fit summary on stderr: n, widths, degree, σ̂, ν, R², the leave-one-out score.
    public var summary = false
    public var classify = false
    public var form: KernelForm = .radial
    public var empty: EmptyNeighbourhoodPolicy = .nan
    public var weights: String?
    public var output: String?
    public var threads: Int?
    public var strategy: EvaluationStrategy = .automatic
    public var precision: Precision = .double
    /// Abramson's local widths around the given (pilot) bandwidth.
    public var adaptive = false

    public init(train: String, query: String, kernel: Kernel, bandwidth: BandwidthArgument) {
        self.train = train
        self.query = query
        self.kernel = kernel
        self.bandwidth = bandwidth
    }

    /// The checks across options, before any file is read.
    public func validate() throws {
        if classify {
            if degree > 0 { throw CommandLineError.option("--degree", "applies to regression; with --classify it should be 0, but is \(degree)") }
            if derivatives { throw CommandLineError.option("--derivatives", "applies to regression, not to --classify") }
        }
        if columns.hasDiscrete {
            for (given, name) in [(derivatives, "--derivatives"), (standardErrors, "--se"), (interval.level != nil, "--interval"),
                                  (summary, "--summary"), (weights != nil, "--weights"), (adaptive, "--adaptive")] where given {
                throw CommandLineError.option(name, "cannot be combined with --categorical or --ordered yet")
            }
        }
        if kernel == .dot, case let .method(method) = bandwidth, method != .cv {
            throw CommandLineError.option("--bandwidth", DotRules.message(method))
        }
        try interval.validate(standardErrors: standardErrors)
        if classify {
            for (given, name) in [(standardErrors, "--se"), (interval.level != nil, "--interval"), (summary, "--summary")] where given {
                throw CommandLineError.option(name, "applies to regression, not to --classify")
            }
        }
        if adaptive {
            for (given, name) in [(degree > 0, "--degree"), (derivatives, "--derivatives"), (columns.sampleWeight != nil, "--sample-weight"),
                                  (standardErrors, "--se"), (interval.level != nil, "--interval"), (summary, "--summary")] where given {
                throw CommandLineError.option(name, "cannot be combined with --adaptive yet")
            }
        }
        if train == FileIO.standardStreamName && query == FileIO.standardStreamName {
            throw CommandLineError.option("--query", "cannot read standard input when --train does too")
        }
    }
}

/// `nw predict --model`: a trained parametric model's predictions for QUERY.
public struct ModelPredictOptions: Sendable {
    public var model: String
    public var query: String
    public var output: String?
    public var threads: Int?

    public init(model: String, query: String) {
        self.model = model
        self.query = query
    }
}

/// `nw predict`: reads TRAIN and QUERY, pools, writes QUERY's columns plus the prediction
/// (and class probabilities with `--classify`), atomically.
public enum PredictJob {
    /// Predicts with a trained model: its kernel (gaussian or dot), hₖ = 1/|wₖ|, every training
    /// row a key.
    public static func run(_ options: ModelPredictOptions) throws {
        try Cluster.requireOneProcess("nw predict --model")
        let output = try options.output.flatMap { $0 == FileIO.standardStreamName ? nil : try AtomicFile(path: $0) }
        let file = try ModelFile.read(options.model)
        let query = try QueryData(path: options.query, features: file.features, trainFile: options.model)
        let queries = try query.queries()
        var result = ResultTable()
        do {
            result.add("prediction", try file.model.predict(queries, threads: options.threads))
        } catch let error as NadarayaWatsonError {
            throw CommandLineError.file(options.model, error.description)
        }
        try result.write(beside: query, to: output)
    }

    public static func run(_ options: PredictOptions) throws {
        if let cluster = try Cluster.current() { return try DistributedJob.predict(options, cluster: cluster) }
        try options.validate()
        // Claim the outputs first: an unwritable path fails before any work.
        let output = try options.output.flatMap { $0 == FileIO.standardStreamName ? nil : try AtomicFile(path: $0) }
        let weightsFile = try options.weights.map { try AtomicFile(path: $0) }

        let training = try TrainingData(path: options.train, selection: options.columns)
        let keys = try training.keys()
        let sampleWeights = try training.sampleWeights()
        let query = try QueryData(path: options.query, features: training.featureNames, trainFile: training.file,
                                  format: options.columns.format)
        let queries = try query.queries(training)
        let bandwidth = options.bandwidth.bandwidth

        var result = ResultTable()
        var weights: Matrix?

        try LibraryErrors.translate(training: training, query: query) {
            if options.classify {
                var classifier = NadarayaWatsonClassifier(kernel: options.kernel, form: options.form, bandwidth: bandwidth,
                                                          emptyPolicy: options.empty, strategy: options.strategy,
                                                          precision: options.precision, threads: options.threads)
                classifier.adaptive = options.adaptive
                classifier.featureKinds = training.featureKinds
                classifier.selectionProgress = SelectionReport.progress
                let model = try classifier.fit(keys: keys, labels: training.labels(), sampleWeights: sampleWeights)
                SelectionReport.finish(score: model.crossValidationScore, bandwidths: model.bandwidths, criterion: "cross-entropy")
                let probabilities = query.expand(try model.probabilities(queries))
                let classes = model.classes
                result.add(labels: "prediction", model.mostProbable(probabilities).map { $0.map { classes[$0] } ?? "nan" })
                result.add(probabilities) { "p_" + classes[$0] }
                if weightsFile != nil { weights = query.expand(try model.attentionWeights(queries)) }
            } else if !training.hasDiscrete && options.degree == 0 && !options.derivatives && !options.standardErrors && options.interval.level == nil
                        && !options.summary {
                var regressor = NadarayaWatsonRegressor(kernel: options.kernel, form: options.form, bandwidth: bandwidth,
                                                        emptyPolicy: options.empty, strategy: options.strategy,
                                                        precision: options.precision, threads: options.threads)
                regressor.adaptive = options.adaptive
                regressor.selectionProgress = SelectionReport.progress
                let values = try training.targets()
                let model = try regressor.fit(keys: keys, values: values, sampleWeights: sampleWeights)
                SelectionReport.finish(score: model.crossValidationScore, bandwidths: model.bandwidths)
                // One value column: `prediction`; a .npy TRAIN's p columns: prediction_1 … prediction_p.
                result.add(query.expand(try model.predict(queries))) { values.columns == 1 ? "prediction" : "prediction_\($0 + 1)" }
                if weightsFile != nil { weights = query.expand(try model.attentionWeights(queries)) }
            } else {
                let targets = Matrix(column: try training.targetValues())
                var estimator = LocalPolynomialRegressor(kernel: options.kernel, form: options.form, bandwidth: bandwidth,
                                                         degree: options.degree, emptyPolicy: options.empty, threads: options.threads)
                estimator.featureKinds = training.featureKinds
                estimator.selectionProgress = SelectionReport.progress
                let model = try estimator.fit(keys: keys, targets: targets.elements, sampleWeights: sampleWeights)
                SelectionReport.finish(score: model.crossValidationScore, bandwidths: model.bandwidths)
                let (computed, computedSlopes) = options.derivatives
                    ? try model.predictWithDerivatives(queries)
                    : (try model.predict(queries), Matrix(rows: queries.rows, columns: 0))
                result.add("prediction", query.expand(computed))
                let names = training.featureNames
                result.add(query.expand(computedSlopes)) { "d_" + names[$0] }
                // Uncertainty: se = σ̂·‖l(q)‖ and f̂ ∓ z·se, or the bootstrap's sd and band.
                if options.interval.isRequested(standardErrors: options.standardErrors) || options.summary {
                    let noise = try model.noise()
                    noise.report()
                    if options.summary {
                        try FitSummary.report(model, noise: noise, keys: keys, targets: targets.elements,
                                              sampleWeights: sampleWeights, features: training.featureNames, options: options)
                    }
                    let (se, lower, upper) = try options.interval.columns(model, queries: queries, estimates: computed,
                                                                          standardErrors: options.standardErrors, noise: noise)
                    for (name, column) in [("se", se), ("lower", lower), ("upper", upper)] {
                        guard let column else { continue }
                        result.add(name, query.expand(column))
                    }
                }
                if weightsFile != nil { weights = query.expand(try model.smootherWeights(queries)) }
            }
        }

        if let weightsFile { try weightsFile.commit(weights.map { MatrixFile.bytes($0, path: weightsFile.path) } ?? []) }
        try result.write(beside: query, to: output)
    }
}

/// Turns the library's typed errors into one-line messages that name the file and line.
enum LibraryErrors {
    static func translate<T>(training: TrainingData, query: QueryData? = nil, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as NadarayaWatsonError {
            switch error {
            case let .emptyNeighbourhood(index):
                guard let query else { throw CommandLineError(error.description, status: .dataError) }
                let message = "no key lies within the kernel's support of this query (--empty error)"
                let (file, line) = query.location(ofQuery: index)
                guard let line else { throw CommandLineError.file(file, "row \(index + 1): " + message) }
                throw CommandLineError.line(file, line, message)
            case let .degenerateBandwidth(feature, rule, reason):
                let column = training.featureColumns[feature]
                if training.arrays != nil {
                    throw CommandLineError.file(training.file, "column \(column + 1) (\(training.table.header[column])) has no usable \(rule) bandwidth: \(reason); give --bandwidth explicitly")
                }
                throw CommandLineError.cell(training.file, line: 1, column: column, name: training.table.header[column],
                                            "has no usable \(rule) bandwidth: \(reason); give --bandwidth explicitly")
            case let .invalidBandwidth(feature, value):
                let name = training.featureNames[feature]
                throw CommandLineError.option("--bandwidth", "value \(feature + 1) (continuous feature \(quoted(name))) should be a positive finite number, but is '\(value == 0 ? "0" : NumberFormat.roundTrip(value))'")
            case let .invalidMixedBandwidth(message):
                throw CommandLineError.option("--bandwidth", message)
            case let .bandwidthCountMismatch(d, count):
                let names = training.featureNames.joined(separator: ", ")
                throw CommandLineError.option("--bandwidth", "has \(count) values, but \(training.file) has \(d) feature\(d == 1 ? "" : "s") (\(names)): give one, or one per feature")
            case let .notEnoughData(needed, actual, reason) where training.arrays != nil:
                throw CommandLineError.file(training.file, "\(reason) needs at least \(needed) rows, but there \(actual == 1 ? "is" : "are") \(actual)")
            case let .notEnoughData(needed, actual, reason):
                throw CommandLineError.line(training.file, 1 + actual + 1,
                                            "\(reason) needs at least \(needed) data rows, but there \(actual == 1 ? "is" : "are") \(actual)")
            default:
                throw CommandLineError(error.description, status: .dataError)
            }
        }
    }
}
