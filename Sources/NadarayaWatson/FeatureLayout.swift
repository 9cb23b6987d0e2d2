/// Where the continuous and the discrete features sit among a model's d features, and the
/// resolution of one bandwidth list (h for continuous features, λ for discrete ones) in that
/// order.
struct FeatureLayout: Sendable, Equatable {
    let kinds: [FeatureKind]
    /// Positions of the continuous and of the discrete features, ascending.
    let continuous: [Int]
    let discrete: [Int]

    /// - Throws: ``NadarayaWatsonError/invalidArgument(_:)`` when there is not one kind per feature.
    init(_ kinds: [FeatureKind], features d: Int) throws {
        guard kinds.count == d else {
            throw NadarayaWatsonError.invalidArgument("there should be one feature kind per feature (\(d)), but there are \(kinds.count)")
        }
        self.kinds = kinds
        continuous = kinds.indices.filter { !kinds[$0].isDiscrete }
        discrete = kinds.indices.filter { kinds[$0].isDiscrete }
    }

    var hasDiscrete: Bool { !discrete.isEmpty }
    var discreteKinds: [FeatureKind] { discrete.map { kinds[$0] } }

    /// The columns of `x` at `positions`.
    static func columns(_ x: Matrix, _ positions: [Int]) -> Matrix {
        var elements = [Double]()
        elements.reserveCapacity(x.rows * positions.count)
        for i in 0..<x.rows { for j in positions { elements.append(x[i, j]) } }
        return Matrix(rows: x.rows, columns: positions.count, elements: elements)
    }

    /// (continuous part, discrete part) of an n × d matrix.
    func split(_ x: Matrix) -> (continuous: Matrix, discrete: Matrix) {
        (Self.columns(x, continuous), Self.columns(x, discrete))
    }

    /// One list in feature order from widths and λs.
    func join(widths: [Double], lambdas: [Double]) -> [Double] {
        var joined = [Double](repeating: 0, count: kinds.count)
        for (k, j) in continuous.enumerated() { joined[j] = widths[k] }
        for (k, j) in discrete.enumerated() { joined[j] = lambdas[k] }
        return joined
    }

    /// Splits a bandwidth list (one per feature, or one number when there is one feature) into
    /// widths and λs, each checked: h positive and finite, λ in [0, upper bound].
    ///
    /// - Parameter categories: c of each discrete feature.
    /// - Throws: ``NadarayaWatsonError`` for a wrong count, a bad width or a λ out of range.
    func resolve(_ list: [Double], categories: [Int]) throws -> (widths: [Double], lambdas: [Double]) {
        let d = kinds.count
        guard list.count == d else {
            if list.count == 1 {
                throw NadarayaWatsonError.invalidMixedBandwidth(
                    "with categorical or ordered features the bandwidth should list one value per feature (\(d): h or λ), but is one number")
            }
            throw NadarayaWatsonError.bandwidthCountMismatch(features: d, bandwidths: list.count)
        }
        for j in continuous where !(list[j].isFinite && list[j] > 0) {
            throw NadarayaWatsonError.invalidBandwidth(feature: j, value: list[j])
        }
        for (k, j) in discrete.enumerated() {
            let upper = DiscreteKernel.upperBound(kinds[j], categories: categories[k])
            guard list[j] >= 0 && list[j] <= upper else {
                let what = kinds[j] == .categorical ? "categorical, \(categories[k]) categories" : "ordered"
                throw NadarayaWatsonError.invalidMixedBandwidth(
                    "λ of feature \(j + 1) (\(what)) should be in [0, \(upper)], but is \(list[j])")
            }
        }
        return (continuous.map { list[$0] }, discrete.map { list[$0] })
    }
}
