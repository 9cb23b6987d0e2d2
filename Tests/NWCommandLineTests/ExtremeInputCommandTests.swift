import Foundation
import NadarayaWatson
import Testing

/// Extreme but valid numbers through the real binary, one test per subcommand, and a seeded
/// mutation run over all of them: no signal, exit 0 with no `nan` where an answer exists, or
/// exactly one line on stderr.
@Suite("Extreme inputs through the CLI")
struct ExtremeInputCommandTests {
    /// The fault report's own reproduction: compact kernels, `--empty nearest`, a tiny width.
    @Test("predict: compact kernels with --empty nearest at subnormal and tiny widths",
          arguments: ["epanechnikov", "boxcar", "cosine", "tricube"])
    func predictNearest(_ kernel: String) throws {
        let scratch = try Scratch()
        let train = try scratch.write("r.csv", "x,y\n1,5\n2,6\n3,7\n")
        let query = try scratch.write("q.csv", "x\n10\n1.5\n")
        for width in ["1e-300", "5e-324"] {
            for extra in [[], ["--classify"], ["--precision", "single"]] {
                let r = try NW.run(["predict", "--train", train, "--query", query, "--kernel", kernel, "--bandwidth", width,
                                    "--empty", "nearest"] + extra)
                #expect(r.status == 0, "\(kernel) \(width) \(extra): \(r.stderr)")
                // 10 is nearest to 3 (value 7); 1.5 ties 1 and 2: the first, 1 (value 5).
                let rows = csvRows(r.stdout)
                #expect(rows.count == 3)
                #expect(rows.dropFirst().map { Double($0[1]) } == [7, 5], "\(kernel) \(width) \(extra): \(r.stdout)")
            }
        }
    }

    @Test("bandwidth: rules of thumb on ±1e308 and on subnormals give the data's scale")
    func bandwidthRules() throws {
        let scratch = try Scratch()
        let big = try scratch.write("big.csv", "x,y\n1e308,1\n-1e308,2\n3,3\n")
        let tiny = try scratch.write("tiny.csv", "x,y\n5e-324,1\n1e-323,2\n0,3\n")
        for method in ["scott", "silverman"] {
            let r = try NW.run(["bandwidth", "--train", big, "--method", method])
            #expect(r.status == 0, "\(method): \(r.stderr)")
            let h = Double(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? .nan
            #expect(h > 1e307 && h < 1e309, "\(method): \(r.stdout)")
            let s = try NW.run(["bandwidth", "--train", tiny, "--method", method])
            #expect(s.status == 0, "\(method): \(s.stderr)")
            #expect(Double(s.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) == 5e-324, "\(method): \(s.stdout)")
        }
        // A width that truly exceeds the largest Double is said to, in one line.
        let huge = try scratch.write("huge.csv", "x,y\n1.7e308,1\n-1.7e308,2\n")
        let r = try NW.run(["bandwidth", "--train", huge, "--method", "scott"])
        #expect(r.status != 0 && r.stderrLines.count == 1)
        #expect(r.stderr.contains("huge.csv:1:1:") && r.stderr.contains("exceeds the largest finite number") && !r.stderr.contains("constant"), "\(r.stderr)")
    }

    @Test("density: every kernel term overflowing in log space still gives the cauchy tail")
    func density() throws {
        let (r, _) = try NW.run(["density", "--train", "s.csv", "--query", "q.csv", "--kernel", "cauchy", "--bandwidth", "1e-300"],
                                files: ["s.csv": "x\n1e300\n-1e300\n0\n", "q.csv": "x\n1.7e308\n5e-324\n"])
        #expect(r.status == 0, "\(r.stderr)")
        let values = csvRows(r.stdout).dropFirst().map { Double($0[1]) ?? .nan }
        #expect(values.count == 2 && values.allSatisfy { $0.isFinite && $0 >= 0 }, "\(r.stdout)")
        #expect(!r.stdout.contains("nan"))
    }

    @Test("train: keys at ±1e308 train to a finite loss, and the log has no nan")
    func train() throws {
        let scratch = try Scratch()
        let train = try scratch.write("t.csv", "x,y\n1e308,1\n-1e308,2\n3,3\n5,4\n")
        let r = try NW.run(["train", "--train", train, "--epochs", "3", "--loss-log", scratch.path("log.csv"),
                            "--model", scratch.path("model.json")])
        #expect(r.status == 0, "\(r.stderr)")
        let log = scratch.read("log.csv") ?? ""
        #expect(csvRows(log).count == 4 && !log.contains("nan"), "\(log)")
        // The leave-one-out loss of the far limit: ½(2.5² + 1.5² + 1 + 1).
        #expect(csvRows(log).dropFirst().allSatisfy { Double($0[1]) == 5.25 }, "\(log)")
    }

    @Test("plot: axes spanning ±1.7e308 have finite coordinates and short labels")
    func plot() throws {
        let scratch = try Scratch()
        let train = try scratch.write("t.csv", "x,y\n1e308,1\n-1e308,2\n3,3\n5e-324,4\n")
        let query = try scratch.write("q.csv", "x\n1e308\n-1.7e308\n0\n5e-324\n")
        for extra in [[], ["--heatmap"]] {
            let r = try NW.run(["plot", "--train", train, "--query", query, "--kernel", "gaussian", "--bandwidth", "1",
                                "--output", scratch.path("p.svg")] + extra)
            #expect(r.status == 0, "\(extra): \(r.stderr)")
            let svg = scratch.read("p.svg") ?? ""
            #expect(!svg.isEmpty && !svg.contains("NaN") && !svg.contains("Infinity"), "\(extra)")
            if extra.isEmpty { #expect(svg.contains(">-1.5e308<") && svg.contains(">1e308<")) }
        }
    }

    /// Extreme values in random files and options: for the harness of the real-data issue,
    /// seeded; `NW_FUZZ_COUNT` runs more (the suite's default is small enough for CI).
    @Test("a seeded mutation run over every subcommand never crashes and errs in one line")
    func mutationRun() throws {
        let count = ProcessInfo.processInfo.environment["NW_FUZZ_COUNT"].flatMap(Int.init) ?? 120
        var rng = SplitMix64(seed: 17)
        let numbers = ["0", "-0", "5e-324", "-5e-324", "1e-300", "-1e-300", "1e300", "-1e300", "1.7e308", "-1.7e308",
                       "1", "2.5", "-3", "1e150", "1.7976931348623157e308", "2.2250738585072014e-308"]
        let junk = ["", "nan", "inf", "abc", "\"1\"", "1e309", "--", " 4 "]
        let widths = ["5e-324", "1e-300", "1e-150", "1", "1e150", "1e300", "1.7e308", "scott", "silverman", "0", "1e400"]
        let kernels = ["gaussian", "boxcar", "constant", "epanechnikov", "triangular", "biweight", "triweight", "tricube",
                       "cosine", "logistic", "cauchy", "laplacian"]
        let scratch = try Scratch()
        for run in 0..<count {
            func cell() -> String {
                rng.below(20) == 0 ? junk[rng.below(junk.count)] : numbers[rng.below(numbers.count)]
            }
            let rows = 1 + rng.below(6), d = 1 + rng.below(2)
            let header = (0..<d).map { "x\($0)" } + ["y"]
            let train = ([header.joined(separator: ",")] + (0..<rows).map { _ in (0...d).map { _ in cell() }.joined(separator: ",") })
                .joined(separator: "\n") + "\n"
            let query = ([header.dropLast().joined(separator: ",")] + (0..<3).map { _ in (0..<d).map { _ in cell() }.joined(separator: ",") })
                .joined(separator: "\n") + "\n"
            try scratch.write("train.csv", train)
            try scratch.write("query.csv", query)
            let kernel = kernels[rng.below(kernels.count)], width = widths[rng.below(widths.count)]
            let common = ["--kernel", kernel]
            let arguments: [String]
            switch rng.below(5) {
            case 0, 1:
                let empty = ["nan", "nearest", "mean", "error"][rng.below(4)]
                arguments = ["predict", "--train", "train.csv", "--query", "query.csv", "--bandwidth", width, "--empty", empty,
                             "--form", rng.below(2) == 0 ? "radial" : "product"] + common
                    + (rng.below(3) == 0 ? ["--classify"] : []) + (rng.below(3) == 0 ? ["--precision", "single"] : [])
            case 2:
                arguments = ["bandwidth", "--train", "train.csv", "--method", ["scott", "silverman", "cv"][rng.below(3)]] + common
            case 3:
                try scratch.write("samples.csv", train)
                try scratch.write("points.csv", header.joined(separator: ",") + "\n" + (0...d).map { _ in cell() }.joined(separator: ",") + "\n")
                arguments = ["density", "--train", "samples.csv", "--query", "points.csv", "--bandwidth", width] + common
            default:
                arguments = ["train", "--train", "train.csv", "--epochs", "2", "--init-w", ["1", "1e-300", "1e300"][rng.below(3)]]
            }
            let r = try NW.run(arguments, in: scratch.url)
            let context = "run \(run): nw \(arguments.joined(separator: " "))\n\(train)\(query)"
            if r.status != 0 {
                #expect(r.stderrLines.count == 1 && r.stderr.hasPrefix("nw: "), "\(context)\n\(r.stderr)")
                // No computed quantity printed as nan or inf (quoted input text may say so).
                let unquoted = r.stderr.split(separator: "\"", omittingEmptySubsequences: false).enumerated()
                    .filter { $0.offset % 2 == 0 }.map(\.element).joined()
                let words = unquoted.split { !$0.isLetter }.map { $0.lowercased() }
                #expect(!words.contains("nan") && !words.contains("inf"), "\(context)\n\(r.stderr)")
            }
        }
    }
}

extension SplitMix64 {
    /// A whole number in 0..<n (n small: the modulo bias is negligible for a test).
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
}
