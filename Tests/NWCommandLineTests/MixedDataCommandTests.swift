import Foundation
import Testing
import NadarayaWatson

/// Real data as it comes, through the real binary: categorical and ordered features, missing
/// cells, delimiters, and cross-validation for every estimator.
@Suite("Mixed data and messy files")
struct MixedDataCommandTests {
    static let iris = NW.fixture("iris.csv")

    /// The iris rows with Species as a code, for the library.
    static func irisData() throws -> (keys: Matrix, y: [Double], csv: String) {
        let text = try String(contentsOfFile: iris, encoding: .utf8)
        var rows: [[Double]] = [], y: [Double] = []
        let species = ["setosa": 0.0, "versicolor": 1, "virginica": 2]
        for line in text.split(separator: "\n").dropFirst() {
            let f = line.split(separator: ",").map(String.init)
            rows.append([Double(f[0])!, Double(f[1])!, Double(f[2])!, species[f[4]]!])
            y.append(Double(f[3])!)
        }
        return (Matrix(rows), y, text)
    }

    static func column(_ csv: String, _ name: String) -> [String] {
        let lines = csv.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        let index = lines[0].firstIndex(of: name)!
        return lines.dropFirst().map { $0[index] }
    }

    @Test("iris: Petal.Width on the measurements and the text column Species, as the library computes it")
    func irisCategorical() throws {
        let scratch = try Scratch()
        let out = scratch.path("out.csv")
        let bandwidths = [0.5, 0.4, 0.6, 0.1]
        for degree in [0, 1] {
            let result = try NW.run(["predict", "--train", Self.iris, "--query", Self.iris, "--target", "Petal.Width",
                                     "--categorical", "Species", "--kernel", "gaussian", "--degree", "\(degree)",
                                     "--bandwidth", bandwidths.map { "\($0)" }.joined(separator: ","), "--output", out])
            #expect(result.status == 0, "\(result.stderr)")
            let (keys, y, _) = try Self.irisData()
            var estimator = LocalPolynomialRegressor(bandwidth: .widths(bandwidths), degree: degree)
            estimator.featureKinds = [.continuous, .continuous, .continuous, .categorical]
            let expected = try estimator.fit(keys: keys, targets: y).predict(keys)
            let written = Self.column(try #require(scratch.read("out.csv")), "prediction").map { Double($0)! }
            #expect(written == expected)
        }
    }

    @Test("--missing drop equals the file without those rows; missing QUERY features give nan")
    func missingDrop() throws {
        let scratch = try Scratch()
        let full = "x,g,y\n0.1,a,1\n0.5,b,2\n0.9,a,1.5\n1.4,b,3\n2.0,a,2.5\n2.2,b,4\n"
        let messy = "x,g,y\n0.1,a,1\n0.5,b,2\nNA,a,9\n0.9,a,1.5\n1.4,,7\n1.4,b,3\n2.0,a,2.5\n3.0,b,NaN\n2.2,b,4\n"
        let query = "id,x,g\nq1,0.7,a\nq2,nan,b\nq3,1.9,b\nq4,1.0,NA\n"
        let common = ["--query", try scratch.write("q.csv", query), "--kernel", "gaussian", "--bandwidth", "0.6,0.3",
                      "--categorical", "g", "--missing", "drop"]
        let clean = try NW.run(["predict", "--train", try scratch.write("full.csv", full)] + common)
        let dropped = try NW.run(["predict", "--train", try scratch.write("messy.csv", messy)] + common)
        #expect(clean.status == 0 && dropped.status == 0, "\(dropped.stderr)")
        #expect(clean.stdout == dropped.stdout)
        #expect(dropped.stderr.contains("nw: note:") && dropped.stderr.contains("left out 3 rows"))
        let predictions = Self.column(dropped.stdout, "prediction")
        #expect(predictions[1] == "nan" && predictions[3] == "nan" && Double(predictions[0]) != nil && Double(predictions[2]) != nil)
        // The default stops at the first missing cell with its file, line and column.
        let strict = try NW.run(["predict", "--train", scratch.path("messy.csv"), "--query", scratch.path("q.csv"),
                                 "--kernel", "gaussian", "--bandwidth", "0.6,0.3", "--categorical", "g"])
        #expect(strict.status == 65 && strict.stderrLines.count == 1)
        #expect(strict.stderr.contains("messy.csv:4:1: column 'x' is missing (\"NA\")"), "\(strict.stderr)")
    }

    @Test("tab, semicolon and BOM files give the CSV's bytes")
    func delimiters() throws {
        let scratch = try Scratch()
        let csv = "x,g,y\n0.1,a,1\n0.5,b,2\n0.9,a,1.5\n1.4,b,3\n"
        let query = try scratch.write("q.csv", "x,g\n0.7,a\n1.2,b\n")
        let arguments = ["--kernel", "gaussian", "--bandwidth", "0.6,0.3", "--categorical", "g"]
        let reference = try NW.run(["predict", "--train", try scratch.write("t.csv", csv), "--query", query] + arguments)
        let tsv = try NW.run(["predict", "--train", try scratch.write("t.tsv", csv.replacingOccurrences(of: ",", with: "\t")),
                              "--query", query] + arguments)
        let semicolon = try NW.run(["predict", "--train", try scratch.write("t.txt", csv.replacingOccurrences(of: ",", with: ";")),
                                    "--query", try scratch.write("q.txt", "x;g\n0.7;a\n1.2;b\n"), "--delimiter", ";"] + arguments)
        let bom = try NW.run(["predict", "--train", try scratch.write("bom.csv", "\u{FEFF}" + csv), "--query", query] + arguments)
        #expect(reference.status == 0 && !reference.stdout.isEmpty)
        #expect(tsv.stdout == reference.stdout && bom.stdout == reference.stdout)
        #expect(semicolon.stdout == reference.stdout, "\(semicolon.stderr)")
    }

    @Test("λ = 0 on the command line: only the query's own category counts; a width of 0 is still an error")
    func zeroLambda() throws {
        let scratch = try Scratch()
        let train = try scratch.write("t.csv", "x,g,y\n0.1,a,1\n0.5,b,20\n0.9,a,3\n")
        let query = try scratch.write("q.csv", "x,g\n0.5,a\n")
        let result = try NW.run(["predict", "--train", train, "--query", query, "--kernel", "boxcar", "--bandwidth", "1,0",
                                 "--categorical", "g"])
        #expect(result.status == 0 && result.stdout == "x,g,prediction\n0.5,a,2.0\n", "\(result.stdout) \(result.stderr)")
        let width = try NW.run(["predict", "--train", train, "--query", query, "--kernel", "boxcar", "--bandwidth", "0,0.2",
                                "--categorical", "g"])
        #expect(width.status == 64 && width.stderr.contains("--bandwidth: value 1 (continuous feature \"x\")"), "\(width.stderr)")
    }

    @Test("plot along a continuous feature with a categorical one; --heatmap is an option error there")
    func plot() throws {
        let scratch = try Scratch()
        let arguments = ["plot", "--train", Self.iris, "--query", Self.iris, "--target", "Petal.Width", "--categorical", "Species",
                         "--feature", "Petal.Length", "--kernel", "gaussian", "--bandwidth", "0.5,0.4,0.6,0.1"]
        let drawn = try NW.run(arguments + ["--output", scratch.path("fit.svg")])
        #expect(drawn.status == 0 && (scratch.read("fit.svg") ?? "").contains("<svg"), "\(drawn.stderr)")
        let heatmap = try NW.run(arguments + ["--heatmap", "--output", scratch.path("map.svg")])
        #expect(heatmap.status == 64 && heatmap.stderrLines == ["nw: --heatmap: cannot be combined with --categorical or --ordered yet"])
        #expect(!FileManager.default.fileExists(atPath: scratch.path("map.svg")))
    }

    @Test("bad mixed input: one line naming the file, line and column; no output", arguments: [
        (["--categorical", "nope"], "t.csv:1: no column named \"nope\" for --categorical"),
        (["--categorical", "y"], "--categorical: names \"y\", which is not a feature"),
        (["--ordered", "g"], "t.csv:2:2: column 'g' should be a number, but is \"a\""),
        (["--categorical", "g", "--bandwidth", "0.5"], "one value per feature"),
        (["--categorical", "g", "--bandwidth", "0.5,0.9"], "λ of feature 2 (categorical, 2 categories) should be in [0, 0.5], but is 0.9"),
        (["--categorical", "g", "--bandwidth", "scott"], "scott and silverman give widths for continuous features only"),
        (["--categorical", "g", "--delimiter", "ab", "--bandwidth", "1,0.2"], "--delimiter"),
        (["--categorical", "g,g", "--bandwidth", "1,0.2"], "already categorical"),
    ] as [([String], String)])
    func errors(_ extra: [String], _ message: String) throws {
        let scratch = try Scratch()
        let train = try scratch.write("t.csv", "x,g,y\n0.1,a,1\n0.5,b,2\n0.9,a,1.5\n")
        let query = try scratch.write("q.csv", "x,g\n0.7,a\n")
        var arguments = ["predict", "--train", train, "--query", query, "--kernel", "gaussian", "--output", scratch.path("out.csv")] + extra
        if !extra.contains("--bandwidth") { arguments += ["--bandwidth", "1,0.2"] }
        let result = try NW.run(arguments)
        #expect(result.status != 0 && result.stderrLines.count == 1, "\(extra): \(result.stderr)")
        #expect(result.stderr.contains(message), "\(extra): \(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: scratch.path("out.csv")))
    }

    @Test("cv for classification (cross-entropy) and densities (likelihood) selects the library's widths")
    func crossValidationEverywhere() throws {
        let scratch = try Scratch()
        let (keys, y, _) = try Self.irisData()
        // Sepal.Length and Species, the label a width class.
        var csv = "Sepal.Length,Species,size\n"
        var labels: [String] = []
        let names = ["setosa", "versicolor", "virginica"]
        for i in stride(from: 0, to: keys.rows, by: 3) {
            let label = y[i] < 0.8 ? "small" : y[i] < 1.7 ? "mid" : "large"
            labels.append(label)
            csv += "\(keys[i, 0]),\(names[Int(keys[i, 3])]),\(label)\n"
        }
        let train = try scratch.write("t.csv", csv)
        let classify = try NW.run(["bandwidth", "--train", train, "--method", "cv", "--classify", "--categorical", "Species"])
        #expect(classify.status == 0, "\(classify.stderr)")
        let sub = Matrix(stride(from: 0, to: keys.rows, by: 3).map { [keys[$0, 0], keys[$0, 3]] })
        var classifier = NadarayaWatsonClassifier(bandwidth: .cv)
        classifier.featureKinds = [.continuous, .categorical]
        let fitted = try classifier.fit(keys: sub, labels: labels)
        #expect(classify.stdout == fitted.bandwidths.map { "\($0)" }.joined(separator: ",") + "\n")
        #expect(classify.stderr.contains("cross-entropy"))

        let density = try NW.run(["bandwidth", "--train", train, "--method", "cv", "--density", "--features", "Sepal.Length"])
        #expect(density.status == 0, "\(density.stderr)")
        let kde = try ParzenDensity(bandwidth: .cv).fit(samples: Matrix(column: sub.column(0)))
        #expect(density.stdout == "\(kde.bandwidths[0])\n")
        let evaluated = try NW.run(["density", "--train", train, "--query", train, "--kernel", "gaussian", "--bandwidth", "cv",
                                    "--features", "Sepal.Length,Species", "--categorical", "Species"])
        #expect(evaluated.status == 0 && evaluated.stderr.contains("log-likelihood"), "\(evaluated.stderr)")
        let predicted = try NW.run(["predict", "--train", train, "--query", train, "--kernel", "gaussian", "--bandwidth", "cv",
                                    "--classify", "--categorical", "Species"])
        #expect(predicted.status == 0 && predicted.stdout.contains("p_small"), "\(predicted.stderr)")
    }
}
