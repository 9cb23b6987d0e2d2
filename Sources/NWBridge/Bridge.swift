import NadarayaWatson

// Legend: n training rows, m queries, d features, c classes; matrices row-major float64.
//
// The C ABI of the library, for the Python package (ctypes) and any other foreign caller.
// Implementation goals, in order of priority:
// 1. The same library calls as `nw`: the same estimator for the same options, so results are
//    bit for bit the command line's.
// 2. Nothing retained between calls (the caller holds the data: pickling and threads are its
//    business); inputs read in place, results written straight into the caller's buffers.
// 3. Every failure a status and the library's one-line message in the caller's buffer — never
//    a trap, never a print.
//
// Names (kernel, form, empty policy, bandwidth method) are NUL-terminated UTF-8, spelled as on
// the command line. Each function returns 0 on success, 1 with `message` filled on failure.
// `threads` ≤ 0 means every core.

/// A failure to report: a library error's description, or a bad argument.
struct BridgeError: Error, CustomStringConvertible {
    let description: String
}

/// Runs `body`; a thrown error's one-line message goes into `message` (at most `capacity` − 1
/// bytes and a NUL; a cut never splits a UTF-8 sequence).
func bridged(_ message: UnsafeMutablePointer<CChar>?, _ capacity: Int, _ body: () throws -> Void) -> Int32 {
    do {
        try body()
        return 0
    } catch {
        let text = (error as? CustomStringConvertible)?.description ?? "\(error)"
        if let message, capacity > 0 {
            // Whole scalars only, so that a cut never leaves half a UTF-8 sequence.
            var count = 0
            for scalar in text.unicodeScalars {
                let bytes = Array(String(scalar).utf8)
                guard count + bytes.count < capacity else { break }
                for byte in bytes { message[count] = CChar(bitPattern: byte); count += 1 }
            }
            message[count] = 0
        }
        return 1
    }
}

/// A closed option from its C name: "should be one of …, but is x".
func option<T: RawRepresentable & CaseIterable>(_ name: UnsafePointer<CChar>?, _ what: String) throws -> T where T.RawValue == String {
    let text = name.map { String(cString: $0) } ?? ""
    guard let value = T(rawValue: text) else {
        let allowed = T.allCases.map(\.rawValue).joined(separator: ", ")
        throw BridgeError(description: "the \(what) should be one of \(allowed), but is '\(text)'")
    }
    return value
}

/// An n × d matrix read from a row-major buffer.
func matrix(_ data: UnsafePointer<Double>?, rows: Int, columns: Int) throws -> Matrix {
    guard rows >= 0, columns >= 0 else {
        throw BridgeError(description: "the shape should be non-negative, but is \(rows) × \(columns)")
    }
    guard rows * columns == 0 || data != nil else { throw BridgeError(description: "the data pointer is null") }
    let elements = rows * columns == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: rows * columns))
    return Matrix(rows: rows, columns: columns, elements: elements)
}

/// n values, or nil for a null pointer (no sample weights).
func optionalArray(_ data: UnsafePointer<Double>?, count: Int) -> [Double]? {
    data.map { Array(UnsafeBufferPointer(start: $0, count: count)) }
}

/// The bandwidth from a method name — "widths" (given, `widths` holds d of them), "scott",
/// "silverman" or "cv" — as the command line's `--bandwidth` reads it.
func bandwidth(_ method: UnsafePointer<CChar>?, widths: UnsafePointer<Double>?, features d: Int) throws -> Bandwidth {
    let name = method.map { String(cString: $0) } ?? ""
    switch name {
    case "widths":
        guard let widths else { throw BridgeError(description: "given widths need a widths array") }
        return .widths(Array(UnsafeBufferPointer(start: widths, count: d)))
    case "scott": return .scott
    case "silverman": return .silverman
    case "cv": return .crossValidation
    default: throw BridgeError(description: "the bandwidth should be one of widths, scott, silverman, cv, but is '\(name)'")
    }
}

func threadCount(_ threads: Int32) -> Int? { threads > 0 ? Int(threads) : nil }

/// Fits a regressor (degree 0: Nadaraya–Watson; else local polynomial, as `nw predict
/// --degree`) and writes its d widths and the leave-one-out score (NaN unless cross-validation
/// chose the widths).
@_cdecl("nw_regressor_fit")
public func nw_regressor_fit(_ kernel: UnsafePointer<CChar>?, _ form: UnsafePointer<CChar>?, _ degree: Int32,
                             _ policy: UnsafePointer<CChar>?, _ method: UnsafePointer<CChar>?, _ widths: UnsafePointer<Double>?,
                             _ n: Int, _ d: Int, _ x: UnsafePointer<Double>?, _ y: UnsafePointer<Double>?,
                             _ weights: UnsafePointer<Double>?, _ threads: Int32,
                             _ widthsOut: UnsafeMutablePointer<Double>?, _ scoreOut: UnsafeMutablePointer<Double>?,
                             _ message: UnsafeMutablePointer<CChar>?, _ capacity: Int) -> Int32 {
    bridged(message, capacity) {
        let model = try Regression(kernel, form, degree, policy, try bandwidth(method, widths: widths, features: d), threads)
            .fit(try matrix(x, rows: n, columns: d), try matrix(y, rows: n, columns: 1).elements, optionalArray(weights, count: n))
        for j in 0..<d { widthsOut?[j] = model.bandwidths[j] }
        scoreOut?.pointee = model.score ?? .nan
    }
}

/// Predictions of a regressor at the given widths for m queries, into `out` (m values).
@_cdecl("nw_regressor_predict")
public func nw_regressor_predict(_ kernel: UnsafePointer<CChar>?, _ form: UnsafePointer<CChar>?, _ degree: Int32,
                                 _ policy: UnsafePointer<CChar>?, _ widths: UnsafePointer<Double>?,
                                 _ n: Int, _ d: Int, _ x: UnsafePointer<Double>?, _ y: UnsafePointer<Double>?,
                                 _ weights: UnsafePointer<Double>?, _ m: Int, _ q: UnsafePointer<Double>?, _ threads: Int32,
                                 _ out: UnsafeMutablePointer<Double>?, _ message: UnsafeMutablePointer<CChar>?, _ capacity: Int) -> Int32 {
    bridged(message, capacity) {
        guard let widths else { throw BridgeError(description: "prediction needs the fitted widths") }
        let model = try Regression(kernel, form, degree, policy, .widths(Array(UnsafeBufferPointer(start: widths, count: d))), threads)
            .fit(try matrix(x, rows: n, columns: d), try matrix(y, rows: n, columns: 1).elements, optionalArray(weights, count: n))
        let predictions = try model.predict(try matrix(q, rows: m, columns: d))
        for i in 0..<m { out?[i] = predictions[i] }
    }
}

/// Class probabilities (m × c, classes 0…c−1 in order) of the classifier `nw predict --classify`
/// runs; `labels` holds n class indices in 0..<c.
@_cdecl("nw_classifier_predict_proba")
public func nw_classifier_predict_proba(_ kernel: UnsafePointer<CChar>?, _ form: UnsafePointer<CChar>?,
                                        _ policy: UnsafePointer<CChar>?, _ widths: UnsafePointer<Double>?,
                                        _ n: Int, _ d: Int, _ x: UnsafePointer<Double>?, _ labels: UnsafePointer<Int32>?,
                                        _ classes: Int, _ weights: UnsafePointer<Double>?, _ m: Int, _ q: UnsafePointer<Double>?,
                                        _ threads: Int32, _ out: UnsafeMutablePointer<Double>?,
                                        _ message: UnsafeMutablePointer<CChar>?, _ capacity: Int) -> Int32 {
    bridged(message, capacity) {
        guard let widths, let labels else { throw BridgeError(description: "prediction needs the fitted widths and labels") }
        let names = (0..<n).map { String(labels[$0]) }
        let classifier = NadarayaWatsonClassifier(kernel: try option(kernel, "kernel"), form: try option(form, "form"),
                                                  bandwidth: .widths(Array(UnsafeBufferPointer(start: widths, count: d))),
                                                  emptyPolicy: try option(policy, "empty policy"), threads: threadCount(threads))
        let model = try classifier.fit(keys: try matrix(x, rows: n, columns: d), labels: names, sampleWeights: optionalArray(weights, count: n))
        let probabilities = try model.probabilities(try matrix(q, rows: m, columns: d))
        // The model's classes are the labels present, ordered as strings: put them in index order.
        for c in 0..<classes { for i in 0..<m { out?[i * classes + c] = 0 } }
        for (column, name) in model.classes.enumerated() {
            guard let c = Int(name), (0..<classes).contains(c) else { continue }
            for i in 0..<m { out?[i * classes + c] = probabilities[i, column] }
        }
    }
}

/// Resolves a classifier's widths as `nw predict --classify` does (given, a rule, or "cv": the
/// leave-one-out cross-entropy), writing the d widths and the score (NaN unless cv chose them).
@_cdecl("nw_classifier_fit")
public func nw_classifier_fit(_ kernel: UnsafePointer<CChar>?, _ form: UnsafePointer<CChar>?, _ policy: UnsafePointer<CChar>?,
                              _ method: UnsafePointer<CChar>?, _ widths: UnsafePointer<Double>?, _ n: Int, _ d: Int,
                              _ x: UnsafePointer<Double>?, _ labels: UnsafePointer<Int32>?, _ weights: UnsafePointer<Double>?,
                              _ threads: Int32, _ widthsOut: UnsafeMutablePointer<Double>?, _ scoreOut: UnsafeMutablePointer<Double>?,
                              _ message: UnsafeMutablePointer<CChar>?, _ capacity: Int) -> Int32 {
    bridged(message, capacity) {
        guard let labels else { throw BridgeError(description: "the classifier needs its labels") }
        let classifier = NadarayaWatsonClassifier(kernel: try option(kernel, "kernel"), form: try option(form, "form"),
                                                  bandwidth: try bandwidth(method, widths: widths, features: d),
                                                  emptyPolicy: try option(policy, "empty policy"), threads: threadCount(threads))
        let model = try classifier.fit(keys: try matrix(x, rows: n, columns: d), labels: (0..<n).map { String(labels[$0]) },
                                       sampleWeights: optionalArray(weights, count: n))
        for j in 0..<d { widthsOut?[j] = model.bandwidths[j] }
        scoreOut?.pointee = model.crossValidationScore ?? .nan
    }
}

/// Resolves a density's widths as `nw density` does (given, a rule, or "cv": the leave-one-out
/// likelihood), writing the d widths and the score (NaN unless cv chose them).
@_cdecl("nw_density_fit")
public func nw_density_fit(_ kernel: UnsafePointer<CChar>?, _ form: UnsafePointer<CChar>?, _ method: UnsafePointer<CChar>?,
                           _ widths: UnsafePointer<Double>?, _ n: Int, _ d: Int, _ x: UnsafePointer<Double>?,
                           _ weights: UnsafePointer<Double>?, _ threads: Int32, _ widthsOut: UnsafeMutablePointer<Double>?,
                           _ scoreOut: UnsafeMutablePointer<Double>?, _ message: UnsafeMutablePointer<CChar>?, _ capacity: Int) -> Int32 {
    bridged(message, capacity) {
        let density = try ParzenDensity(kernel: try option(kernel, "kernel"), form: try option(form, "form"),
                                        bandwidth: try bandwidth(method, widths: widths, features: d), threads: threadCount(threads))
            .fit(samples: try matrix(x, rows: n, columns: d), sampleWeights: optionalArray(weights, count: n))
        for j in 0..<d { widthsOut?[j] = density.bandwidths[j] }
        scoreOut?.pointee = density.crossValidationScore ?? .nan
    }
}

/// ln p̂(q) of the Parzen density `nw density` computes, for m points, into `out`.
@_cdecl("nw_density_log")
public func nw_density_log(_ kernel: UnsafePointer<CChar>?, _ form: UnsafePointer<CChar>?, _ widths: UnsafePointer<Double>?,
                           _ n: Int, _ d: Int, _ x: UnsafePointer<Double>?, _ weights: UnsafePointer<Double>?,
                           _ m: Int, _ q: UnsafePointer<Double>?, _ threads: Int32, _ out: UnsafeMutablePointer<Double>?,
                           _ message: UnsafeMutablePointer<CChar>?, _ capacity: Int) -> Int32 {
    bridged(message, capacity) {
        guard let widths else { throw BridgeError(description: "the density needs the fitted widths") }
        let density = try ParzenDensity(kernel: try option(kernel, "kernel"), form: try option(form, "form"),
                                        bandwidth: .widths(Array(UnsafeBufferPointer(start: widths, count: d))),
                                        threads: threadCount(threads))
            .fit(samples: try matrix(x, rows: n, columns: d), sampleWeights: optionalArray(weights, count: n))
        let values = try density.logDensity(try matrix(q, rows: m, columns: d))
        for i in 0..<m { out?[i] = values[i] }
    }
}

/// The library's version, for the Python package's `__version__` check.
@_cdecl("nw_abi_version")
public func nw_abi_version() -> Int32 { 2 }

/// The regression estimator `nw predict` picks for these options: Nadaraya–Watson for degree 0,
/// local polynomial otherwise.
struct Regression {
    let kernel: Kernel, form: KernelForm, degree: Int, policy: EmptyNeighbourhoodPolicy
    let bandwidth: Bandwidth, threads: Int?

    init(_ kernel: UnsafePointer<CChar>?, _ form: UnsafePointer<CChar>?, _ degree: Int32, _ policy: UnsafePointer<CChar>?,
         _ bandwidth: Bandwidth, _ threads: Int32) throws {
        self.kernel = try option(kernel, "kernel")
        self.form = try option(form, "form")
        self.degree = Int(degree)
        self.policy = try option(policy, "empty policy")
        self.bandwidth = bandwidth
        self.threads = threadCount(threads)
    }

    struct Fitted {
        let bandwidths: [Double]
        let score: Double?
        let predict: (Matrix) throws -> [Double]
    }

    func fit(_ keys: Matrix, _ targets: [Double], _ weights: [Double]?) throws -> Fitted {
        if degree == 0 {
            let model = try NadarayaWatsonRegressor(kernel: kernel, form: form, bandwidth: bandwidth, emptyPolicy: policy, threads: threads)
                .fit(keys: keys, values: Matrix(column: targets), sampleWeights: weights)
            return Fitted(bandwidths: model.bandwidths, score: model.crossValidationScore) { try model.predict($0).elements }
        }
        let model = try LocalPolynomialRegressor(kernel: kernel, form: form, bandwidth: bandwidth, degree: degree,
                                                 emptyPolicy: policy, threads: threads)
            .fit(keys: keys, targets: targets, sampleWeights: weights)
        return Fitted(bandwidths: model.bandwidths, score: model.crossValidationScore) { try model.predict($0) }
    }
}
