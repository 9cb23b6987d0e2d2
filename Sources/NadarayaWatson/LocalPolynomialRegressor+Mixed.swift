extension LocalPolynomialRegressor {
    /// The fit with categorical or ordered features (``featureKinds``): a ``MixedModel`` predicts.
    func fitMixed(keys: Matrix, targets: [Double], sampleWeights: [Double]?) throws -> FittedLocalPolynomialRegressor {
        let kept = try SampleWeights(sampleWeights, count: keys.rows)
        let x = kept.select(keys), y = kept.select(targets), s = kept.weights
        let (model, score) = try MixedModel.fit(kernel: kernel, form: form, kinds: featureKinds, keys: x,
                                                values: .dense(Matrix(column: y)), weights: s, bandwidth: bandwidth,
                                                emptyPolicy: emptyPolicy, threads: threads,
                                                criterion: .leastSquares(targets: y, degree: degree), progress: selectionProgress)
        var fitted = FittedLocalPolynomialRegressor(problem: model.continuousProblem, targets: y, weights: s, degree: degree,
                                                    nadarayaWatson: nil, keptRows: kept.kept, originalRowCount: keys.rows,
                                                    crossValidationScore: score, emptyPolicy: emptyPolicy, threads: model.threads)
        fitted.mixed = model
        return fitted
    }
}
