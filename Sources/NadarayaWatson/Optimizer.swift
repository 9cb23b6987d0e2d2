import RealModule

/// First-order optimisers for the attention widths, full batch.
public enum Optimizer: String, CaseIterable, Sendable, Codable {
    /// Gradient descent, w ← w − lr · ∂L/∂w: the chapter's choice.
    case sgd
    /// Adam (Kingma & Ba, 2015) with β₁ = 0.9, β₂ = 0.999, ε = 10⁻⁸:
    /// m ← β₁m + (1 − β₁)g, v ← β₂v + (1 − β₂)g², w ← w − lr · m̂ / (√v̂ + ε), with the bias
    /// corrections m̂ = m/(1 − β₁ᵗ), v̂ = v/(1 − β₂ᵗ). Each step moves w by about lr at most.
    case adam
}

/// The state of an optimiser over a parameter vector.
struct OptimizerState {
    let optimizer: Optimizer
    let learningRate: Double
    var step = 0
    var firstMoment: [Double]
    var secondMoment: [Double]

    init(_ optimizer: Optimizer, learningRate: Double, count: Int) {
        self.optimizer = optimizer
        self.learningRate = learningRate
        firstMoment = Array(repeating: 0, count: count)
        secondMoment = Array(repeating: 0, count: count)
    }

    /// Applies one update to `parameters` given the gradient.
    mutating func update(_ parameters: inout [Double], gradient g: [Double]) {
        step += 1
        switch optimizer {
        case .sgd:
            for k in parameters.indices { parameters[k] -= learningRate * g[k] }
        case .adam:
            let beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8
            let correction1 = 1 - Double.pow(beta1, Double(step)), correction2 = 1 - Double.pow(beta2, Double(step))
            for k in parameters.indices {
                firstMoment[k] = beta1 * firstMoment[k] + (1 - beta1) * g[k]
                secondMoment[k] = beta2 * secondMoment[k] + (1 - beta2) * g[k] * g[k]
                let mHat = firstMoment[k] / correction1, vHat = secondMoment[k] / correction2
                parameters[k] -= learningRate * mHat / (vHat.squareRoot() + epsilon)
            }
        }
    }
}
