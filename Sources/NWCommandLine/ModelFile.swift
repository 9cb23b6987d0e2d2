// FoundationEssentials where it exists (Swift 6 on Linux): JSON without ICU's 40 MB of data.
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import NadarayaWatson

/// The JSON file of a trained parametric model: the kernel (gaussian or dot), the learned scales,
/// the training data (its keys) and how it was trained. Keys sorted, numbers in round-trip form, so the same model
/// always writes the same bytes.
struct ModelFile: Codable, Equatable {
    var format = "nw-parametric-attention-pooling"
    var version = 1
    /// "gaussian" (w per feature) or "dot" (one w, the temperature w²).
    var kernel = "gaussian"
    var features: [String]
    var target: String
    /// The learned scale of each feature (gaussian) or the one scale (dot); the model's widths
    /// are 1/|w|.
    var w: [Double]
    /// One width per feature (dot: the same for every feature).
    var bandwidths: [Double]
    /// Training rows: one array of feature values per row, and the target values.
    var keys: [[Double]]
    var values: [Double]
    /// The rows' frequency weights, when trained with `--sample-weight` (absent otherwise).
    var weights: [Double]? = nil
    var training: Training

    struct Training: Codable, Equatable {
        var optimizer: String
        var learningRate: Double
        var initialW: Double
        var epochs: Int
        var includeSelf: Bool
        var loss: [Double]

        enum CodingKeys: String, CodingKey {
            case optimizer, epochs, loss
            case learningRate = "learning_rate", initialW = "initial_w", includeSelf = "include_self"
        }
    }

    var model: TrainedAttentionModel {
        TrainedAttentionModel(kernel: Kernel(rawValue: kernel) ?? .gaussian, scales: w, keys: Matrix(keys),
                              targets: values, sampleWeights: weights)
    }

    func encoded() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return Array(try encoder.encode(self)) + [UInt8(ascii: "\n")]
    }

    /// Reads and checks a model file.
    ///
    /// - Throws: ``CommandLineError`` naming the file (and the line, for a JSON syntax error).
    static func read(_ path: String) throws -> ModelFile {
        let bytes = try FileIO.read(path)
        let model: ModelFile
        do {
            model = try JSONDecoder().decode(ModelFile.self, from: Data(bytes))
        } catch let DecodingError.dataCorrupted(context) {
            let detail = (context.underlyingError.map { "\($0)" } ?? context.debugDescription)
            throw CommandLineError.file(path, "is not valid JSON: \(detail)")
        } catch let DecodingError.keyNotFound(key, _) {
            throw CommandLineError.file(path, "is not an nw model: it has no \"\(key.stringValue)\"")
        } catch {
            throw CommandLineError.file(path, "is not an nw model: \(error)")
        }
        guard model.format == "nw-parametric-attention-pooling", model.version == 1 else {
            throw CommandLineError.file(path, "is not an nw model of a version this tool reads (format \(model.format), version \(model.version))")
        }
        guard model.kernel == Kernel.gaussian.rawValue || model.kernel == Kernel.dot.rawValue else {
            throw CommandLineError.file(path, "has kernel \"\(model.kernel)\": it should be gaussian or dot")
        }
        let d = model.features.count, scales = model.kernel == Kernel.dot.rawValue ? 1 : d
        guard d > 0, model.w.count == scales, !model.keys.isEmpty, model.keys.count == model.values.count,
              model.keys.allSatisfy({ $0.count == d }) else {
            throw CommandLineError.file(path, "is an inconsistent nw model: \(d) features, \(model.w.count) scales, \(model.keys.count) keys, \(model.values.count) values")
        }
        if let weights = model.weights, weights.count != model.keys.count || !weights.allSatisfy({ $0.isFinite && $0 > 0 }) {
            throw CommandLineError.file(path, "is an inconsistent nw model: its weights should be \(model.keys.count) positive numbers")
        }
        for (k, value) in model.w.enumerated() where !(value.isFinite && value != 0) {
            let owner = scales == d ? "feature '\(model.features[k])'" : "the dot kernel"
            throw CommandLineError.file(path, "has w = \(value) for \(owner): it should be a finite nonzero number")
        }
        return model
    }
}
