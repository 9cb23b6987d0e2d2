import NadarayaWatson

/// `nw predict --summary`: what a regression tool reports about a fit, on stderr, one fact per
/// line so scripts can grep it.
enum FitSummary {
    /// n, the widths, the degree and kernel, σ̂ and ν, R² = 1 − RSS/TSS (weighted), and the
    /// leave-one-out score (the selection's own when cv chose the widths, else computed here:
    /// O(n²·(d + M))).
    static func report(_ model: FittedLocalPolynomialRegressor, noise: SmootherNoise, keys: Matrix, targets: [Double],
                       sampleWeights: [Double]?, features: [String], options: PredictOptions) throws {
        let number = NumberFormat.roundTrip
        let s = sampleWeights ?? Array(repeating: 1, count: targets.count)
        let total = s.reduce(0, +)
        let mean = zip(s, targets).reduce(0) { $0 + $1.0 * $1.1 } / total
        let tss = zip(s, targets).reduce(0) { $0 + $1.0 * ($1.1 - mean) * ($1.1 - mean) }
        let cv = try model.crossValidationScore ?? CrossValidation(kernel: options.kernel, form: options.form, emptyPolicy: options.empty,
                                                                    degree: options.degree, threads: options.threads)
            .score(keys: keys, targets: targets, bandwidths: model.bandwidths, sampleWeights: sampleWeights)
        let widths = zip(features, model.bandwidths).map { "\($0) \(number($1))" }.joined(separator: ", ")
        StandardError.note("summary: n = \(number(noise.count)) (rows with weight), degree \(options.degree), "
            + "\(options.kernel.rawValue) \(options.form.rawValue) kernel")
        StandardError.note("summary: widths: \(widths)")
        StandardError.note("summary: σ̂ = \(number(noise.sigma)), ν = \(number(noise.nu)) effective parameters, "
            + "ν̃ = \(number(noise.nuTilde)), n − 2ν + ν̃ = \(number(noise.count - 2 * noise.nu + noise.nuTilde)) residual degrees of freedom")
        StandardError.note("summary: RSS = \(number(noise.residualSumOfSquares)), R² = \(number(tss > 0 ? 1 - noise.residualSumOfSquares / tss : .nan)), "
            + "leave-one-out CV = \(number(cv))")
    }
}
