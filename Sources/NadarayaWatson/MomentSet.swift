// Legend: d continuous features, P the polynomial degree, u = (k − q)/h the scaled offsets,
// uᵍ a monomial with exponent vector g, p = the number of monomials of degree ≤ P.

/// The monomials uᵍ of total degree ≤ D in d variables, ordered by degree, then with earlier
/// variables' exponents first: 1, u₁, u₂, u₁², u₁u₂, u₂², … — so the monomials of degree ≤ P are
/// a prefix for every P ≤ D (the fallback to a lower degree reuses the sums it has).
struct Monomials: Sendable {
    /// Exponent vectors, d each.
    let exponents: [[Int]]
    /// For g ≠ 1: uᵍ = u^{parent}·u_{variable} (the first variable with a positive exponent).
    let parent: [Int]
    let variable: [Int]
    /// How many monomials have degree ≤ P, for P = 0…D.
    let prefixCount: [Int]
    /// The squares set 1, u₁², …, u_d² (parametric pooling's gradient), not a polynomial basis.
    let squaresOnly: Bool

    init(dimension d: Int, degree D: Int) {
        var exponents: [[Int]] = []
        var prefix: [Int] = []
        func compositions(_ total: Int, _ parts: Int) -> [[Int]] {
            guard parts > 1 else { return [[total]] }
            return stride(from: total, through: 0, by: -1).flatMap { first in
                compositions(total - first, parts - 1).map { [first] + $0 }
            }
        }
        for degree in 0...D {
            exponents += compositions(degree, d)
            prefix.append(exponents.count)
        }
        var index: [[Int]: Int] = [:]
        for (i, e) in exponents.enumerated() { index[e] = i }
        var parent = [Int](repeating: -1, count: exponents.count), variable = parent
        for (i, e) in exponents.enumerated() where i > 0 {
            let j = e.firstIndex { $0 > 0 }!
            var reduced = e
            reduced[j] -= 1
            parent[i] = index[reduced]!
            variable[i] = j
        }
        self.exponents = exponents
        self.parent = parent
        self.variable = variable
        self.prefixCount = prefix
        self.index = index
        squaresOnly = false
    }

    /// The monomials 1, u₁², …, u_d²: the constant and each offset's square.
    init(squaresOf d: Int) {
        exponents = [[Int](repeating: 0, count: d)] + (0..<d).map { j in (0..<d).map { $0 == j ? 2 : 0 } }
        parent = [-1] + Array(repeating: 0, count: d)
        variable = [-1] + Array(0..<d)
        prefixCount = [1]
        var index: [[Int]: Int] = [:]
        for (i, e) in exponents.enumerated() { index[e] = i }
        self.index = index
        squaresOnly = true
    }

    private let index: [[Int]: Int]

    var count: Int { exponents.count }

    /// The position of the monomial with exponent vector `e`.
    func position(of e: [Int]) -> Int { index[e]! }

    /// uᵍ for every monomial, from the offsets u (d of them), into `values` (count of them).
    @inline(__always)
    func evaluate(_ u: UnsafePointer<Double>, into values: UnsafeMutablePointer<Double>) {
        values[0] = 1
        if squaresOnly {
            for g in 1..<count { values[g] = u[variable[g]] * u[variable[g]] }
            return
        }
        for g in 1..<count { values[g] = values[parent[g]] * u[variable[g]] }
    }
}

/// Which kernel moments an estimator needs per query, and where each sits in a ``MomentState``.
///
/// For local polynomial regression of degree P with the p monomials of degree ≤ P as its basis:
///
/// - design sums D[g] = Σᵢ sᵢαᵢ uᵢᵍ for every monomial g of degree ≤ 2P (the Gram matrix
///   A[e, f] = D[e + f] reads them);
/// - response sums R[e, c] = Σᵢ sᵢαᵢ vᵢ꜀ uᵢᵉ for the p basis monomials and each of the w
///   components of the values (w = 1 for a target; degree 0 with w columns is attention pooling's
///   state (S, T); w = 0 for a density's sum alone);
/// - with `scores`, for the exact derivative of degree 0, Σᵢ sᵢαᵢ gᵢⱼ and Σᵢ sᵢαᵢ vᵢ꜀ gᵢⱼ with
///   gᵢⱼ = ∂ log αᵢ / ∂qⱼ;
/// - or, for the gradient of the Gaussian leave-one-out loss in the widths (``squares(dimension:)``),
///   Σᵢ sᵢαᵢ uᵢⱼ² and Σᵢ sᵢαᵢ yᵢ uᵢⱼ² beside S and T.
struct MomentSet: Sendable {
    let dimension: Int
    let degree: Int
    let scores: Bool
    /// w: the components of the values each response moment carries.
    let responseWidth: Int
    /// Monomials of degree ≤ 2P.
    let monomials: Monomials

    /// D's position for each pair of basis monomials (e, f), row-major p × p.
    let designTable: [Int]
    /// How many monomials the response sums R[e, c] run over: the basis of degree P, or every
    /// monomial of the squares set.
    let responseCount: Int

    init(dimension d: Int, degree P: Int, scores: Bool = false, responseWidth: Int = 1) {
        dimension = d
        degree = P
        self.scores = scores
        self.responseWidth = responseWidth
        let monomials = Monomials(dimension: d, degree: 2 * P)
        self.monomials = monomials
        let p = monomials.prefixCount[P]
        designTable = (0..<p * p).map { ef in
            monomials.position(of: zip(monomials.exponents[ef / p], monomials.exponents[ef % p]).map(+))
        }
        responseCount = p
    }

    private init(squaresOf d: Int) {
        dimension = d
        degree = 0
        scores = false
        responseWidth = 1
        monomials = Monomials(squaresOf: d)
        designTable = [0]
        responseCount = monomials.count
    }

    /// The moments of the Gaussian leave-one-out loss and its gradient in the widths (parametric
    /// pooling's training, CV's quasi-Newton steps): design sums of 1, u₁², …, u_d² and the
    /// target's sums over the same monomials. Degree 0 for ``FittedLocalPolynomialRegressor``'s
    /// purposes: S and T are the first design and response sums, as for pooling.
    static func squares(dimension d: Int) -> MomentSet { MomentSet(squaresOf: d) }

    /// p: the basis size for degree P.
    func basisCount(degree P: Int) -> Int { monomials.prefixCount[P] }
    var designCount: Int { monomials.count }
    /// R[e, c] sits at `responseOffset + e·w + c`.
    var responseOffset: Int { designCount }
    /// Σ sαgⱼ sits at `scoreOffset + j`, Σ sαv꜀gⱼ at `scoreOffset + d + j·w + c`.
    var scoreOffset: Int { designCount + responseCount * responseWidth }
    var count: Int { scoreOffset + (scores ? dimension * (1 + responseWidth) : 0) }

    /// Attention pooling's moments: S = Σ sα and T꜀ = Σ sαv꜀ (degree 0, w components).
    static func pooling(dimension d: Int, width: Int) -> MomentSet {
        MomentSet(dimension: d, degree: 0, responseWidth: width)
    }

    /// The position of D[e + f] for basis monomials e and f (of the full degree P, or any
    /// lower one: their monomials are a prefix).
    @inline(__always)
    func designPosition(_ e: Int, _ f: Int) -> Int { designTable[e * basisCount(degree: degree) + f] }
}
