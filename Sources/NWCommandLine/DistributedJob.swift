#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NadarayaWatson

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) * 1e-18 }
}

// Legend: P ranks, n keys over all ranks (nᵣ on rank r), m queries, B queries per block,
// M moments per query state, d features, h widths.
//
// Implementation goals, in order of priority:
// 1. The same output as one process: the same widths (rules from global statistics: means and
//    spreads merged, quartiles as exact order statistics found by bisection), the same
//    estimates to rounding (each rank's moment states for its key shard, merged with ⊕ in rank
//    order by a custom MPI reduction), the same one-line errors (each phase's first failure in
//    file order, reported by rank 0) and rank 0's atomic output.
// 2. Data larger than one machine: a rank holds only its TRAIN shard (its own byte range) and
//    O(B·M) states; queries go through in blocks of B.
// 3. Little communication: per block one reduction of B·(1 + M) doubles; nothing else grows
//    with n.

/// `nw predict`, `nw density` and `nw bandwidth` under `mpirun`: key shards on every rank.
enum DistributedJob {
    /// Doubles of states per reduced block (8 MiB): B = this / (1 + M) queries, at least 1024.
    /// Large blocks let the engines sort a block's queries and visit only the keys near them.
    static let blockDoubles = 1 << 20

    static func queryBlock(width: Int) -> Int { max(1024, blockDoubles / max(1, width)) }

    /// The options that do not run under mpirun yet: one-line option errors, the same on every rank.
    static func requireSupported(_ given: [(Bool, String)]) throws {
        for (isGiven, option) in given where isGiven {
            throw CommandLineError.option(option, "is not supported under mpirun yet (run it as one process)")
        }
    }

    /// This rank's TRAIN: its shard's rows as a ``TrainingData``, and the global row count.
    static func training(_ path: String, selection: ColumnSelection, hasTarget: Bool, cluster: Cluster)
        throws -> (data: TrainingData, totalRows: Int) {
        if NPYFile.isNPY(path) { return try arrayTraining(path, selection: selection, hasTarget: hasTarget, cluster: cluster) }
        let shard = try ShardReader.csv(path, delimiter: selection.format.delimiter(for: path), cluster: cluster)
        guard shard.totalRows > 0 else {
            throw CommandLineError.line(path, 2, "no data rows after the header: training needs at least one row")
        }
        let data = try cluster.agree {
            try TrainingData(table: shard.table, selection: selection, hasTarget: hasTarget, allowsEmpty: true)
        }
        let dropped = Int(cluster.allSum([Int64(data.droppedRows)])[0])
        if dropped > 0 {
            // The whole job's note (rank 0) or error (every rank), as one process gives them.
            if dropped == shard.totalRows || cluster.rank == 0 {
                try TrainingData.reportDropped(dropped, leaving: shard.totalRows - dropped, path: path)
            }
        }
        return (data, shard.totalRows - dropped)
    }

    /// A .npy TRAIN's shard: rows n·r/P ..< n·(r + 1)/P of K.npy and V.npy, read by byte ranges.
    static func arrayTraining(_ path: String, selection: ColumnSelection, hasTarget: Bool, cluster: Cluster)
        throws -> (data: TrainingData, totalRows: Int) {
        try ArrayTrainingData.requireOptions(keysFile: path, selection: selection, hasTarget: hasTarget)
        let keys = try cluster.agree { try ShardReader.npyRows(path, rank: cluster.rank, size: cluster.size) }
        let n = keys.wholeShape[0]
        guard n > 0 else { throw CommandLineError.file(path, "has no rows: training needs at least one") }
        let matrix = try keys.array.matrix(file: path)
        guard matrix.columns > 0 else { throw CommandLineError.file(path, "has shape (\(n), 0): no feature columns") }
        var values: NPYArray?
        let valuesFile = hasTarget ? selection.values : nil
        if let valuesFile {
            let shard = try cluster.agree { try ShardReader.npyRows(valuesFile, rank: cluster.rank, size: cluster.size) }
            try ArrayTrainingData.requireValues(shard.wholeShape, of: valuesFile, rows: n, keysFile: path)
            values = shard.array
        }
        let arrays = ArrayTrainingData(keysFile: path, keys: matrix, values: values, valuesFile: valuesFile)
        return (try TrainingData(arrays: arrays, hasTarget: hasTarget, normalize: selection.normalize), n)
    }

    /// Sample weights with the zero check made over every rank.
    static func sampleWeights(_ training: TrainingData, cluster: Cluster) throws -> [Double]? {
        let weights = try cluster.agree { try training.sampleWeights(requiringPositive: false) }
        guard let weights else { return nil }
        let positive = cluster.allSum([Int64(weights.contains { $0 > 0 } ? 1 : 0)])[0]
        if positive == 0 {
            let column = training.weightColumn!
            throw CommandLineError.cell(training.file, line: 1, column: column, name: training.table.header[column],
                                        "has only zero weights: no row is left")
        }
        return weights
    }

    /// Whether this rank has a key that carries weight.
    static func hasKeys(_ keys: Matrix, _ weights: [Double]?) -> Bool {
        keys.rows > 0 && (weights?.contains { $0 > 0 } ?? true)
    }

    /// The widths: given, or a rule from global statistics.
    static func widths(_ argument: BandwidthArgument, keys: Matrix, weights: [Double]?, training: TrainingData,
                       cluster: Cluster, criterion: String = "least-squares",
                       crossValidation: (() throws -> (bandwidths: [Double], score: Double))? = nil) throws -> [Double] {
        switch argument {
        case let .widths(list):
            let d = keys.columns
            return try LibraryErrors.translate(training: training) { try Bandwidth.expanded(list, features: d) }
        case .method(.scott), .method(.silverman):
            let rule: BandwidthRule = argument == .method(.scott) ? .scott : .silverman
            return try LibraryErrors.translate(training: training) {
                try DistributedStatistics.rule(rule, keys: keys, weights: weights, cluster: cluster)
            }
        case .method(.cv):
            guard let crossValidation else { preconditionFailure("every job passes its cross-validation") }
            let selected = try LibraryErrors.translate(training: training) { try crossValidation() }
            if cluster.rank == 0 { SelectionReport.finish(score: selected.score, bandwidths: selected.bandwidths, criterion: criterion) }
            return selected.bandwidths
        }
    }

    /// The merged states of `queries` on rank 0, block by block: `local(block)` gives this
    /// rank's records (1 + M doubles per query: the shift, then the sums), `finish(block, records)`
    /// consumes the merged ones on rank 0.
    static func reduceBlocks(_ queries: Matrix, width: Int, cluster: Cluster,
                             local: (Matrix) throws -> [Double], finish: (Range<Int>, [Double]) throws -> Void) throws {
        var start = 0, blocks = 0
        var computing = Duration.zero, reducing = Duration.zero
        let clock = ContinuousClock()
        repeat {
            let end = min(queries.rows, start + queryBlock(width: width))
            let block = Matrix(rows: end - start, columns: queries.columns,
                               elements: Array(queries.elements[(start * queries.columns)..<(end * queries.columns)]))
            let t0 = clock.now
            let records = try cluster.agree { try local(block) }
            let t1 = clock.now
            let merged = cluster.reduceStates(records, width: width)
            reducing += clock.now - t1
            computing += t1 - t0
            if cluster.rank == 0 { try finish(start..<end, merged) }
            start = end
            blocks += 1
        } while start < queries.rows
        // NW_MPI_STATS=1: what the communication model predicts, measured (README, "Beyond one machine").
        if getenv("NW_MPI_STATS") != nil {
            let times = cluster.allMax([computing.seconds, reducing.seconds])
            if cluster.rank == 0 {
                StandardError.note("mpirun: \(cluster.size) ranks, \(queries.rows) queries in \(blocks) blocks of ≤ \(queryBlock(width: width)), "
                    + "records of \(width) doubles: \(queries.rows * width * 8) bytes reduced per rank; "
                    + "slowest rank: compute \(times[0]) s, reduce \(times[1]) s")
            }
        }
    }

    /// Flattens states into records, or `count` empty records of `width` for a rank without keys.
    static func records(_ states: [MomentState]?, count: Int, width: Int) -> [Double] {
        guard let states else {
            var empty = [Double](repeating: 0, count: count * width)
            for i in 0..<count { empty[i * width] = -.infinity }
            return empty
        }
        return states.flatMap { [$0.shift] + $0.sums }
    }

    // MARK: - nw predict

    static func predict(_ options: PredictOptions, cluster: Cluster) throws {
        try options.validate()
        try requireSupported([
            (options.derivatives, "--derivatives"), (options.standardErrors, "--se"), (options.interval.level != nil, "--interval"),
            (options.interval.bootstrap != nil, "--bootstrap"), (options.summary, "--summary"), (options.weights != nil, "--weights"),
            (options.adaptive, "--adaptive"), (options.columns.hasDiscrete, options.columns.categorical.isEmpty ? "--ordered" : "--categorical"),
            (options.precision == .single, "--precision single"),
            (options.kernel.isCompact && options.empty == .nearest, "--empty nearest"),
        ])
        let output = try cluster.agree {
            try cluster.rank == 0 ? options.output.flatMap { $0 == FileIO.standardStreamName ? nil : try AtomicFile(path: $0) } : nil
        }
        let (training, _) = try self.training(options.train, selection: options.columns, hasTarget: true, cluster: cluster)
        let keys = try cluster.agree { try training.keys() }
        let weights = try sampleWeights(training, cluster: cluster)
        let query = try cluster.agree {
            try QueryData(path: options.query, features: training.featureNames, trainFile: training.file, format: options.columns.format)
        }
        let queries = try cluster.agree { try query.queries(training) }
        let mine = hasKeys(keys, weights)
        var result = ResultTable()

        if options.classify {
            let labels = try cluster.agree { try training.labels() }
            let (classes, indices, oneHot) = try globalClasses(labels, file: training.file, cluster: cluster)
            let h = try widths(options.bandwidth, keys: keys, weights: weights, training: training, cluster: cluster,
                               criterion: "cross-entropy") {
                try DistributedCrossValidation.selectPooling(
                    CrossValidation(kernel: options.kernel, form: options.form, threads: options.threads),
                    keys: keys, values: oneHot, weights: weights, criterion: .crossEntropy(classes: indices), cluster: cluster)
            }
            let fitted = try cluster.agree {
                try mine ? LibraryErrors.translate(training: training, query: query) {
                    try NadarayaWatsonRegressor(kernel: options.kernel, form: options.form, bandwidth: .widths(h),
                                                emptyPolicy: options.empty, threads: options.threads)
                        .fit(keys: keys, values: oneHot, sampleWeights: weights)
                } : nil
            }
            let width = 2 + classes.count
            var probabilities = Matrix(rows: queries.rows, columns: classes.count, repeating: .nan)
            let prior = try globalMean(oneHot, weights: weights, cluster: cluster)
            try reduceBlocks(queries, width: width, cluster: cluster, local: { block in
                records(try fitted?.momentStates(block), count: block.rows, width: width)
            }, finish: { range, merged in
                for (k, i) in range.enumerated() {
                    let state = MomentState(shift: merged[k * width], sums: Array(merged[(k * width + 1)..<((k + 1) * width)]))
                    let p = try estimateOrPolicy(FittedNadarayaWatsonRegressor.estimate(from: state), query: i, mean: prior,
                                                 options.kernel, options.empty, training: training, queryData: query)
                    for c in 0..<classes.count { probabilities[i, c] = p[c] }
                }
            })
            guard cluster.rank == 0 else { return }
            let best = mostProbable(probabilities)
            result.add(labels: "prediction", query.expand(best.map { $0.map(Double.init) ?? .nan }).map { $0.isNaN ? "nan" : classes[Int($0)] })
            result.add(query.expand(probabilities)) { "p_" + classes[$0] }
        } else {
            let targets = try cluster.agree { try training.targetValues() }
            let h = try widths(options.bandwidth, keys: keys, weights: weights, training: training, cluster: cluster) {
                try DistributedCrossValidation.select(
                    CrossValidation(kernel: options.kernel, form: options.form, emptyPolicy: options.empty, degree: options.degree,
                                    threads: options.threads),
                    keys: keys, targets: targets, weights: weights, cluster: cluster)
            }
            let mean = try globalMean(Matrix(column: targets), weights: weights, cluster: cluster)
            var predictions = [Double](repeating: .nan, count: queries.rows)
            if options.degree == 0 {
                let fitted = try cluster.agree {
                    try mine ? LibraryErrors.translate(training: training, query: query) {
                        try NadarayaWatsonRegressor(kernel: options.kernel, form: options.form, bandwidth: .widths(h),
                                                    emptyPolicy: options.empty, threads: options.threads)
                            .fit(keys: keys, values: Matrix(column: targets), sampleWeights: weights)
                    } : nil
                }
                try reduceBlocks(queries, width: 3, cluster: cluster, local: { block in
                    records(try fitted?.momentStates(block), count: block.rows, width: 3)
                }, finish: { range, merged in
                    for (k, i) in range.enumerated() {
                        let state = MomentState(shift: merged[k * 3], sums: [merged[k * 3 + 1], merged[k * 3 + 2]])
                        predictions[i] = try estimateOrPolicy(FittedNadarayaWatsonRegressor.estimate(from: state), query: i, mean: mean,
                                                              options.kernel, options.empty, training: training, queryData: query)[0]
                    }
                })
            } else {
                let fitted = try cluster.agree {
                    try mine ? LibraryErrors.translate(training: training, query: query) {
                        try LocalPolynomialRegressor(kernel: options.kernel, form: options.form, bandwidth: .widths(h),
                                                     degree: options.degree, emptyPolicy: options.empty, threads: options.threads)
                            .fit(keys: keys, targets: targets, sampleWeights: weights)
                    } : nil
                }
                let M = FittedLocalPolynomialRegressor.momentCount(dimension: keys.columns, degree: options.degree)
                let width = 1 + M, d = keys.columns, degree = options.degree
                try reduceBlocks(queries, width: width, cluster: cluster, local: { block in
                    records(try fitted?.momentStates(block), count: block.rows, width: width)
                }, finish: { range, merged in
                    for (k, i) in range.enumerated() {
                        let state = MomentState(shift: merged[k * width], sums: Array(merged[(k * width + 1)..<((k + 1) * width)]))
                        let estimate = FittedLocalPolynomialRegressor.estimate(from: state, dimension: d, degree: degree)
                        predictions[i] = try estimateOrPolicy(estimate.map { [$0] }, query: i, mean: mean,
                                                              options.kernel, options.empty, training: training, queryData: query)[0]
                    }
                })
            }
            guard cluster.rank == 0 else { return }
            result.add("prediction", query.expand(predictions))
        }
        try result.write(beside: query, to: output)
    }

    /// The estimate of a merged state, or the empty-neighbourhood policy's value (rank 0).
    static func estimateOrPolicy(_ estimate: [Double]?, query i: Int, mean: [Double], _ kernel: Kernel,
                                 _ policy: EmptyNeighbourhoodPolicy, training: TrainingData, queryData: QueryData) throws -> [Double] {
        if let estimate { return estimate }
        // Kernels with infinite support leave a query empty only where every log weight left
        // the range (no far limit across shards yet): nan.
        guard kernel.isCompact else { return mean.map { _ in .nan } }
        switch policy {
        case .nan, .nearest: return mean.map { _ in .nan }
        case .mean: return mean
        case .error:
            return try LibraryErrors.translate(training: training, query: queryData) {
                throw NadarayaWatsonError.emptyNeighbourhood(query: i)
            }
        }
    }

    /// The classes over every rank (in `ClassLabels` order), each local label's class index, and
    /// the one-hot values.
    static func globalClasses(_ labels: [String], file: String, cluster: Cluster) throws
        -> (classes: [String], indices: [Int], oneHot: Matrix) {
        let distinct = Array(Set(labels))
        guard !distinct.contains(where: { $0.utf8.contains(0) }) else {
            throw CommandLineError.file(file, "holds a class label with a NUL byte, which mpirun's exchange cannot carry")
        }
        let everyLabel = cluster.allGather(distinct.joined(separator: "\u{0}")).flatMap {
            $0.isEmpty ? [] : $0.split(separator: "\u{0}", omittingEmptySubsequences: false).map(String.init)
        }
        let classes = ClassLabels(everyLabel).classes
        let position = Dictionary(uniqueKeysWithValues: classes.enumerated().map { (Array($1.utf8), $0) })
        let indices = labels.map { position[Array($0.utf8)]! }
        var oneHot = Matrix(rows: labels.count, columns: classes.count, repeating: 0)
        for (i, c) in indices.enumerated() { oneHot[i, c] = 1 }
        return (classes, indices, oneHot)
    }

    /// The weighted mean of each column over every rank.
    static func globalMean(_ values: Matrix, weights: [Double]?, cluster: Cluster) throws -> [Double] {
        var sums = [Double](repeating: 0, count: values.columns + 1)
        for i in 0..<values.rows {
            let s = weights?[i] ?? 1
            guard s > 0 else { continue }
            sums[0] += s
            for c in 0..<values.columns { sums[1 + c] += s * values[i, c] }
        }
        let total = cluster.allSum(sums)
        return (0..<values.columns).map { total[1 + $0] / total[0] }
    }

    /// The first most probable class per row (nil for a row of NaN), as the classifier picks.
    static func mostProbable(_ probabilities: Matrix) -> [Int?] {
        (0..<probabilities.rows).map { i in
            var best: Int?, bestValue = -Double.infinity
            for c in 0..<probabilities.columns where probabilities[i, c] > bestValue {
                bestValue = probabilities[i, c]
                best = c
            }
            return best
        }
    }

    // MARK: - nw density

    static func density(_ options: DensityOptions, cluster: Cluster) throws {
        try options.validate()
        try requireSupported([
            (options.columns.hasDiscrete, options.columns.categorical.isEmpty ? "--ordered" : "--categorical"),
        ])
        let output = try cluster.agree {
            try cluster.rank == 0 ? options.output.flatMap { $0 == FileIO.standardStreamName ? nil : try AtomicFile(path: $0) } : nil
        }
        let (training, _) = try self.training(options.train, selection: options.columns, hasTarget: false, cluster: cluster)
        let samples = try cluster.agree { try training.keys() }
        let weights = try sampleWeights(training, cluster: cluster)
        let query = try cluster.agree {
            try QueryData(path: options.query, features: training.featureNames, trainFile: options.train, format: options.columns.format)
        }
        let points = try cluster.agree { try query.queries(training) }
        let h = try widths(options.bandwidth, keys: samples, weights: weights, training: training, cluster: cluster,
                           criterion: "negative log-likelihood per point") {
            try densitySelection(options.kernel, options.form, samples, weights, threads: options.threads, cluster: cluster)
        }
        let mine = hasKeys(samples, weights)
        // p̂ = Σᵣ (Wᵣ/W)·p̂ᵣ: each rank's log p̂ᵣ + log Wᵣ is a one-moment state [shift, 1].
        let shardWeight = weights?.reduce(0, +) ?? Double(samples.rows)
        let total = cluster.allSum([shardWeight])[0]
        let fitted = try cluster.agree {
            try mine ? LibraryErrors.translate(training: training, query: query) {
                do {
                    return try ParzenDensity(kernel: options.kernel, form: options.form, bandwidth: .widths(h), threads: options.threads)
                        .fit(samples: samples, sampleWeights: weights)
                } catch let NadarayaWatsonError.invalidArgument(message) where message.contains("has no density") {
                    throw CommandLineError.option("--kernel", message)
                }
            } : nil
        }
        var density = [Double](repeating: .nan, count: points.rows)
        try reduceBlocks(points, width: 2, cluster: cluster, local: { block in
            guard let fitted else { return records(nil, count: block.rows, width: 2) }
            return try fitted.logDensity(block).flatMap { [$0 == -.infinity ? -.infinity : $0 + Double.log(shardWeight), 1] }
        }, finish: { range, merged in
            for (k, i) in range.enumerated() {
                let shift = merged[2 * k], sum = merged[2 * k + 1]
                density[i] = shift == -.infinity ? 0 : Double.exp(shift + Double.log(sum) - Double.log(total))
            }
        })
        guard cluster.rank == 0 else { return }
        var result = ResultTable()
        result.add("density", query.expand(density))
        try result.write(beside: query, to: output)
    }

    /// The density's widths by the leave-one-out likelihood over every rank.
    static func densitySelection(_ kernel: Kernel, _ form: KernelForm, _ samples: Matrix, _ weights: [Double]?, threads: Int?,
                                 cluster: Cluster) throws -> (bandwidths: [Double], score: Double) {
        guard let c = kernel.normalizingConstant(dimension: samples.columns, form: form) else {
            // The estimator's own message, as one process reports it.
            do {
                _ = try ParzenDensity(kernel: kernel, form: form, bandwidth: .widths([1]))
                    .fit(samples: Matrix(rows: 1, columns: samples.columns, repeating: 0))
            } catch let NadarayaWatsonError.invalidArgument(message) {
                throw CommandLineError.option("--kernel", message)
            }
            throw CommandLineError.option("--kernel", "the \(kernel.rawValue) kernel has no density")
        }
        return try DistributedCrossValidation.selectPooling(
            CrossValidation(kernel: kernel, form: form, threads: threads), keys: samples,
            values: Matrix(rows: samples.rows, columns: 0), weights: weights,
            criterion: .likelihood { h in Double.log(c) - h.reduce(0) { $0 + Double.log($1) } }, cluster: cluster)
    }

    // MARK: - nw bandwidth

    static func bandwidth(_ options: BandwidthOptions, cluster: Cluster) throws {
        try requireSupported([
            (options.columns.hasDiscrete, "--categorical/--ordered"),
            (options.method == .cv && options.kernel.isCompact && options.empty == .nearest, "--empty nearest"),
        ])
        let (training, _) = try self.training(options.train, selection: options.columns, hasTarget: !options.density, cluster: cluster)
        let keys = try cluster.agree { try training.keys() }
        let weights = try sampleWeights(training, cluster: cluster)
        let criterion = options.classify ? "cross-entropy" : options.density ? "negative log-likelihood per point" : "least-squares"
        let h = try widths(.method(options.method), keys: keys, weights: weights, training: training, cluster: cluster,
                           criterion: criterion) {
            if options.density {
                return try densitySelection(options.kernel, options.form, keys, weights, threads: options.threads, cluster: cluster)
            }
            if options.classify {
                let labels = try cluster.agree { try training.labels() }
                let (_, indices, oneHot) = try globalClasses(labels, file: training.file, cluster: cluster)
                return try DistributedCrossValidation.selectPooling(
                    CrossValidation(kernel: options.kernel, form: options.form, threads: options.threads),
                    keys: keys, values: oneHot, weights: weights, criterion: .crossEntropy(classes: indices), cluster: cluster)
            }
            let targets = try cluster.agree { try training.targetValues() }
            return try DistributedCrossValidation.select(
                CrossValidation(kernel: options.kernel, form: options.form, emptyPolicy: options.empty, degree: options.degree,
                                threads: options.threads),
                keys: keys, targets: targets, weights: weights, cluster: cluster)
        }
        guard cluster.rank == 0 else { return }
        try FileIO.writeStandardOutput(Array((h.map(NumberFormat.roundTrip).joined(separator: ",") + "\n").utf8))
    }
}
