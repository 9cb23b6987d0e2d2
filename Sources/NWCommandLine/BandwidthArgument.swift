#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NadarayaWatson

/// The `--bandwidth` value: numbers (one, or one per feature) or a selection method.
public enum BandwidthArgument: Equatable, Sendable {
    case widths([Double])
    case method(BandwidthMethod)

    /// Why a value is not a bandwidth: "should be …" (the option parser names the option and
    /// the value around it).
    public struct InvalidValue: Error, CustomStringConvertible {
        public let description: String
    }

    /// Parses `0.5`, `0.5,2`, `scott`, `silverman` or `cv`.
    ///
    /// - Throws: ``InvalidValue`` for anything else, or a value that is not a finite number ≥ 0
    ///   (0 is a discrete feature's λ; the estimator rejects a continuous width of 0).
    public init(parsing text: String) throws {
        if let method = BandwidthMethod(rawValue: text) {
            self = .method(method)
            return
        }
        let parts = text.split(separator: ",", omittingEmptySubsequences: false)
        self = .widths(try parts.map { part in
            let trimmed = String(part).trimmingSpaces
            guard let value = ClassLabels.decimalValue(trimmed) else {
                throw InvalidValue(description: "should be a positive number, a comma list of them, or one of scott, silverman, cv")
            }
            // 0 is λ's lower end for a discrete feature; a width of 0 is the library's error
            // (it knows which features are continuous).
            guard value.isFinite, value >= 0 else {
                throw InvalidValue(description: "should be a positive finite number, but \(quoted(trimmed)) is not")
            }
            return value
        })
    }

    /// The library's bandwidth: widths, a rule, or cross-validation, resolved by the estimator.
    public var bandwidth: Bandwidth {
        switch self {
        case let .widths(h): .widths(h)
        case .method(.scott): .scott
        case .method(.silverman): .silverman
        case .method(.cv): .crossValidation
        }
    }
}

/// The cross-validation search as the tool shows it: a progress line on a terminal only, then
/// the score at the chosen widths on stderr.
enum SelectionReport {
    /// The progress callback for an estimator (nil when stderr is not a terminal).
    static var progress: SelectionProgress? {
        guard isatty(2) != 0 else { return nil }
        return { evaluations, best in
            StandardError.write("\rnw: cv: \(evaluations) evaluations, best score \(NumberFormat.roundTrip(best))\u{1B}[K")
        }
    }

    /// Clears the progress line and reports the score, when cross-validation chose the widths.
    /// `criterion` names the score: least squares (regression), cross-entropy, log-likelihood.
    static func finish(score: Double?, bandwidths: [Double], criterion: String = "least-squares") {
        guard let score else { return }
        if isatty(2) != 0 { StandardError.write("\r\u{1B}[K") }
        StandardError.note("cv: leave-one-out score \(NumberFormat.roundTrip(score)) (\(criterion)) at h = \(bandwidths.map(NumberFormat.roundTrip).joined(separator: ","))")
    }
}

/// How `nw bandwidth` (and `--bandwidth METHOD`) selects widths.
public enum BandwidthMethod: String, CaseIterable, Sendable {
    case scott, silverman, cv
}
