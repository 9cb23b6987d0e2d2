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
    /// - Throws: ``InvalidValue`` for anything else, or a width that is not a positive finite
    ///   number.
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
            guard value.isFinite, value > 0 else {
                throw InvalidValue(description: "should be a positive finite number, but \(quoted(trimmed)) is not")
            }
            return value
        })
    }

    /// The widths for `featureNames`, checking the list's length.
    func widths(features featureNames: [String], trainFile: String) throws -> [Double]? {
        guard case let .widths(h) = self else { return nil }
        let d = featureNames.count
        guard h.count == 1 || h.count == d else {
            throw CommandLineError.option("--bandwidth", "has \(h.count) values, but \(trainFile) has \(d) feature\(d == 1 ? "" : "s") (\(featureNames.joined(separator: ", "))): give one, or one per feature")
        }
        return h
    }
}

/// How `nw bandwidth` (and `--bandwidth METHOD`) selects widths.
public enum BandwidthMethod: String, CaseIterable, Sendable {
    case scott, silverman, cv
}
