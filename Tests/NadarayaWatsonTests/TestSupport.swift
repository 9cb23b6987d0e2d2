import Foundation
@testable import NadarayaWatson

/// The library's seeded generator, so a failing case can name its seed and be replayed.
typealias SeededGenerator = SplitMix64

extension Matrix {
    static func random(rows: Int, columns: Int, in range: ClosedRange<Double>, using rng: inout SeededGenerator) -> Matrix {
        Matrix(rows: rows, columns: columns, elements: (0..<rows * columns).map { _ in Double.random(in: range, using: &rng) })
    }
}

/// Seeded engine-test data: n keys and m queries in d features (queries reach a unit beyond the
/// keys on each side), p value columns, one width per feature drawn from `widths`.
func engineTestData(n: Int, m: Int, d: Int, p: Int, seed: UInt64, widths: ClosedRange<Double>)
    -> (keys: Matrix, values: Matrix, queries: Matrix, h: [Double]) {
    var rng = SeededGenerator(seed: seed)
    let keys = Matrix.random(rows: n, columns: d, in: -3...5, using: &rng)
    let values = Matrix.random(rows: n, columns: p, in: -10...10, using: &rng)
    let queries = Matrix.random(rows: m, columns: d, in: -4...6, using: &rng)
    let h = (0..<d).map { _ in Double.random(in: widths, using: &rng) }
    return (keys, values, queries, h)
}

/// The kernels written out again, independently of `Kernel.profile`, straight from the table in
/// the CLI contract.
func plainProfile(_ kernel: Kernel, _ u: Double) -> Double {
    let a = abs(u)
    switch kernel {
    case .gaussian: return exp(-u * u / 2)
    case .boxcar: return a < 1 ? 1 : 0
    case .constant: return 1
    case .epanechnikov: return a < 1 ? 1 - u * u : 0
    case .triangular: return a < 1 ? 1 - a : 0
    case .biweight: return a < 1 ? pow(1 - u * u, 2) : 0
    case .triweight: return a < 1 ? pow(1 - u * u, 3) : 0
    case .tricube: return a < 1 ? pow(1 - a * a * a, 3) : 0
    case .cosine: return a < 1 ? cos(Double.pi * u / 2) : 0
    case .logistic: return 1 / (exp(u) + 2 + exp(-u))
    case .cauchy: return 1 / (1 + u * u)
    case .laplacian: return exp(-a)
    // Not a function of u: its weights are exp(q·k/h²) (`plainDotPooling`); on the unit
    // sphere the Gaussian's.
    case .dot: return exp(-u * u / 2)
    }
}

/// The `dot` kernel written out: α = exp(Σⱼ qⱼkⱼ/hⱼ² − max), normalised per query, in
/// linear space after subtracting each query's largest log weight.
func plainDotPooling(keys: Matrix, values: Matrix, bandwidths h: [Double], queries: Matrix) -> Matrix {
    let n = keys.rows, d = keys.columns, p = values.columns, m = queries.rows
    var predictions = Matrix(rows: m, columns: p)
    for i in 0..<m {
        let logs = (0..<n).map { k in (0..<d).reduce(0.0) { $0 + queries[i, $1] * keys[k, $1] / (h[$1] * h[$1]) } }
        let top = logs.max()!
        let alpha = logs.map { exp($0 - top) }
        let total = alpha.reduce(0, +)
        for k in 0..<n { for c in 0..<p { predictions[i, c] += alpha[k] / total * values[k, c] } }
    }
    return predictions
}

/// The textbook estimator in linear space: α = K(‖u‖) or ∏ K(uⱼ), normalised per query.
/// Independent of the library's engines; valid where no weight underflows.
func plainNadarayaWatson(kernel: Kernel, form: KernelForm, keys: Matrix, values: Matrix, bandwidths h: [Double],
                         queries: Matrix) -> (predictions: Matrix, weights: Matrix) {
    let n = keys.rows, d = keys.columns, p = values.columns, m = queries.rows
    if kernel == .dot {
        // Not a function of u: the weights written out (the same in both forms).
        let ones = Matrix(rows: n, columns: n, elements: (0..<n * n).map { $0 / n == $0 % n ? 1 : 0 })
        return (plainDotPooling(keys: keys, values: values, bandwidths: h, queries: queries),
                plainDotPooling(keys: keys, values: ones, bandwidths: h, queries: queries))
    }
    var predictions = Matrix(rows: m, columns: p)
    var weights = Matrix(rows: m, columns: n)
    for i in 0..<m {
        var alpha = [Double](repeating: 0, count: n)
        for k in 0..<n {
            let u = (0..<d).map { (queries[i, $0] - keys[k, $0]) / h[$0] }
            switch form {
            case .radial: alpha[k] = plainProfile(kernel, sqrt(u.map { $0 * $0 }.reduce(0, +)))
            case .product: alpha[k] = u.map { plainProfile(kernel, $0) }.reduce(1, *)
            }
        }
        let total = alpha.reduce(0, +)
        for k in 0..<n {
            weights[i, k] = alpha[k] / total
            for c in 0..<p { predictions[i, c] += alpha[k] / total * values[k, c] }
        }
    }
    return (predictions, weights)
}

/// max |a − b| / max(1, max |b|), treating matching NaNs as equal.
func relativeError(_ a: Matrix, _ b: Matrix) -> Double {
    precondition(a.rows == b.rows && a.columns == b.columns)
    let scale = max(1, b.elements.map { $0.isNaN ? 0 : abs($0) }.max() ?? 0)
    var worst = 0.0
    for (x, y) in zip(a.elements, b.elements) {
        if x.isNaN && y.isNaN { continue }
        if x.isNaN || y.isNaN { return .infinity }
        worst = max(worst, abs(x - y) / scale)
    }
    return worst
}
