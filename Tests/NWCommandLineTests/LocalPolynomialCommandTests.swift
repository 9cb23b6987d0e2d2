import Foundation
import Testing
@testable import NadarayaWatson

/// `nw predict --degree/--derivatives/--sample-weight/--features` and their use in `nw bandwidth`,
/// `nw density`, `nw train` and `nw plot`, through the real binary, against the library.
@Suite("Local polynomials, sample weights and feature selection through the CLI")
struct LocalPolynomialCommandTests {
    static let mcycle = NW.fixture("mcycle.csv")

    static func column(_ csv: String, _ name: String) -> [Double] {
        let rows = csvRows(csv)
        let index = rows[0].firstIndex(of: name)!
        return rows.dropFirst().map { Double($0[index])! }
    }

    @Test("--degree 1 --derivatives equals the library, with d_<feature> after prediction", arguments: [1, 2])
    func degreeAndDerivatives(_ degree: Int) throws {
        let r = try NW.run(["predict", "--train", Self.mcycle, "--query", Self.mcycle, "--kernel", "gaussian", "--bandwidth", "1.5",
                            "--degree", String(degree), "--derivatives"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(csvRows(r.stdout)[0] == ["times", "accel", "prediction", "d_times"])
        let text = try String(contentsOfFile: Self.mcycle, encoding: .utf8)
        let x = Self.column(text, "times"), y = Self.column(text, "accel")
        let (f, slopes) = try LocalPolynomialRegressor(bandwidth: .width(1.5), degree: degree).fit(keys: Matrix(column: x), targets: y)
            .predictWithDerivatives(Matrix(column: x))
        #expect(Self.column(r.stdout, "prediction") == f)
        #expect(Self.column(r.stdout, "d_times") == slopes.column(0))
    }

    @Test("--se and --interval: σ̂·‖l(q)‖ and f̂ ∓ z·se, after prediction and the d_* columns", arguments: [0, 1])
    func standardErrors(_ degree: Int) throws {
        let r = try NW.run(["predict", "--train", Self.mcycle, "--query", Self.mcycle, "--kernel", "gaussian", "--bandwidth", "2",
                            "--degree", String(degree), "--derivatives", "--se", "--interval", "0.9"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(csvRows(r.stdout)[0] == ["times", "accel", "prediction", "d_times", "se", "lower", "upper"])
        #expect(r.stderr.hasPrefix("nw: note: noise: σ̂ = ") && r.stderrLines.count == 1, "\(r.stderr)")
        let text = try String(contentsOfFile: Self.mcycle, encoding: .utf8)
        let x = Matrix(column: Self.column(text, "times"))
        let model = try LocalPolynomialRegressor(bandwidth: .width(2), degree: degree).fit(keys: x, targets: Self.column(text, "accel"))
        let se = try model.standardErrors(x)
        #expect(Self.column(r.stdout, "se") == se)
        let f = Self.column(r.stdout, "prediction"), z = StandardNormal.quantile(0.95)
        #expect(Self.column(r.stdout, "lower") == zip(f, se).map { $0 - z * $1 })
        #expect(Self.column(r.stdout, "upper") == zip(f, se).map { $0 + z * $1 })
    }

    @Test("--bootstrap: the library's band and sd, the same bytes on 1 and 2 threads, another seed other draws",
          arguments: ["pointwise", "simultaneous"])
    func bootstrap(_ band: String) throws {
        let arguments = ["predict", "--train", Self.mcycle, "--query", Self.mcycle, "--kernel", "gaussian", "--bandwidth", "2",
                         "--degree", "1", "--se", "--interval", "0.9", "--bootstrap", "199", "--seed", "3", "--band", band,
                         "--bootstrap-weights", "mammen"]
        let one = try NW.run(arguments + ["--threads", "1"]), two = try NW.run(arguments + ["--threads", "2"])
        #expect(one.status == 0, "\(one.stderr)")
        #expect(one.stdout == two.stdout)
        #expect(csvRows(one.stdout)[0] == ["times", "accel", "prediction", "se", "lower", "upper"])
        #expect(one.stderrLines.count == (band == "simultaneous" ? 2 : 1), "\(one.stderr)")
        if band == "simultaneous" { #expect(one.stderr.contains("critical value c = ")) }
        let text = try String(contentsOfFile: Self.mcycle, encoding: .utf8)
        let x = Matrix(column: Self.column(text, "times"))
        let model = try LocalPolynomialRegressor(bandwidth: .width(2), degree: 1).fit(keys: x, targets: Self.column(text, "accel"))
        let expected = try model.bootstrapBand(x, level: 0.9, bootstrap: WildBootstrap(resamples: 199, multipliers: .mammen, seed: 3),
                                               band: BandKind(rawValue: band)!)
        #expect(Self.column(one.stdout, "se") == expected.standardErrors)
        #expect(Self.column(one.stdout, "lower") == expected.lower)
        #expect(Self.column(one.stdout, "upper") == expected.upper)
        let other = try NW.run(arguments.map { $0 == "3" ? "4" : $0 })
        #expect(other.status == 0 && other.stdout != one.stdout)
    }

    @Test("--summary: n, widths, degree, σ̂, ν, R² and the CV score on stderr; stdout unchanged")
    func summary() throws {
        let plain = try NW.run(["predict", "--train", Self.mcycle, "--query", Self.mcycle, "--kernel", "gaussian", "--bandwidth", "2", "--degree", "1"])
        let r = try NW.run(["predict", "--train", Self.mcycle, "--query", Self.mcycle, "--kernel", "gaussian", "--bandwidth", "2",
                            "--degree", "1", "--summary"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout == plain.stdout)
        let text = try String(contentsOfFile: Self.mcycle, encoding: .utf8)
        let x = Matrix(column: Self.column(text, "times")), y = Self.column(text, "accel")
        let model = try LocalPolynomialRegressor(bandwidth: .width(2), degree: 1).fit(keys: x, targets: y)
        let noise = try model.noise()
        let cv = try CrossValidation(degree: 1).score(keys: x, targets: y, bandwidths: [2])
        let mean = y.reduce(0, +) / Double(y.count), tss = y.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
        #expect(r.stderr.contains("n = 133.0"))
        #expect(r.stderr.contains("degree 1, gaussian radial kernel"))
        #expect(r.stderr.contains("widths: times 2.0"))
        #expect(r.stderr.contains("σ̂ = \(noise.sigma)"))
        #expect(r.stderr.contains("ν = \(noise.nu) effective parameters"))
        #expect(r.stderr.contains("R² = \(1 - noise.residualSumOfSquares / tss)"))
        #expect(r.stderr.contains("leave-one-out CV = \(cv)"))
    }

    @Test("--features picks and orders the features; other columns may hold text")
    func features() throws {
        let scratch = try Scratch()
        try scratch.write("train.csv", "id,b,a,note,y\n1,0.5,1.0,first,3\n2,1.5,0.2,second,1\n3,2.5,2.0,third,4\n4,3.0,1.1,fourth,2\n")
        try scratch.write("query.csv", "a,b\n1.0,1.0\n0.5,2.0\n")
        let r = try NW.run(["predict", "--train", "train.csv", "--query", "query.csv", "--kernel", "gaussian", "--bandwidth", "0.7,2",
                            "--features", "b,a", "--derivatives"], in: scratch.url)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(csvRows(r.stdout)[0] == ["a", "b", "prediction", "d_b", "d_a"])
        let f = try NadarayaWatsonRegressor(bandwidth: .widths([0.7, 2]))
            .fit(keys: Matrix([[0.5, 1.0], [1.5, 0.2], [2.5, 2.0], [3.0, 1.1]]), values: Matrix(column: [3, 1, 4, 2]))
            .predict(Matrix([[1.0, 1.0], [2.0, 0.5]]))
        #expect(Self.column(r.stdout, "prediction") == f.elements)
        let h = try NW.run(["bandwidth", "--train", "train.csv", "--features", "b,a", "--method", "scott"], in: scratch.url)
        let reversed = try NW.run(["bandwidth", "--train", "train.csv", "--features", "a,b", "--method", "scott"], in: scratch.url)
        #expect(h.stdout.trimmingCharacters(in: .newlines).split(separator: ",").reversed().joined(separator: ",")
                == reversed.stdout.trimmingCharacters(in: .newlines))
    }

    @Test("--sample-weight with integer weights equals the file with rows repeated")
    func sampleWeights() throws {
        let scratch = try Scratch()
        try scratch.write("weighted.csv", "x,w,y\n0.1,2,1\n0.5,0,3\n0.9,1,2\n1.4,3,5\n2.0,1,4\n2.2,2,4.5\n3.1,1,7\n")
        try scratch.write("repeated.csv", "x,y\n0.1,1\n0.1,1\n0.9,2\n1.4,5\n1.4,5\n1.4,5\n2.0,4\n2.2,4.5\n2.2,4.5\n3.1,7\n")
        try scratch.write("query.csv", "x\n0.3\n1.0\n1.9\n2.8\n")
        for extra in [["--degree", "0"], ["--degree", "1", "--derivatives"], ["--kernel", "epanechnikov", "--empty", "mean"]] {
            for bandwidth in ["0.8", "scott", "silverman"] {
                var common = ["predict", "--query", "query.csv", "--kernel", "gaussian", "--bandwidth", bandwidth]
                common += extra
                let a = try NW.run(common + ["--train", "weighted.csv", "--sample-weight", "w"], in: scratch.url)
                let b = try NW.run(common + ["--train", "repeated.csv"], in: scratch.url)
                #expect(a.status == 0 && b.status == 0, "\(a.stderr)\(b.stderr)")
                for (u, v) in zip(Self.column(a.stdout, "prediction"), Self.column(b.stdout, "prediction")) {
                    #expect(abs(u - v) <= 1e-12 * max(1, abs(v)), "\(extra) \(bandwidth): \(u) vs \(v)")
                }
            }
        }
        for method in ["scott", "silverman"] {
            let a = try NW.run(["bandwidth", "--train", "weighted.csv", "--sample-weight", "w", "--method", method], in: scratch.url)
            let b = try NW.run(["bandwidth", "--train", "repeated.csv", "--method", method], in: scratch.url)
            #expect(abs(Double(a.stdout.trimmingCharacters(in: .newlines))! - Double(b.stdout.trimmingCharacters(in: .newlines))!)
                    <= 1e-14, "\(method)")
        }
        try scratch.write("points.csv", "x\n0.3\n1.7\n")
        let a = try NW.run(["density", "--train", "weighted.csv", "--features", "x", "--sample-weight", "w", "--query", "points.csv",
                            "--kernel", "gaussian", "--bandwidth", "0.5"], in: scratch.url)
        try scratch.write("repeatedx.csv", "x\n0.1\n0.1\n0.9\n1.4\n1.4\n1.4\n2.0\n2.2\n2.2\n3.1\n")
        let b = try NW.run(["density", "--train", "repeatedx.csv", "--query", "points.csv", "--kernel", "gaussian", "--bandwidth", "0.5"],
                           in: scratch.url)
        #expect(a.status == 0, "\(a.stderr)")
        for (u, v) in zip(Self.column(a.stdout, "density"), Self.column(b.stdout, "density")) { #expect(abs(u - v) <= 1e-14) }
        // Training with weights writes them into the model, and predicting with it uses them.
        let t = try NW.run(["train", "--train", "weighted.csv", "--sample-weight", "w", "--epochs", "3", "--model", "m.json"], in: scratch.url)
        #expect(t.status == 0, "\(t.stderr)")
        #expect(scratch.read("m.json")?.contains("\"weights\"") == true)
        let p = try NW.run(["predict", "--model", "m.json", "--query", "query.csv"], in: scratch.url)
        #expect(p.status == 0, "\(p.stderr)")
    }

    @Test("nw bandwidth --method cv --degree 1 and nw plot --degree 1")
    func crossValidationAndPlot() throws {
        let r = try NW.run(["bandwidth", "--train", Self.mcycle, "--method", "cv", "--degree", "1"])
        #expect(r.status == 0, "\(r.stderr)")
        let text = try String(contentsOfFile: Self.mcycle, encoding: .utf8)
        let selected = try CrossValidation(degree: 1).select(keys: Matrix(column: Self.column(text, "times")),
                                                             targets: Self.column(text, "accel"))
        #expect(Double(r.stdout.trimmingCharacters(in: .newlines)) == selected.bandwidths[0])
        let scratch = try Scratch()
        let plot = try NW.run(["plot", "--train", Self.mcycle, "--query", Self.mcycle, "--kernel", "gaussian", "--bandwidth", "2",
                               "--degree", "1", "--heatmap", "--output", scratch.path("p.svg")])
        #expect(plot.status == 0, "\(plot.stderr)")
        #expect(scratch.read("p.svg")?.contains("degree 1") == true)
    }
}
