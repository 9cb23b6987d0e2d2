import Foundation
import NadarayaWatson
import Testing

@Suite("PredictCommand")
struct PredictCommandTests {
    @Test("mcycle: every row predicted, numbers round-trip to the library's exact values")
    func mcycleRoundTrip() throws {
        let train = NW.fixture("mcycle.csv")
        let result = try NW.run(["predict", "--train", train, "--query", train, "--kernel", "gaussian", "--bandwidth", "2"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.isEmpty)
        let rows = csvRows(result.stdout)
        #expect(rows.first == ["times", "accel", "prediction"])
        #expect(rows.count == 134)
        let data = rows.dropFirst().map { ($0[0], Double($0[0])!, Double($0[1])!) }
        let model = try NadarayaWatsonRegressor(kernel: .gaussian, bandwidth: .width(2))
            .fit(keys: Matrix(column: data.map(\.1)), values: Matrix(column: data.map(\.2)))
        let expected = try model.predict(Matrix(column: data.map(\.1)))
        for (i, row) in rows.dropFirst().enumerated() {
            #expect(Double(row[2]) == expected.elements[i])
            #expect(row[2] == expected.elements[i].description)
        }
    }

    @Test("QUERY columns copy through byte for byte, in QUERY's order, features found by name")
    func copyThrough() throws {
        let scratch = try Scratch()
        try scratch.write("train.csv", "a,b,y\n0,0,1\n1,0,2\n0,1,3\n")
        try scratch.write("query.csv", "note,b,a,extra\r\n\"hello, \"\"world\"\"\",0.50,1.000,\"two\nlines\"\r\nplain,0,0,\r\n")
        let result = try NW.run(["predict", "--train", "train.csv", "--query", "query.csv", "--kernel", "gaussian", "--bandwidth", "1"], in: scratch.url)
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.components(separatedBy: "\n")
        #expect(lines[0] == "note,b,a,extra,prediction")
        #expect(lines[1].hasPrefix("\"hello, \"\"world\"\"\",0.50,1.000,\"two"))
        #expect(lines[2].hasPrefix("lines\","))
        #expect(lines[3].hasPrefix("plain,0,0,,"))
    }

    @Test("--target picks a middle column; the others are features")
    func targetColumn() throws {
        let scratch = try Scratch()
        try scratch.write("train.csv", "x,y,z\n0,1,0\n1,3,0\n")
        try scratch.write("query.csv", "z,x\n0,0.5\n")
        let result = try NW.run(["predict", "--train", "train.csv", "--query", "query.csv", "--kernel", "constant",
                                 "--bandwidth", "1", "--target", "y"], in: scratch.url)
        #expect(result.stdout == "z,x,prediction\n0,0.5,2.0\n", "\(result.stderr)")
    }

    @Test("--classify: labels as written, p_<label> columns in numeric order for numeric labels")
    func classifyNumeric() throws {
        let scratch = try Scratch()
        try scratch.write("train.csv", "x,label\n0,10\n0.1,10\n5,9\n5.2,2\n")
        try scratch.write("query.csv", "x\n0\n5.1\n")
        let result = try NW.run(["predict", "--train", "train.csv", "--query", "query.csv", "--kernel", "gaussian",
                                 "--bandwidth", "0.5", "--classify"], in: scratch.url)
        let rows = csvRows(result.stdout)
        #expect(rows[0] == ["x", "prediction", "p_2", "p_9", "p_10"], "\(result.stderr)")
        #expect(rows[1][1] == "10")
        #expect(abs(rows[1][2...].compactMap { Double($0) }.reduce(0, +) - 1) < 1e-15)
    }

    @Test("--classify on iris: code-point order of text labels")
    func classifyIris() throws {
        let iris = NW.fixture("iris.csv")
        let result = try NW.run(["predict", "--train", iris, "--query", iris, "--kernel", "gaussian", "--bandwidth", "scott", "--classify"])
        #expect(result.status == 0, "\(result.stderr)")
        let rows = csvRows(result.stdout)
        #expect(rows[0].suffix(4) == ["prediction", "p_setosa", "p_versicolor", "p_virginica"])
        let correct = rows.dropFirst().filter { $0[4] == $0[5] }.count
        #expect(correct >= 140, "resubstitution accuracy \(correct)/150")
    }

    @Test("--weights: one row per query, one column per training row, rows summing to 1 (nan when empty)")
    func weightsFile() throws {
        let scratch = try Scratch()
        try scratch.write("train.csv", "x,y\n0,1\n1,2\n2,3\n")
        try scratch.write("query.csv", "x\n0.5\n9\n")
        let result = try NW.run(["predict", "--train", "train.csv", "--query", "query.csv", "--kernel", "epanechnikov",
                                 "--bandwidth", "1", "--weights", "w.csv", "--output", "out.csv"], in: scratch.url)
        #expect(result.status == 0 && result.stdout.isEmpty, "\(result.stderr)")
        let rows = csvRows(scratch.read("w.csv") ?? "")
        #expect(rows.count == 3)
        #expect(rows[0] == ["w1", "w2", "w3"])
        #expect(abs(rows[1].map { Double($0)! }.reduce(0, +) - 1) < 1e-15)
        #expect(rows[1][2] == "0.0")
        #expect(rows[2] == ["nan", "nan", "nan"])
        #expect(csvRows(scratch.read("out.csv") ?? "")[2] == ["9", "nan"])
    }

    @Test("every --empty policy through the CLI")
    func emptyPolicies() throws {
        let scratch = try Scratch()
        try scratch.write("train.csv", "x,y\n0,1\n1,2\n4,9\n")
        try scratch.write("query.csv", "x\n0.25\n10\n-7\n")
        func run(_ policy: String) throws -> [String] {
            let r = try NW.run(["predict", "--train", "train.csv", "--query", "query.csv", "--kernel", "boxcar",
                                "--bandwidth", "1", "--empty", policy], in: scratch.url)
            return csvRows(r.stdout).dropFirst().map { $0[1] }
        }
        #expect(try run("nan") == ["1.5", "nan", "nan"])
        #expect(try run("nearest") == ["1.5", "9.0", "1.0"])
        #expect(try run("mean") == ["1.5", "4.0", "4.0"])
        let error = try NW.run(["predict", "--train", "train.csv", "--query", "query.csv", "--kernel", "boxcar",
                                "--bandwidth", "1", "--empty", "error"], in: scratch.url)
        #expect(error.status != 0 && error.stderr.contains("query.csv:3:"))
    }

    @Test("QUERY from standard input; header-only QUERY gives a header-only output")
    func standardInput() throws {
        let scratch = try Scratch()
        try scratch.write("train.csv", "x,y\n0,1\n1,2\n")
        let piped = try NW.run(["predict", "--train", "train.csv", "--query", "-", "--kernel", "constant", "--bandwidth", "1"],
                               in: scratch.url, stdin: "x\n3\n")
        #expect(piped.stdout == "x,prediction\n3,1.5\n")
        let empty = try NW.run(["predict", "--train", "train.csv", "--query", "-", "--kernel", "constant", "--bandwidth", "1"],
                               in: scratch.url, stdin: "x\n")
        #expect(empty.status == 0 && empty.stdout == "x,prediction\n")
    }

    @Test("--bandwidth scott equals nw bandwidth --method scott; per-feature lists")
    func bandwidthRules() throws {
        let iris = NW.fixture("iris.csv")
        for method in ["scott", "silverman"] {
            let printed = try NW.run(["bandwidth", "--train", iris, "--method", method])
            #expect(printed.status == 0)
            let widths = printed.stdout.trimmingCharacters(in: .newlines)
            #expect(widths.split(separator: ",").count == 4)
            let viaRule = try NW.run(["predict", "--train", iris, "--query", iris, "--kernel", "gaussian", "--bandwidth", method, "--classify"])
            let viaList = try NW.run(["predict", "--train", iris, "--query", iris, "--kernel", "gaussian", "--bandwidth", widths, "--classify"])
            #expect(viaRule.stdout == viaList.stdout && !viaRule.stdout.isEmpty)
        }
    }

    @Test("nw bandwidth on mcycle matches NumPy's Scott and Silverman widths")
    func bandwidthValues() throws {
        // numpy: 1.06*sd(ddof=1)*n**-0.2 and 0.9*min(sd, iqr/1.349)*n**-0.2 over mcycle's times.
        let scott = try NW.run(["bandwidth", "--train", NW.fixture("mcycle.csv"), "--method", "scott"])
        let silverman = try NW.run(["bandwidth", "--train", NW.fixture("mcycle.csv"), "--method", "silverman"])
        #expect(abs(Double(scott.stdout.trimmingCharacters(in: .newlines))! - 5.234418979031863) < 1e-12)
        #expect(abs(Double(silverman.stdout.trimmingCharacters(in: .newlines))! - 4.444318001064789) < 1e-12)
    }

    @Test("--method cv prints the widths, the score on stderr; --bandwidth cv predicts with them")
    func crossValidation() throws {
        let mcycle = NW.fixture("mcycle.csv")
        let printed = try NW.run(["bandwidth", "--train", mcycle, "--method", "cv"])
        #expect(printed.status == 0)
        let h = printed.stdout.trimmingCharacters(in: .newlines)
        #expect(Double(h) != nil && printed.stderr.contains("leave-one-out score"))
        let viaCV = try NW.run(["predict", "--train", mcycle, "--query", mcycle, "--kernel", "gaussian", "--bandwidth", "cv"])
        let viaNumber = try NW.run(["predict", "--train", mcycle, "--query", mcycle, "--kernel", "gaussian", "--bandwidth", h])
        #expect(viaCV.stdout == viaNumber.stdout && !viaCV.stdout.isEmpty)
    }
}
