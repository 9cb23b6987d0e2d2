import Foundation
import Testing

@Suite("DensityCommand")
struct DensityCommandTests {
    @Test("nw density: the normalised Gaussian sum, QUERY's columns copied through")
    func gaussian() throws {
        let scratch = try Scratch()
        let train = try scratch.write("s.csv", "x\n0\n1\n1.5\n")
        let query = try scratch.write("q.csv", "label,x\na,0\nb,0.5\nc,10\n")
        let result = try NW.run(["density", "--train", train, "--query", query, "--kernel", "gaussian", "--bandwidth", "0.5"])
        #expect(result.status == 0, "\(result.stderr)")
        let rows = csvRows(result.stdout)
        #expect(rows[0] == ["label", "x", "density"])
        #expect(rows.dropFirst().map { $0[0] } == ["a", "b", "c"])
        func expected(_ x: Double) -> Double {
            [0.0, 1, 1.5].map { exp(-0.5 * pow((x - $0) / 0.5, 2)) / sqrt(2 * Double.pi) / 0.5 }.reduce(0, +) / 3
        }
        for (row, x) in zip(rows.dropFirst(), [0.0, 0.5, 10]) {
            let value = try #require(Double(row[2]))
            // exp of a rounded exponent: a relative error of about |ln p̂|·ε (1.6e-14 at x = 10) in any implementation.
            #expect(abs(value - expected(x)) <= 1e-13 * expected(x), "x = \(x): \(value) vs \(expected(x))")
        }
    }

    @Test("nw density: 2-D product epanechnikov with per-column widths, written atomically")
    func twoD() throws {
        let scratch = try Scratch()
        let train = try scratch.write("s.csv", "a,b\n0,0\n1,1\n")
        let query = try scratch.write("q.csv", "b,a\n0.5,0.25\n")
        let result = try NW.run(["density", "--train", train, "--query", query, "--kernel", "epanechnikov", "--form", "product",
                                 "--bandwidth", "1,2", "--output", scratch.path("out.csv")])
        #expect(result.status == 0 && result.stdout.isEmpty, "\(result.stderr)")
        let rows = csvRows(try #require(scratch.read("out.csv")))
        // (1/2)·(1/(1·2))·Σᵢ (3/4)(1 − uᵢₐ²)·(3/4)(1 − uᵢᵦ²).
        let k = { (u: Double) in 0.75 * (1 - u * u) }
        let expected = 0.5 / 2 * (k(0.25) * k(0.25) + k(-0.75) * k(-0.25))
        #expect(abs(try #require(Double(rows[1][2])) - expected) < 1e-15)
    }

    @Test("nw density errors: one line, non-zero exit, no output", arguments: [
        (["--kernel", "constant", "--bandwidth", "1"], "nw: --kernel: the constant kernel (radial) has no density: it is 1 everywhere and does not integrate"),
        (["--kernel", "gaussian", "--bandwidth", "1,0"], "nw: --bandwidth: value 2 (continuous feature \"y\") should be a positive finite number, but is '0'"),
        (["--kernel", "gaussian", "--bandwidth", "1,2,3"], "nw: --bandwidth: has 3 values, but TRAIN has 2 features (x, y): give one, or one per feature"),
        (["--kernel", "cauchy", "--bandwidth", "1"], "nw: --kernel: the cauchy kernel (radial) has no density: its tail 1/r² is too heavy to integrate over ℝ^2; use --form product"),
    ])
    func errors(_ arguments: [String], _ message: String) throws {
        let scratch = try Scratch()
        let train = try scratch.write("TRAIN", "x,y\n0,0\n1,1\n")
        let query = try scratch.write("q.csv", "x,y\n0,0\n")
        let result = try NW.run(["density", "--train", "TRAIN", "--query", "q.csv", "--output", "out.csv"] + arguments, in: scratch.url)
        _ = (train, query)
        #expect(result.status != 0)
        #expect(result.stderrLines == [Substring(message)], "\(result.stderr)")
        #expect(!scratch.exists("out.csv"))
    }

    @Test("nw predict --adaptive: local widths change the fit; not with --model")
    func adaptive() throws {
        let train = NW.fixture("mcycle.csv")
        let fixed = try NW.run(["predict", "--train", train, "--query", train, "--kernel", "gaussian", "--bandwidth", "2"])
        let adaptive = try NW.run(["predict", "--train", train, "--query", train, "--kernel", "gaussian", "--bandwidth", "2", "--adaptive"])
        #expect(fixed.status == 0 && adaptive.status == 0, "\(adaptive.stderr)")
        #expect(fixed.stdout != adaptive.stdout)
        #expect(csvRows(adaptive.stdout).count == csvRows(fixed.stdout).count)
        let withModel = try NW.run(["predict", "--model", "m.json", "--query", train, "--adaptive"])
        #expect(withModel.stderrLines == ["nw: --adaptive: cannot be combined with --model (the model holds its training data, kernel and widths)"], "\(withModel.stderr)")
    }
}
