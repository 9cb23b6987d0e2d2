import Foundation
import Testing
import NadarayaWatson
import NWCommands

/// The fuzzing harness (scripts/fuzz.sh runs it under libFuzzer for 10⁶ inputs) over the kept
/// corpus and a short seeded mutation loop, so every suite run checks its properties: one-line
/// errors naming the file or option, numbers equal to Double(String), no crash.
@Suite("Fuzzing corpus")
struct FuzzCorpusTests {
    static let corpus: URL = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.appendingPathComponent("Fuzz/corpus")
    }()

    @Test("the corpus and 150 seeded mutations of it pass the harness")
    func corpusAndMutations() throws {
        let files = try FileManager.default.contentsOfDirectory(at: Self.corpus, includingPropertiesForKeys: nil)
        let inputs = try files.map { Array(try Data(contentsOf: $0)) }
        #expect(inputs.count >= 10)
        for input in inputs { FuzzHarness.run(input) }
        var random = SplitMix64(seed: 12)
        let interesting: [UInt8] = Array(",;\t\"\n\r NA.e-+0123456789\u{FF}".utf8)
        for _ in 0..<150 {
            var input = inputs[Int(random.next() % UInt64(inputs.count))]
            for _ in 0..<(1 + Int(random.next() % 4)) {
                let position = 2 + Int(random.next() % UInt64(max(1, input.count - 1)))
                let byte = random.next() % 2 == 0 ? interesting[Int(random.next() % UInt64(interesting.count))] : UInt8(truncatingIfNeeded: random.next())
                switch random.next() % 3 {
                case 0 where position < input.count: input[position] = byte
                case 1 where position < input.count: input.remove(at: position)
                default: input.insert(byte, at: min(position, input.count))
                }
            }
            FuzzHarness.run(input)
        }
    }
}
