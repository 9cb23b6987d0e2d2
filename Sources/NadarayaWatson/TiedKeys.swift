import RealModule

// Legend: n rows, g groups of rows with the same key vector and the same sample weight,
// cₖ rows in group k, s its weight, Yₖ = Σ y and SSₖ = Σ (y − ȳₖ)² over its rows, d features.

/// Rows with identical key vectors (and weights) merged into one key with a count, a value sum
/// and a centred square sum: every kernel sum over the rows equals the sum over the groups with
/// weights cₖ·s, and leave-one-out needs, per group, only (cₖ, Yₖ, SSₖ) besides (see
/// ``CrossValidation``). Survey data (ages, years, grades) often has g ≪ n: the O(n²) scans
/// become O(g²).
struct TiedKeys: Sendable {
    /// g × d.
    let keys: Matrix
    let counts: [Double]
    /// s of each group (1 without weights).
    let weights: [Double]
    let means: [Double]
    let centredSquares: [Double]

    var count: Int { counts.count }

    /// The groups of `keys`' rows (by exact equality of every coordinate and of the weight), or
    /// nil when compression would not pay: more than `maximumFraction` of n groups.
    ///
    /// - Complexity: O(n·d·log n).
    init?(keys: Matrix, targets: [Double], weights: [Double]?, maximumFraction: Double = 0.5) {
        let n = keys.rows, d = keys.columns
        func less(_ a: Int, _ b: Int) -> Bool {
            for j in 0..<d where keys[a, j] != keys[b, j] { return keys[a, j] < keys[b, j] }
            let (sa, sb) = (weights?[a] ?? 1, weights?[b] ?? 1)
            return sa != sb ? sa < sb : a < b
        }
        func same(_ a: Int, _ b: Int) -> Bool {
            (0..<d).allSatisfy { keys[a, $0] == keys[b, $0] } && (weights?[a] ?? 1) == (weights?[b] ?? 1)
        }
        let order = (0..<n).sorted(by: less)
        var starts = [0]
        for r in 1..<n where !same(order[r - 1], order[r]) { starts.append(r) }
        guard Double(starts.count) <= maximumFraction * Double(n) else { return nil }
        starts.append(n)
        var elements: [Double] = [], counts: [Double] = [], groupWeights: [Double] = []
        var means: [Double] = [], squares: [Double] = []
        for (start, end) in zip(starts, starts.dropFirst()) {
            let rows = order[start..<end], first = rows.first!
            for j in 0..<d { elements.append(keys[first, j]) }
            let c = Double(rows.count)
            // Two passes: the mean, then the centred squares (no cancellation).
            let mean = rows.reduce(0.0) { $0 + targets[$1] } / c
            counts.append(c)
            groupWeights.append(weights?[first] ?? 1)
            means.append(mean)
            squares.append(rows.reduce(0.0) { $0 + (targets[$1] - mean) * (targets[$1] - mean) })
        }
        self.keys = Matrix(rows: counts.count, columns: d, elements: elements)
        self.counts = counts
        self.weights = groupWeights
        self.means = means
        self.centredSquares = squares
    }
}
