// Legend: n keys, d features, h widths; u = (q − k)/h, the support is ‖u‖ < 1 (radial) or
// every |uⱼ| < 1 (product), a subset of the box |qⱼ − kⱼ| < hⱼ in both cases.

/// A spatial index of the keys for compact kernels: a query gets every key that can lie in its
/// support (a superset, never a miss), as runs of positions in the index's own key order. Dense
/// evaluation walks all positions in that same order, so both sum the same terms in the same
/// order: the indexed result is bit for bit the dense one.
///
/// 1-D: keys sorted, the interval found by binary search. d ≥ 2: a k-d tree over the keys with a
/// bounding box per node; a node is skipped when the box lies outside the query's support box
/// widened by a relative 10⁻⁹ (far more than the rounding of u), and, for the radial form, when
/// the box's scaled distance bound exceeds 1 by the same margin.
struct KeyIndex: Sendable {
    let d: Int
    let bandwidths: [Double]
    /// Keys in index order (row-major), and their original indices.
    let keys: [Double]
    let order: [Int]
    /// k-d tree nodes (d ≥ 2): [start, end) in `order`, bounding box, children.
    let nodes: [Node]

    struct Node: Sendable {
        var start: Int, end: Int
        var lower: [Double], upper: [Double]
        var left: Int, right: Int  // −1 for leaves
    }

    static let leafSize = 24
    static let margin = 1e-9

    init(keys x: Matrix, bandwidths: [Double]) {
        d = x.columns
        self.bandwidths = bandwidths
        var order = Array(0..<x.rows)
        var nodes: [Node] = []
        if d == 1 {
            // By value, ties broken by index, in linear time.
            order = RadixSort.sortedOrder(x.elements)
        } else {
            // Build the tree over `order` in place, splitting the widest scaled extent at the median.
            func build(_ start: Int, _ end: Int) -> Int {
                var lower = [Double](repeating: .infinity, count: x.columns), upper = [Double](repeating: -.infinity, count: x.columns)
                for i in start..<end {
                    for j in 0..<x.columns {
                        lower[j] = min(lower[j], x[order[i], j])
                        upper[j] = max(upper[j], x[order[i], j])
                    }
                }
                let id = nodes.count
                nodes.append(Node(start: start, end: end, lower: lower, upper: upper, left: -1, right: -1))
                guard end - start > KeyIndex.leafSize else { return id }
                let axis = (0..<x.columns).max { (upper[$0] - lower[$0]) / bandwidths[$0] < (upper[$1] - lower[$1]) / bandwidths[$1] }!
                order[start..<end].sort { (x[$0, axis], $0) < (x[$1, axis], $1) }
                let middle = (start + end) / 2
                let left = build(start, middle)
                let right = build(middle, end)
                nodes[id].left = left
                nodes[id].right = right
                return id
            }
            if !order.isEmpty { _ = build(0, order.count) }
        }
        self.order = order
        self.nodes = nodes
        var reordered = [Double](repeating: 0, count: order.count * x.columns)
        for (position, k) in order.enumerated() {
            for j in 0..<x.columns { reordered[position * x.columns + j] = x.elements[k * x.columns + j] }
        }
        keys = reordered
    }

    /// Replaces `ranges` with the runs of index positions holding every key that can lie in the
    /// support of query q, in increasing position order: one run in 1-D, one per leaf above.
    func candidates(near q: UnsafePointer<Double>, radial: Bool, into ranges: inout [Range<Int>]) {
        ranges.removeAll(keepingCapacity: true)
        if d == 1 {
            let reach = bandwidths[0] * (1 + Self.margin) + q[0].magnitude * 1e-15
            let low = q[0] - reach, high = q[0] + reach
            var first = 0, last = keys.count
            while first < last {
                let mid = (first + last) / 2
                if keys[mid] < low { first = mid + 1 } else { last = mid }
            }
            var end = first
            last = keys.count
            while end < last {
                let mid = (end + last) / 2
                if keys[mid] <= high { end = mid + 1 } else { last = mid }
            }
            if first < end { ranges.append(first..<end) }
            return
        }
        guard !nodes.isEmpty else { return }
        var stack = [0]
        while let id = stack.popLast() {
            let node = nodes[id]
            var bound = 0.0
            var outside = false
            for j in 0..<d {
                let gap = max(node.lower[j] - q[j], q[j] - node.upper[j], 0) / bandwidths[j]
                if gap > 1 + Self.margin { outside = true; break }
                bound += gap * gap
            }
            if outside || (radial && bound > 1 + 3 * Self.margin) { continue }
            if node.left < 0 {
                if let last = ranges.last, last.upperBound == node.start {
                    ranges[ranges.count - 1] = last.lowerBound..<node.end
                } else {
                    ranges.append(node.start..<node.end)
                }
            } else {
                // Left first: positions come out increasing.
                stack.append(node.right)
                stack.append(node.left)
            }
        }
    }
}
