import ArgumentParser
import NadarayaWatson
import NWCommandLine

/// Closed option sets are read as text and parsed here, so a bad value gets our one-line
/// "should be one of …, but is x" message instead of the parser's multi-line list.
func choice<T: RawRepresentable & CaseIterable>(_ type: T.Type, _ option: String, _ text: String) throws -> T where T.RawValue == String {
    if let value = T(rawValue: text) { return value }
    let names = T.allCases.map(\.rawValue).joined(separator: ", ")
    throw CommandLineError.option(option, "should be one of \(names), but is \"\(text)\"")
}

func choices<T: RawRepresentable & CaseIterable>(_ type: T.Type) -> String where T.RawValue == String {
    T.allCases.map(\.rawValue).joined(separator: "|")
}

/// Options every subcommand that reads TRAIN shares.
struct TrainingOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Training data: CSV with a header; one key–value pair per row.", valueName: "TRAIN.csv"))
    var train: String?

    @Option(help: ArgumentHelp("The value column of TRAIN (default: the last column). Every other column is a feature.", valueName: "COL"))
    var target: String?
}

/// Engine options.
struct EngineOptions: ParsableArguments {
    @Option(help: "Worker threads (default: every core). Results do not depend on it.")
    var threads: Int?

    @Option(help: ArgumentHelp("Evaluation engine.", visibility: .hidden))
    var strategy: String = EvaluationStrategy.automatic.rawValue

    @Option(help: ArgumentHelp("Arithmetic of the SIMD engines (gaussian, logistic, cauchy, laplacian): double, or single for about twice the speed at ~1e-6 relative error.", valueName: choices(Precision.self)))
    var precision: String = Precision.double.rawValue

    func validatedPrecision() throws -> Precision {
        try choice(Precision.self, "--precision", precision)
    }

    func validatedStrategy() throws -> EvaluationStrategy {
        try choice(EvaluationStrategy.self, "--strategy", strategy)
    }

    func validatedThreads() throws -> Int? {
        if let threads, threads < 1 {
            throw CommandLineError.option("--threads", "should be a whole number of at least 1, but is \(threads)")
        }
        return threads
    }
}

func require<T>(_ value: T?, _ option: String, _ context: String = "") throws -> T {
    guard let value else { throw CommandLineError.option(option, "is required\(context)") }
    return value
}
