import Foundation
import NadarayaWatson
import Testing

@Suite("TrainCommand")
struct TrainCommandTests {
    @Test("loss log, model file and summary; predict --model equals a Gaussian of width 1/|w|; silent in pipes")
    func trainAndPredict() throws {
        let scratch = try Scratch()
        let mcycle = NW.fixture("mcycle.csv")
        let trained = try NW.run(["train", "--train", mcycle, "--init-w", "0.3", "--epochs", "7", "--lr", "0.00001",
                                  "--loss-log", scratch.path("log.csv"), "--model", scratch.path("model.json")])
        #expect(trained.status == 0, "\(trained.stderr)")
        #expect(trained.stderr.isEmpty)
        let log = csvRows(scratch.read("log.csv") ?? "")
        #expect(log.first == ["epoch", "loss", "w"])
        #expect(log.dropFirst().map { $0[0] } == ["1", "2", "3", "4", "5", "6", "7"])

        // The same trajectory from the library.
        let rows = csvRows(try String(contentsOfFile: mcycle, encoding: .utf8)).dropFirst()
        let x = rows.map { Double($0[0])! }, y = rows.map { Double($0[1])! }
        let model = try ParametricAttentionPooling(initialScale: 0.3, epochs: 7, learningRate: 0.00001).fit(keys: Matrix(column: x), targets: y)
        for (line, epoch) in zip(log.dropFirst(), model.history) {
            #expect(Double(line[1]) == epoch.loss && Double(line[2]) == epoch.scales[0])
        }
        let summary = csvRows(trained.stdout)
        #expect(summary[0] == ["feature", "w", "abs_w", "h"])
        #expect(summary[1][0] == "times" && Double(summary[1][1]) == model.scales[0])
        let h = summary[1][3]

        let viaModel = try NW.run(["predict", "--model", scratch.path("model.json"), "--query", mcycle])
        let viaWidth = try NW.run(["predict", "--train", mcycle, "--query", mcycle, "--kernel", "gaussian", "--bandwidth", h])
        #expect(viaModel.status == 0, "\(viaModel.stderr)")
        #expect(viaModel.stdout == viaWidth.stdout && !viaModel.stdout.isEmpty)
    }

    @Test("the model file round-trips: same bytes when rewritten, same numbers when read")
    func modelRoundTrip() throws {
        let scratch = try Scratch()
        try scratch.write("train.csv", "a,b,y\n0.1,1,2\n0.7,0.5,3\n1.3,2,1\n2.2,1.5,4\n")
        for name in ["m1.json", "m2.json"] {
            let r = try NW.run(["train", "--train", "train.csv", "--epochs", "3", "--optimizer", "adam", "--lr", "0.1", "--model", name], in: scratch.url)
            #expect(r.status == 0, "\(r.stderr)")
        }
        let text = try #require(scratch.read("m1.json"))
        #expect(text == scratch.read("m2.json"))
        let json = try JSONSerialization.jsonObject(with: Data(text.utf8)) as! [String: Any]
        #expect(json["features"] as? [String] == ["a", "b"])
        #expect((json["keys"] as? [[Double]])?.count == 4)
        #expect((json["w"] as? [Double])?.count == 2)
    }

    @Test("--kernel dot: one w (row *), kept in the model; predict --model equals predict --kernel dot --bandwidth h")
    func dotKernel() throws {
        let scratch = try Scratch()
        var text = "a,b,y\n"
        for i in 0..<40 {
            let a = sin(Double(i) * 0.37), b = cos(Double(i) * 0.91)
            text += "\(a),\(b),\(2 * a - b + 0.1 * sin(Double(i * i)))\n"
        }
        try scratch.write("train.csv", text)
        let trained = try NW.run(["train", "--train", "train.csv", "--kernel", "dot", "--init-w", "0.5", "--epochs", "6",
                                  "--optimizer", "adam", "--lr", "0.2", "--loss-log", "log.csv", "--model", "m.json"],
                                 in: scratch.url)
        #expect(trained.status == 0, "\(trained.stderr)")
        #expect(trained.stderr.isEmpty)
        let summary = csvRows(trained.stdout)
        #expect(summary.count == 2 && summary[0] == ["feature", "w", "abs_w", "h"] && summary[1][0] == "*")
        let w = try #require(Double(summary[1][1])), h = summary[1][3]
        #expect(Double(h) == 1 / abs(w))

        // The same trajectory from the library.
        let rows = csvRows(text).dropFirst()
        let keys = Matrix(rows.map { [Double($0[0])!, Double($0[1])!] }), y = rows.map { Double($0[2])! }
        let model = try ParametricAttentionPooling(kernel: .dot, initialScale: 0.5, epochs: 6, learningRate: 0.2,
                                                   optimizer: .adam).fit(keys: keys, targets: y)
        #expect(model.scales == [w])
        let log = csvRows(scratch.read("log.csv") ?? "")
        #expect(log.count == 7)
        for (line, epoch) in zip(log.dropFirst(), model.history) {
            #expect(Double(line[1]) == epoch.loss && Double(line[2]) == epoch.scales[0])
        }

        let json = try JSONSerialization.jsonObject(with: Data((scratch.read("m.json") ?? "").utf8)) as! [String: Any]
        #expect(json["kernel"] as? String == "dot")
        #expect((json["w"] as? [Double])?.count == 1 && (json["bandwidths"] as? [Double])?.count == 2)

        let viaModel = try NW.run(["predict", "--model", "m.json", "--query", "train.csv"], in: scratch.url)
        let viaWidth = try NW.run(["predict", "--train", "train.csv", "--query", "train.csv", "--kernel", "dot",
                                   "--bandwidth", h], in: scratch.url)
        #expect(viaModel.status == 0, "\(viaModel.stderr)")
        #expect(viaModel.stdout == viaWidth.stdout && !viaModel.stdout.isEmpty, "\(viaWidth.stderr)")

        // A kernel the model format does not know is one line naming the file.
        let renamed = (scratch.read("m.json") ?? "").replacingOccurrences(of: "\"dot\"", with: "\"cauchy\"")
        try scratch.write("bad.json", renamed)
        let bad = try NW.run(["predict", "--model", "bad.json", "--query", "train.csv"], in: scratch.url)
        #expect(bad.status != 0 && bad.stderrLines.count == 1 && bad.stderr.contains("bad.json"), "\(bad.stderr)")
    }

    struct BadCase: CustomTestStringConvertible, Sendable {
        let arguments: [String], mention: String
        var testDescription: String { arguments.joined(separator: " ") }
    }

    @Test("bad training input: one line, non-zero exit, no files", arguments: [
        BadCase(arguments: ["--init-w", "0"], mention: "--init-w"),
        BadCase(arguments: ["--lr", "-1"], mention: "--lr"),
        BadCase(arguments: ["--epochs", "0"], mention: "--epochs"),
        BadCase(arguments: ["--optimizer", "rmsprop"], mention: "--optimizer"),
        BadCase(arguments: ["--kernel", "epanechnikov"], mention: "--kernel"),
        BadCase(arguments: ["--target", "nope"], mention: "train.csv:1:"),
    ])
    func badTraining(_ c: BadCase) throws {
        let scratch = try Scratch()
        try scratch.write("train.csv", "x,y\n1,2\n2,3\n3,5\n")
        let r = try NW.run(["train", "--train", "train.csv", "--model", "m.json", "--loss-log", "log.csv"] + c.arguments, in: scratch.url)
        #expect(r.status != 0)
        #expect(r.stderrLines.count == 1 && r.stderr.contains(c.mention), "\(r.stderr)")
        #expect(!scratch.exists("m.json") && !scratch.exists("log.csv"))
    }

    @Test("one training row cannot train leave-one-out; a bad model file is one line naming it")
    func badData() throws {
        let scratch = try Scratch()
        try scratch.write("one.csv", "x,y\n1,2\n")
        let one = try NW.run(["train", "--train", "one.csv"], in: scratch.url)
        #expect(one.status != 0 && one.stderrLines.count == 1 && one.stderr.contains("one.csv"))
        try scratch.write("bad.json", "{ \"format\": 3 ")
        try scratch.write("q.csv", "x\n1\n")
        let bad = try NW.run(["predict", "--model", "bad.json", "--query", "q.csv"], in: scratch.url)
        #expect(bad.status != 0 && bad.stderrLines.count == 1 && bad.stderr.contains("bad.json"), "\(bad.stderr)")
        let mixed = try NW.run(["predict", "--model", "bad.json", "--query", "q.csv", "--kernel", "gaussian"], in: scratch.url)
        #expect(mixed.status != 0 && mixed.stderr.contains("--kernel"))
    }
}
