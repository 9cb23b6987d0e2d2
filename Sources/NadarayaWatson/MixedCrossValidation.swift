import RealModule

// Legend: n points, d_c continuous and d_u discrete features, h widths, λ the discrete kernels'
// parameters, s sample weights, N = Σ sᵢ, f₋ᵢ the fit without row i.

/// Leave-one-out selection of every width h and every λ for the three estimators, each scored by
/// its own criterion from the mixed engine's leave-one-out states (the point's key masked):
///
/// - regression: CV = Σᵢ sᵢ(yᵢ − f₋ᵢ(xᵢ))² / N (R np `bwmethod = "cv.ls"`);
/// - classification: the cross-entropy −Σᵢ sᵢ ln max(p̂₋ᵢ(yᵢ | xᵢ), ε) / N with the floor
///   ε = 2⁻⁵² (scikit-learn's `log_loss` clip), so a point no other key of its class reaches
///   (compact kernels) costs 36 nats rather than +∞; an empty neighbourhood scores ε too;
/// - densities: the negative leave-one-out log-likelihood −Σᵢ sᵢ ln f̂₋ᵢ(xᵢ) / N (statsmodels
///   `KDEMultivariate(bw='cv_ml')`), +∞ when some point has no other key in reach.
///
/// The search is global in the common factor of the continuous widths (a log-spaced scan on
/// Scott's widths over [10⁻³, 10²], 24 points, 64 for compact kernels, then Brent inside every local
/// minimum's bracket), then coordinate sweeps over every h (a 9-point scan over [h/4, 4h], later
/// 5 points over [h/2, 2h]) and every λ (a 7-point scan over its whole range [0, upper], later 5
/// points within a sixth of the range), each refined by Brent to 10⁻⁴, until a sweep gains less
/// than 10⁻⁶ relative (far below CV's statistical noise; at most 3 sweeps). λ starts at half its
/// range.
enum MixedCrossValidation {
    /// The classification floor ε.
    static let probabilityFloor = 0x1p-52
    /// Brent's precision in the sweeps: log h and λ to 10⁻⁴.
    static let tolerance = 1e-4

    /// What is scored.
    enum Criterion {
        case leastSquares(targets: [Double], degree: Int)
        case crossEntropy(classes: [Int])
        case likelihood(logNormalization: (_ widths: [Double]) -> Double)
    }

    /// The leave-one-out score of `model` (its widths and λ) under `criterion`; +∞ where undefined.
    ///
    /// - Complexity: O(n²·(d_c + M)) through the continuous engines, plus O(n·G·(d_u + M)).
    static func score(_ model: MixedModel, _ criterion: Criterion) -> Double {
        let parts = (model.problem.continuousKeys, model.problem.discreteKeys)
        let weights = model.problem.logWeights?.map { Double.exp($0) }
        let n = model.problem.keyCount, total = weights?.reduce(0, +) ?? Double(n)
        var sum = 0.0
        switch criterion {
        case let .leastSquares(targets, degree):
            guard let fits = try? model.estimates(parts, degree: degree, leaveOneOut: true) else { return .infinity }
            for i in 0..<n {
                let r = targets[i] - fits.elements[i]
                sum += (weights?[i] ?? 1) * r * r
            }
        case let .crossEntropy(classes):
            guard let p = try? model.estimates(parts, degree: 0, leaveOneOut: true) else { return .infinity }
            for i in 0..<n {
                let probability = p[i, classes[i]]
                sum -= (weights?[i] ?? 1) * Double.log(probability.isNaN ? probabilityFloor : Swift.max(probability, probabilityFloor))
            }
        case let .likelihood(logNormalization):
            let logs = model.logDensities(parts, logNormalization: logNormalization(model.widths), leaveOneOut: true)
            for i in 0..<n { sum -= (weights?[i] ?? 1) * logs[i] }
        }
        return sum.isNaN ? .infinity : sum / total
    }

    /// The widths and λs minimising the criterion (see the type's notes).
    ///
    /// - Parameter start: Scott's widths of the continuous features.
    /// - Returns: widths, λs and the score at them.
    /// - Throws: ``NadarayaWatsonError/invalidArgument(_:)`` when no setting gives a finite score.
    /// - Complexity: about 24 (compact: 64) + 12·(local minima) + sweeps·(d_c + d_u)·~20 scores.
    static func select(_ model: MixedModel, start: [Double], _ criterion: Criterion,
                       progress: (_ evaluations: Int, _ best: Double) -> Void) throws
        -> (widths: [Double], lambdas: [Double], score: Double) {
        let upper = model.problem.kernels(model.lambdas).map(\.upperBound)
        return try search(kernel: model.problem.kernel, start: start, upper: upper, score: { h, lambdas in
            var candidate = model
            candidate.widths = h
            candidate.lambdas = lambdas
            return score(candidate, criterion)
        }, progress: progress)
    }

    /// ``select(_:start:_:progress:)``'s search over any score of (h, λ): λ starts at half of
    /// its range [0, upper].
    static func search(kernel: Kernel, start: [Double], upper: [Double], score: ([Double], [Double]) -> Double,
                       progress: (_ evaluations: Int, _ best: Double) -> Void) throws
        -> (widths: [Double], lambdas: [Double], score: Double) {
        var evaluations = 0, bestSeen = Double.infinity
        func cv(_ h: [Double], _ lambdas: [Double]) -> Double {
            let value = score(h, lambdas)
            evaluations += 1
            bestSeen = Swift.min(bestSeen, value)
            progress(evaluations, bestSeen)
            return value
        }
        var h = start, lambdas = upper.map { $0 / 2 }
        var best = Double.infinity
        let dc = start.count
        if dc > 0 {
            let points = kernel.isCompact ? 64 : 24, ln10 = 2.302585092994046
            let logFactors = (0..<points).map { -3 * ln10 + 5 * ln10 * Double($0) / Double(points - 1) }
            let common = { (x: Double) in cv(start.map { $0 * Double.exp(x) }, lambdas) }
            if let found = CrossValidation.refineLocalMinima(logFactors, logFactors.map(common), common), found.value.isFinite {
                h = start.map { $0 * Double.exp(found.x) }
                best = found.value
            }
        } else {
            best = cv(h, lambdas)
        }
        // Sweeps: the first scans each parameter widely, later ones near the current value; Brent
        // to 10⁻⁴ (in log h, and absolute in λ): CV's own noise is far larger.
        for sweep in 0..<3 {
            let before = best
            // The dot kernel's one temperature is the common factor: no per-feature widths.
            for k in 0..<dc where kernel != .dot {
                let logCurrent = Double.log(h[k]), half = sweep == 0 ? 4 : 2
                let grid = (0..<(2 * half + 1)).map { logCurrent + Double.log(sweep == 0 ? 4 : 2) * Double($0 - half) / Double(half) }
                let along = { [h, lambdas] (x: Double) -> Double in var t = h; t[k] = Double.exp(x); return cv(t, lambdas) }
                if let refined = CrossValidation.refineLocalMinima(grid, grid.map(along), tolerance: Self.tolerance, along),
                   refined.value < best {
                    best = refined.value
                    h[k] = Double.exp(refined.x)
                }
            }
            for k in lambdas.indices where upper[k] > 0 {
                let step = upper[k] / 6
                let grid = sweep == 0 ? (0...6).map { step * Double($0) }
                    : [lambdas[k] - step, lambdas[k] - step / 2, lambdas[k], lambdas[k] + step / 2, lambdas[k] + step]
                        .filter { $0 >= 0 && $0 <= upper[k] }
                let along = { [h, lambdas] (x: Double) -> Double in
                    var t = lambdas
                    t[k] = Swift.min(Swift.max(x, 0), upper[k])
                    return cv(h, t)
                }
                if let refined = CrossValidation.refineLocalMinima(grid, grid.map(along), tolerance: Self.tolerance, along),
                   refined.value < best {
                    best = refined.value
                    lambdas[k] = Swift.min(Swift.max(refined.x, 0), upper[k])
                }
            }
            if !(best < before * (1 - 1e-6)) && before.isFinite { break }
        }
        guard best.isFinite else {
            throw NadarayaWatsonError.invalidArgument(
                "cross-validation found no bandwidth with a finite score (every setting leaves some point without neighbours)")
        }
        return (h, lambdas, best)
    }
}
