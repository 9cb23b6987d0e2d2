import Foundation
import Testing
@testable import NadarayaWatson

// The promise "exact and numerically stable for any input", checked over the whole grid of
// kernels × forms × empty policies × precisions × regression/classification × extreme widths ×
// extreme coordinates. Every expectation is computed here independently of the engines: support
// membership by plain arithmetic (the contract's open support), nearest keys by log₂ distances
// (a different formula from the library's wide magnitudes).

/// The smallest positive `Double`, 4.9·10⁻³²⁴ (written 5e-324).
let subnormal = Double.leastNonzeroMagnitude

/// The extreme widths of the property suite: from the smallest subnormal to near the largest
/// finite `Double`.
let extremeWidths: [Double] = [subnormal, 1e-300, 1e-150, 1, 1e150, 1e300, 1.7e308]

/// One coordinate set: keys and queries in one or two features.
struct ExtremeCoordinates: CustomTestStringConvertible {
    let name: String
    let keys: Matrix
    let queries: Matrix
    var testDescription: String { name }

    /// Keys at 0 and ±c (one repeated, for exact ties) and queries at the keys, between and beyond
    /// them, in one feature; and the same pattern in two features.
    static func around(_ c: Double, name: String) -> [ExtremeCoordinates] {
        let k1: [Double] = [-c, 0, c, c]
        let q1: [Double] = [-c, 0, c, c / 3, -c / 2, c * 0.75]
        let k2: [[Double]] = [[-c, 0], [0, c], [c, c], [c, -c], [0, 0]]
        let q2: [[Double]] = [[0, 0], [c, 0], [-c, -c], [c / 2, c / 3], [-c, c]]
        return [
            ExtremeCoordinates(name: "\(name) 1-D", keys: Matrix(column: k1), queries: Matrix(column: q1)),
            ExtremeCoordinates(name: "\(name) 2-D", keys: Matrix(k2), queries: Matrix(q2)),
        ]
    }

    static let all: [ExtremeCoordinates] = {
        var sets = [ExtremeCoordinates(name: "all zero", keys: Matrix(column: [0, 0, 0]), queries: Matrix(column: [0, 0]))]
        sets += around(subnormal, name: "±5e-324")
        sets += around(1e-300, name: "±1e-300")
        sets += around(1e300, name: "±1e300")
        sets += around(1.7e308, name: "±1.7e308")
        let mixed: [Double] = [-1.7e308, -1e300, -subnormal, 0, 1e-300, 1, 1e150, 1.7e308]
        sets.append(ExtremeCoordinates(name: "mixed scales 1-D", keys: Matrix(column: mixed),
                                       queries: Matrix(column: [-1.7e308, -1e150, subnormal, 0.5, 1e299, 1.6e308, 3])))
        sets.append(ExtremeCoordinates(name: "mixed scales 2-D",
                                       keys: Matrix([[-1.7e308, 1], [1e-300, 1e300], [0, -subnormal], [1.7e308, 1.7e308], [1, 1]]),
                                       queries: Matrix([[0, 0], [1.7e308, -1.7e308], [subnormal, 1e300], [-1e150, 2]])))
        return sets
    }()
}

/// Whether some key has positive weight for a compact kernel: ‖u‖ < 1 (radial) or every
/// |uⱼ| < 1 (product), uⱼ = (qⱼ − kⱼ)/hⱼ by plain division (an overflow is ∞, outside).
func hasKeyInSupport(form: KernelForm, keys: Matrix, query: [Double], h: [Double]) -> Bool {
    (0..<keys.rows).contains { k in
        let u = (0..<keys.columns).map { (query[$0] - keys[k, $0]) / h[$0] }
        switch form {
        case .radial: return u.reduce(0) { $0 + $1 * $1 } < 1
        case .product: return u.allSatisfy { abs($0) < 1 }
        }
    }
}

/// log₂ ‖(q − k)/h‖ by per-feature logarithms, without overflow: an independent yardstick for
/// nearest keys.
func log2ScaledDistance(keys: Matrix, key k: Int, query: [Double], h: [Double]) -> Double {
    let terms = (0..<keys.columns).map { j -> Double in
        var difference = abs(query[j] - keys[k, j]), extra = 0.0
        if !difference.isFinite { difference = abs(query[j] / 2 - keys[k, j] / 2); extra = 1 }
        return difference > 0 ? log2(difference) + extra - log2(h[j]) : -.infinity
    }
    let top = terms.max()!
    guard top > -.infinity else { return -.infinity }
    return top + log2(terms.reduce(0) { $0 + exp2(2 * ($1 - top)) }) / 2
}

@Suite("Extreme inputs: no crash, finite where promised, policies honoured")
struct ExtremeInputPropertyTests {
    static let policies: [EmptyNeighbourhoodPolicy] = [.nan, .nearest, .mean, .error]
    static let values: [Double] = [1, 2, 3, 4, 5, 6, 7, 8]

    @Test("regression over every kernel, form, policy, precision, width and coordinate set",
          arguments: ExtremeCoordinates.all)
    func regression(_ data: ExtremeCoordinates) throws {
        let n = data.keys.rows, d = data.keys.columns
        let y = Matrix(column: Array(Self.values.prefix(n)))
        let (low, high) = (y.elements.min()!, y.elements.max()!)
        for kernel in Kernel.allCases {
            for form in KernelForm.allCases {
                for precision in [Precision.double, .single] {
                    for width in extremeWidths {
                        let h = Array(repeating: width, count: d)
                        for policy in Self.policies {
                            let context = "\(kernel) \(form) \(precision) h=\(width) \(policy)"
                            let model = NadarayaWatsonRegressor(kernel: kernel, form: form, bandwidth: .widths(h),
                                                                emptyPolicy: policy, precision: precision, threads: 1)
                            let fitted = try model.fit(keys: data.keys, values: y)
                            let empties = (0..<data.queries.rows).map {
                                kernel.isCompact && !hasKeyInSupport(form: form, keys: data.keys, query: data.queries.row($0), h: h)
                            }
                            if policy == .error && empties.contains(true) {
                                #expect(throws: NadarayaWatsonError.emptyNeighbourhood(query: empties.firstIndex(of: true)!),
                                        "\(context)") { try fitted.predict(data.queries) }
                                continue
                            }
                            let f = try fitted.predict(data.queries)
                            var parallel = model
                            parallel.threads = 3
                            let g = try parallel.fit(keys: data.keys, values: y).predict(data.queries)
                            #expect(f.elements.map(\.bitPattern) == g.elements.map(\.bitPattern), "threads: \(context)")
                            for i in 0..<data.queries.rows {
                                let value = f[i, 0]
                                if empties[i] && policy == .nan {
                                    #expect(value.isNaN, "\(context) query \(i)")
                                    continue
                                }
                                #expect(value.isFinite && value >= low && value <= high, "\(context) query \(i): \(value)")
                                guard empties[i] else { continue }
                                switch policy {
                                case .mean:
                                    #expect(abs(value - Statistics.mean(y.elements)) <= 1e-12 * high, "\(context)")
                                case .nearest:
                                    let q = data.queries.row(i)
                                    let distances = (0..<n).map { log2ScaledDistance(keys: data.keys, key: $0, query: q, h: h) }
                                    let nearest = distances.min()!
                                    let candidates = (0..<n).filter { distances[$0] <= nearest + 1e-9 }
                                    #expect(candidates.contains { y[$0, 0] == value }, "\(context) query \(i): \(value)")
                                case .nan, .error: break
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    @Test("classification over every kernel, form, policy, precision, width and coordinate set",
          arguments: ExtremeCoordinates.all)
    func classification(_ data: ExtremeCoordinates) throws {
        let n = data.keys.rows, d = data.keys.columns
        let labels = (0..<n).map { ["a", "b", "c"][$0 % 3] }
        for kernel in Kernel.allCases {
            for form in KernelForm.allCases {
                for precision in [Precision.double, .single] {
                    for width in extremeWidths {
                        let h = Array(repeating: width, count: d)
                        for policy in Self.policies where policy != .error {
                            let context = "\(kernel) \(form) \(precision) h=\(width) \(policy)"
                            let model = NadarayaWatsonClassifier(kernel: kernel, form: form, bandwidth: .widths(h),
                                                                 emptyPolicy: policy, precision: precision, threads: 1)
                            let p = try model.fit(keys: data.keys, labels: labels).probabilities(data.queries)
                            var parallel = model
                            parallel.threads = 2
                            let p2 = try parallel.fit(keys: data.keys, labels: labels).probabilities(data.queries)
                            #expect(p.elements.map(\.bitPattern) == p2.elements.map(\.bitPattern), "threads: \(context)")
                            for i in 0..<data.queries.rows {
                                let row = p.row(i)
                                let empty = kernel.isCompact && !hasKeyInSupport(form: form, keys: data.keys, query: data.queries.row(i), h: h)
                                if empty && policy == .nan {
                                    #expect(row.allSatisfy { $0.isNaN }, "\(context) query \(i)")
                                    continue
                                }
                                #expect(row.allSatisfy { $0 >= 0 && $0 <= 1 }, "\(context) query \(i): \(row)")
                                #expect(abs(row.reduce(0, +) - 1) <= 1e-6, "\(context) query \(i): \(row)")
                            }
                        }
                    }
                }
            }
        }
    }

    @Test("extreme values: predictions stay inside [min y, max y]", arguments: [Precision.double, .single])
    func extremeValues(_ precision: Precision) throws {
        let keys = Matrix(column: [0, 1, 2, 3, 4])
        let queries = Matrix(column: [-1e300, 0, 0.5, 2, 3.7, 1e300])
        for values in [[1.7e308, 1.7e308, -1.7e308, 1e308, 1.7e308], [subnormal, 2 * subnormal, 0, subnormal, 3 * subnormal],
                       [1e300, -1e-300, 1, subnormal, -1.7e308]] {
            let y = Matrix(column: values)
            for kernel in Kernel.allCases {
                for width in [1e-300, 0.7, 1e300] {
                    let f = try NadarayaWatsonRegressor(kernel: kernel, bandwidth: .width(width), emptyPolicy: .nearest,
                                                        precision: precision, threads: 1)
                        .fit(keys: keys, values: y).predict(queries)
                    for value in f.elements {
                        #expect(value.isFinite && value >= values.min()! && value <= values.max()!,
                                "\(kernel) h=\(width) \(values): \(value)")
                    }
                }
            }
        }
    }

    @Test("rules of thumb are finite and positive on extreme but spread data")
    func rulesOfThumb() throws {
        for column in [[1e308, -1e308, 3], [subnormal, 2 * subnormal, 0], [1.7e308, -1.7e308, 0], [-1.7e308, 0, 1e-300, 1.7e308]] {
            for rule in BandwidthRule.allCases {
                let h = try rule.bandwidths(for: Matrix(column: column))[0]
                #expect(h.isFinite && h > 0, "\(rule) \(column): \(h)")
            }
        }
        // Scott on ±1e308 and on subnormals: the width is the data's own scale, to a factor.
        let big = try BandwidthRule.scott.bandwidths(for: Matrix(column: [1e308, -1e308, 3]))[0]
        #expect(big > 1e307 && big < 1e309)
        let tiny = try BandwidthRule.scott.bandwidths(for: Matrix(column: [subnormal, 2 * subnormal, 0]))[0]
        #expect(tiny == subnormal)
        // Scaling by a power of two is exact: ordinary data give the old formula's bits.
        let x: [Double] = [0.3, 1.7, 2.2, 5.9, 4.1]
        let mean = x.reduce(0, +) / 5
        let sd = (x.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 4).squareRoot()
        let expected = 1.06 * sd * pow(5, -0.2)
        #expect(abs(try BandwidthRule.scott.bandwidths(for: Matrix(column: x))[0] - expected) <= 1e-15 * expected)
        // Where the width truly exceeds the largest Double, the message says so.
        #expect(throws: NadarayaWatsonError.degenerateBandwidth(feature: 0, rule: "scott", reason: "the width exceeds the largest finite number")) {
            try BandwidthRule.scott.bandwidths(for: Matrix(column: [1.7e308, -1.7e308]))
        }
        // A constant feature is still reported as one, however large.
        #expect(throws: NadarayaWatsonError.degenerateBandwidth(feature: 0, rule: "scott", reason: "the feature is constant")) {
            try BandwidthRule.scott.bandwidths(for: Matrix(column: [1.7e308, 1.7e308]))
        }
    }

    @Test("cross-validation and training take the far limit instead of NaN")
    func leaveOneOut() throws {
        let keys = Matrix(column: [1e308, -1e308, 3, 5])
        let targets: [Double] = [1, 2, 3, 4]
        // Each point's leave-one-out prediction is its nearest other key's value: for ±1e308,
        // 3 and 5 are equally near in Double (1e308 − 3 == 1e308 − 5), so they share the weight.
        let r = ParametricAttentionPooling.loss(keys: keys, targets: targets, scales: [1])
        #expect(r.predictions == [3.5, 3.5, 4, 3])
        #expect(r.loss == 0.5 * (2.5 * 2.5 + 1.5 * 1.5 + 1 + 1))
        #expect(r.gradient.allSatisfy { $0.isFinite })
        let model = try ParametricAttentionPooling(epochs: 3).fit(keys: keys, targets: targets)
        #expect(model.scales.allSatisfy { $0.isFinite })
        for kernel in Kernel.allCases {
            let cv = CrossValidation(kernel: kernel, emptyPolicy: .nearest)
            for width in extremeWidths {
                let score = try cv.score(keys: keys, targets: targets, bandwidths: [width])
                // dot's log weights q·k/h² of ±1e308 keys leave the Double range (they are not
                // distances, so there is no far limit): its score is +∞, never NaN.
                #expect(kernel == .dot ? score == .infinity || score.isFinite : score.isFinite, "\(kernel) h=\(width): \(score)")
            }
        }
        // Huge targets: the score is 2²ᵏ times that of the scaled targets, not ∞ from overflowing sums.
        let scaled = try CrossValidation().score(keys: keys, targets: targets.map { $0 * 0x1p1000 }, bandwidths: [1])
        let plain = try CrossValidation().score(keys: keys, targets: targets, bandwidths: [1])
        #expect(scaled == plain * 0x1p2000 || (scaled.isInfinite && plain * 0x1p1000 * 0x1p1000 > .greatestFiniteMagnitude))
    }

    @Test("densities and adaptive widths on extreme coordinates", arguments: ExtremeCoordinates.all)
    func densityAndAdaptive(_ data: ExtremeCoordinates) throws {
        let d = data.keys.columns
        // constant and dot have no density (dot is not a function of the distance).
        for kernel in Kernel.allCases where kernel != .constant && kernel != .dot && !(kernel == .cauchy && d > 1) {
            for form in KernelForm.allCases {
                for width in extremeWidths {
                    let h = Array(repeating: width, count: d)
                    let logDensity = try ParzenDensity(kernel: kernel, form: form, bandwidth: .widths(h), threads: 1)
                        .fit(samples: data.keys).logDensity(data.queries)
                    for (i, value) in logDensity.enumerated() {
                        let q = data.queries.row(i)
                        // ln p̂ is finite where the nearest kernel term's log is a Double (compact:
                        // some key in the support; gaussian: r²/2 below 2¹⁰²⁴; laplacian and
                        // logistic: the distance; cauchy: always), else −∞; never NaN.
                        let nearest = (0..<data.keys.rows).map { log2ScaledDistance(keys: data.keys, key: $0, query: q, h: h) }.min()!
                        let representable: Bool? = switch kernel {
                        case .gaussian: nearest < 511 ? true : nearest > 513 ? false : nil
                        case .laplacian, .logistic: nearest < 1022 ? true : nearest > 1025 ? false : nil
                        case .cauchy: true
                        default: hasKeyInSupport(form: form, keys: data.keys, query: q, h: h)
                        }
                        #expect(!value.isNaN && value < .infinity)
                        if let representable {
                            #expect(representable ? value.isFinite : value == -.infinity,
                                    "\(kernel) \(form) h=\(width) query \(i): \(value)")
                        }
                    }
                    var adaptive = NadarayaWatsonRegressor(kernel: kernel, form: form, bandwidth: .widths(h), emptyPolicy: .mean, threads: 1)
                    adaptive.adaptive = true
                    let f = try adaptive.fit(keys: data.keys, values: Matrix(column: Array(Self.values.prefix(data.keys.rows))))
                        .predict(data.queries)
                    #expect(f.elements.allSatisfy { $0.isFinite }, "adaptive \(kernel) \(form) h=\(width): \(f.elements)")
                }
            }
        }
    }
}
