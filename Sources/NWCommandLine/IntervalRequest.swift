import NadarayaWatson

/// `--interval LEVEL [--bootstrap B --seed S --bootstrap-weights W --band pointwise|simultaneous]`:
/// which band `nw predict` writes and `nw plot` draws, and the one place that computes it.
public struct IntervalRequest: Sendable {
    /// The coverage of `lower`/`upper`, or nil for none.
    public var level: Double?
    /// Wild-bootstrap resamples instead of the asymptotic interval, or nil.
    public var bootstrap: WildBootstrap?
    public var band: BandKind = .pointwise

    public init() {}

    /// The checks across the interval options; `standardErrors` is whether `--se` was given.
    public func validate(standardErrors: Bool = false) throws {
        if let level, !(level > 0 && level < 1) {
            throw CommandLineError.option("--interval", "should be a level between 0 and 1 (such as 0.95), but is \(level)")
        }
        if let bootstrap {
            if bootstrap.resamples < 2 {
                throw CommandLineError.option("--bootstrap", "should be a whole number of resamples of at least 2, but is \(bootstrap.resamples)")
            }
            if level == nil && !standardErrors {
                throw CommandLineError.option("--bootstrap", "needs --interval or --se (it resamples to give them)")
            }
        }
        if band == .simultaneous {
            if bootstrap == nil { throw CommandLineError.option("--band", "simultaneous needs --bootstrap (its critical value comes from the resamples)") }
            if level == nil { throw CommandLineError.option("--band", "simultaneous needs --interval LEVEL") }
        }
    }

    /// Whether anything here (or `--se`) needs the fit's noise level.
    public func isRequested(standardErrors: Bool) -> Bool { level != nil || standardErrors }

    /// The columns asked for: `se` (asymptotic σ̂·‖l(q)‖, or the bootstrap sd), `lower` and
    /// `upper`; notes a sup-t band's c on stderr.
    func columns(_ model: FittedLocalPolynomialRegressor, queries: Matrix, estimates: [Double], standardErrors: Bool,
                 noise: SmootherNoise) throws -> (se: [Double]?, lower: [Double]?, upper: [Double]?) {
        guard level != nil || standardErrors else { return (nil, nil, nil) }
        if let bootstrap {
            let result = try model.bootstrapBand(queries, level: level ?? 0.95, bootstrap: bootstrap, band: band, noise: noise)
            if let c = result.criticalValue {
                StandardError.note("band: simultaneous (sup-t) critical value c = \(NumberFormat.roundTrip(c)) "
                    + "from \(bootstrap.resamples) resamples (pointwise z = \(NumberFormat.roundTrip(StandardNormal.quantile((1 + level!) / 2))))")
            }
            return (standardErrors ? result.standardErrors : nil, level == nil ? nil : result.lower, level == nil ? nil : result.upper)
        }
        let se = try model.standardErrors(queries, noise: noise)
        guard let level else { return (se, nil, nil) }
        let z = StandardNormal.quantile((1 + level) / 2)
        // f̂ ∓ z·se as `confidenceInterval`, on the estimates already written.
        return (standardErrors ? se : nil, zip(estimates, se).map { $0 - z * $1 }, zip(estimates, se).map { $0 + z * $1 })
    }
}

extension SmootherNoise {
    /// The stderr note of σ̂ that every job with se or intervals writes.
    func report() {
        StandardError.note("noise: σ̂ = \(NumberFormat.roundTrip(sigma)) (ν = \(NumberFormat.roundTrip(nu)), "
            + "ν̃ = \(NumberFormat.roundTrip(nuTilde)), n = \(NumberFormat.roundTrip(count)))")
    }
}
