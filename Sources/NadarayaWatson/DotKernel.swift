import RealModule

// Legend: n keys, d features, h the common width (a temperature: the logits are q·k/h²).

extension Kernel {
    /// Where the `dot` kernel's cross-validation starts: one width for every feature,
    /// h₀ = σ·d^¼ with σ the root mean square of the key coordinates (not centred: the kernel
    /// is not invariant to moving the data). For coordinates of unit scale it is a Transformer's
    /// temperature 1/√d; the search then scans h₀·[10⁻³, 10²] and refines.
    ///
    /// - Parameters:
    ///   - keys: n × d keys, finite.
    ///   - weights: frequency weights (nil: unit weights).
    /// - Returns: d equal widths, positive (σ = 0, all keys at the origin, gives h₀ = d^¼).
    /// - Complexity: O(n·d).
    static func dotStartWidths(for keys: Matrix, weights: [Double]?) -> [Double] {
        let n = keys.rows, d = keys.columns
        var sum = 0.0, total = 0.0
        for k in 0..<n {
            let s = weights?[k] ?? 1
            var row = 0.0
            for j in 0..<d { row += keys[k, j] * keys[k, j] }
            sum += s * row
            total += s * Double(d)
        }
        let rms = (sum / total).squareRoot()
        let h = (rms > 0 && rms.isFinite ? rms : 1) * Double.pow(Double(d), 0.25)
        return Array(repeating: h, count: d)
    }

    /// Throws for a rule of thumb with the `dot` kernel: normal-reference rules size a width
    /// for distances, and the dot kernel's width is a temperature.
    static func requireRule(_ bandwidth: Bandwidth, for kernel: Kernel) throws {
        guard kernel == .dot, case .rule = bandwidth else { return }
        throw NadarayaWatsonError.invalidArgument(
            "the dot kernel's width is a temperature, which scott and silverman do not size: give a width (d^¼ is a Transformer's 1/√d) or use cv")
    }
}

extension Matrix {
    /// Each row divided by its Euclidean norm (the `dot` kernel's cosine similarity:
    /// `--normalize`). The norm is computed with a power-of-two rescaling, so rows of huge or
    /// tiny magnitude normalise without overflow or underflow.
    ///
    /// - Throws: ``NadarayaWatsonError/invalidArgument(_:)`` naming the first row that is all
    ///   zeros (it has no direction).
    /// - Complexity: O(rows·columns).
    public func normalizedRows(_ what: String = "row") throws -> Matrix {
        var result = self
        for i in 0..<rows {
            var largest = 0.0
            for j in 0..<columns { largest = Swift.max(largest, self[i, j].magnitude) }
            guard largest > 0 else {
                throw NadarayaWatsonError.invalidArgument("\(what) \(i + 1) should have a nonzero norm to be normalised, but is all zeros")
            }
            // Scale by a power of two near the largest magnitude (exact), then the plain norm.
            let scale = Double(sign: .plus, exponent: largest.exponent, significand: 1)
            var squares = 0.0
            for j in 0..<columns {
                let x = self[i, j] / scale
                squares += x * x
            }
            let norm = squares.squareRoot()
            for j in 0..<columns { result[i, j] = self[i, j] / scale / norm }
        }
        return result
    }
}
