import Foundation
import NadarayaWatson
import Testing
@testable import NWCommandLine

/// `.npy` input and output through the real binary (the contract's "Attention over embeddings"):
/// the same numbers as the equivalent CSV files, `.npy` results, labels, `--normalize`, and the
/// one-line error rule for malformed arrays.
@Suite("NPYCommand")
struct NPYCommandTests {
    static let n = 41, m = 9, d = 5

    /// Keys, targets and queries with exactly representable decimals (k/8), so CSV and .npy
    /// carry the same Doubles.
    static func data() -> (keys: Matrix, targets: [Double], queries: Matrix) {
        var rng = SplitMix64(seed: 31)
        func value() -> Double { Double(Int(rng.next() % 33) - 16) / 8 }
        let keys = Matrix(rows: n, columns: d, elements: (0..<n * d).map { _ in value() })
        let targets = (0..<n).map { _ in value() }
        let queries = Matrix(rows: m, columns: d, elements: (0..<m * d).map { _ in value() })
        return (keys, targets, queries)
    }

    static func csv(_ names: [String], _ rows: Int, _ cell: (Int, Int) -> Double) -> String {
        names.joined(separator: ",") + "\n"
            + (0..<rows).map { i in names.indices.map { "\(cell(i, $0))" }.joined(separator: ",") }.joined(separator: "\n") + "\n"
    }

    /// A scratch directory with K.npy, V.npy, Q.npy and the same data as train.csv and query.csv.
    static func files() throws -> Scratch {
        let (keys, targets, queries) = data()
        let scratch = try Scratch()
        let names = (1...d).map { "x\($0)" }
        try Data(NPYFile.encode(keys)).write(to: URL(fileURLWithPath: scratch.path("K.npy")))
        try Data(NPYFile.encode(Matrix(rows: n, columns: 1, elements: targets))).write(to: URL(fileURLWithPath: scratch.path("V.npy")))
        // Q.npy as float32 (every k/8 is exact in Float) and 1-D values, as NumPy users write them.
        let q32 = npyBytes(header: "{'descr': '<f4', 'fortran_order': False, 'shape': (\(m), \(d)), }",
                           payload: float32Payload(queries.elements.map { Float($0) }))
        try Data(q32).write(to: URL(fileURLWithPath: scratch.path("Q.npy")))
        let v1 = npyBytes(header: "{'descr': '<f8', 'fortran_order': False, 'shape': (\(n),), }", payload: float64Payload(targets))
        try Data(v1).write(to: URL(fileURLWithPath: scratch.path("V1.npy")))
        try scratch.write("train.csv", csv(names + ["y"], n) { i, j in j < d ? keys[i, j] : targets[i] })
        try scratch.write("query.csv", csv(names, m) { i, j in queries[i, j] })
        return scratch
    }

    /// The last column of a CSV output as numbers.
    static func lastColumn(_ text: String) -> [Double] {
        text.split(separator: "\n").dropFirst().map { Double($0.split(separator: ",").last!)! }
    }

    static func npyMatrix(_ scratch: Scratch, _ name: String) throws -> Matrix {
        try NPYFile.read(scratch.path(name)).matrix(file: name)
    }

    @Test("npy TRAIN, VALUES and QUERY give the CSV files' predictions bit for bit", arguments: ["gaussian", "dot", "epanechnikov"])
    func sameAsCSV(_ kernel: String) throws {
        let scratch = try Self.files()
        let width = ["--kernel", kernel, "--bandwidth", kernel == "epanechnikov" ? "3" : "1.5"]
        let fromCSV = try NW.run(["predict", "--train", "train.csv", "--query", "query.csv"] + width, in: scratch.url)
        #expect(fromCSV.status == 0, "\(fromCSV.stderr)")
        for values in ["V.npy", "V1.npy"] {
            let fromNPY = try NW.run(["predict", "--train", "K.npy", "--values", values, "--query", "Q.npy"] + width, in: scratch.url)
            #expect(fromNPY.status == 0, "\(fromNPY.stderr)")
            #expect(fromNPY.stdout.hasPrefix("prediction\n"), "a .npy QUERY has no columns to copy through")
            #expect(Self.lastColumn(fromNPY.stdout).map(\.bitPattern) == Self.lastColumn(fromCSV.stdout).map(\.bitPattern))
        }
        // A CSV QUERY names a .npy TRAIN's features x1 … xd; its columns are copied through.
        let mixed = try NW.run(["predict", "--train", "K.npy", "--values", "V.npy", "--query", "query.csv"] + width, in: scratch.url)
        #expect(mixed.stdout == fromCSV.stdout)
        // --output X.npy: the m × 1 float64 predictions.
        let toNPY = try NW.run(["predict", "--train", "K.npy", "--values", "V.npy", "--query", "Q.npy", "--output", "out.npy"] + width,
                               in: scratch.url)
        #expect(toNPY.status == 0 && toNPY.stdout.isEmpty)
        let out = try Self.npyMatrix(scratch, "out.npy")
        #expect(out.rows == Self.m && out.columns == 1)
        #expect(out.elements.map(\.bitPattern) == Self.lastColumn(fromCSV.stdout).map(\.bitPattern))
    }

    @Test("values of shape (n, p) give p prediction columns, each the one-column result")
    func severalValueColumns() throws {
        let scratch = try Self.files()
        let (_, targets, _) = Self.data()
        let two = Matrix(rows: Self.n, columns: 2, elements: targets.flatMap { [$0, -3 * $0] })
        try Data(NPYFile.encode(two)).write(to: URL(fileURLWithPath: scratch.path("V2.npy")))
        let args = ["predict", "--train", "K.npy", "--query", "Q.npy", "--kernel", "dot", "--bandwidth", "2"]
        let one = try NW.run(args + ["--values", "V.npy"], in: scratch.url)
        let both = try NW.run(args + ["--values", "V2.npy", "--output", "out.npy"], in: scratch.url)
        #expect(both.status == 0, "\(both.stderr)")
        let out = try Self.npyMatrix(scratch, "out.npy")
        #expect(out.columns == 2)
        let first = Self.lastColumn(one.stdout)
        for i in 0..<Self.m {
            #expect(out[i, 0] == first[i])
            #expect(abs(out[i, 1] + 3 * first[i]) <= 1e-14 * max(1, abs(first[i])))
        }
        let csv = try NW.run(args + ["--values", "V2.npy"], in: scratch.url)
        #expect(csv.stdout.hasPrefix("prediction_1,prediction_2\n"))
    }

    @Test("classification with integer and text labels; .npy output holds the probabilities")
    func labels() throws {
        let scratch = try Self.files()
        let (_, targets, _) = Self.data()
        let classes = targets.map { $0 > 0.5 ? 2 : $0 < -0.5 ? 0 : 1 }
        try Data(npyBytes(header: "{'descr': '<i8', 'fortran_order': False, 'shape': (\(Self.n),), }",
                          payload: littleEndian(classes.map { Int64($0) }))).write(to: URL(fileURLWithPath: scratch.path("L.npy")))
        let names = ["ant", "bee", "cat"]
        try Data(npyBytes(header: "{'descr': '<U3', 'fortran_order': False, 'shape': (\(Self.n),), }",
                          payload: littleEndian(classes.flatMap { names[$0].unicodeScalars.map { $0.value } }))
        ).write(to: URL(fileURLWithPath: scratch.path("T.npy")))
        let args = ["predict", "--train", "K.npy", "--query", "Q.npy", "--kernel", "dot", "--bandwidth", "1.5", "--classify"]
        let numeric = try NW.run(args + ["--values", "L.npy"], in: scratch.url)
        #expect(numeric.status == 0, "\(numeric.stderr)")
        #expect(numeric.stdout.hasPrefix("prediction,p_0,p_1,p_2\n"))
        let text = try NW.run(args + ["--values", "T.npy"], in: scratch.url)
        #expect(text.stdout.hasPrefix("prediction,p_ant,p_bee,p_cat\n"))
        // The same probabilities whatever the labels are called.
        let strip = { (s: String) in s.split(separator: "\n").dropFirst().map { $0.split(separator: ",").dropFirst().joined(separator: ",") } }
        #expect(strip(numeric.stdout) == strip(text.stdout))
        let toNPY = try NW.run(args + ["--values", "T.npy", "--output", "p.npy"], in: scratch.url)
        #expect(toNPY.status == 0)
        let p = try Self.npyMatrix(scratch, "p.npy")
        #expect(p.rows == Self.m && p.columns == 3)
        for i in 0..<Self.m { #expect(abs((0..<3).reduce(0) { $0 + p[i, $1] } - 1) < 1e-14) }
    }

    @Test("--normalize: on unit vectors dot and gaussian give the same predictions; zero rows are errors")
    func normalize() throws {
        let scratch = try Self.files()
        let args = ["predict", "--train", "K.npy", "--values", "V.npy", "--query", "Q.npy", "--bandwidth", "0.7", "--normalize"]
        let dot = try NW.run(args + ["--kernel", "dot"], in: scratch.url)
        let gaussian = try NW.run(args + ["--kernel", "gaussian"], in: scratch.url)
        #expect(dot.status == 0 && gaussian.status == 0, "\(dot.stderr) \(gaussian.stderr)")
        for (a, b) in zip(Self.lastColumn(dot.stdout), Self.lastColumn(gaussian.stdout)) {
            #expect(abs(a - b) <= 1e-12 * max(1, abs(b)), "\(a) vs \(b)")
        }
        let plain = try NW.run(["predict", "--train", "K.npy", "--values", "V.npy", "--query", "Q.npy", "--bandwidth", "0.7",
                                "--kernel", "dot"], in: scratch.url)
        #expect(plain.stdout != dot.stdout, "--normalize changes the dot kernel's weights")
        // A zero row has no direction: the file and its line (CSV) or row (.npy).
        try scratch.write("zero.csv", "x1,x2,x3,x4,x5\n1,2,3,4,5\n0,0,0,0,0\n")
        let zeroCSV = try NW.run(args.map { $0 == "Q.npy" ? "zero.csv" : $0 } + ["--kernel", "dot"], in: scratch.url)
        #expect(zeroCSV.status == 65 && zeroCSV.stderrLines == ["nw: zero.csv:3: the row's features has norm 0: --normalize cannot scale it to unit length"])
        try Data(NPYFile.encode(Matrix(rows: 2, columns: Self.d, elements: [1, 2, 3, 4, 5, 0, 0, 0, 0, 0])))
            .write(to: URL(fileURLWithPath: scratch.path("Z.npy")))
        let zeroNPY = try NW.run(args.map { $0 == "Q.npy" ? "Z.npy" : $0 } + ["--kernel", "dot"], in: scratch.url)
        #expect(zeroNPY.status == 65 && zeroNPY.stderrLines == ["nw: Z.npy: row 2 has norm 0: --normalize cannot scale it to unit length"])
    }

    @Test("nw bandwidth and nw density read .npy TRAIN")
    func otherCommands() throws {
        let scratch = try Self.files()
        let cv = try NW.run(["bandwidth", "--train", "K.npy", "--values", "V.npy", "--kernel", "dot", "--method", "cv"], in: scratch.url)
        let cvCSV = try NW.run(["bandwidth", "--train", "train.csv", "--kernel", "dot", "--method", "cv"], in: scratch.url)
        #expect(cv.status == 0 && cv.stdout == cvCSV.stdout, "\(cv.stderr)")
        let widths = cv.stdout.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespacesAndNewlines))! }
        #expect(widths.count == Self.d && Set(widths).count == 1, "dot selects one temperature")
        let density = try NW.run(["density", "--train", "K.npy", "--query", "Q.npy", "--kernel", "gaussian", "--bandwidth", "1",
                                  "--output", "p.npy"], in: scratch.url)
        let densityCSV = try NW.run(["density", "--train", "train.csv", "--features", "x1,x2,x3,x4,x5", "--query", "query.csv",
                                     "--kernel", "gaussian", "--bandwidth", "1"], in: scratch.url)
        #expect(density.status == 0, "\(density.stderr)")
        #expect(try Self.npyMatrix(scratch, "p.npy").elements.map(\.bitPattern) == Self.lastColumn(densityCSV.stdout).map(\.bitPattern))
    }

    struct Failure: CustomTestStringConvertible, Sendable {
        let name: String
        let arguments: [String]
        let status: Int32
        let mentions: [String]
        var testDescription: String { name }
    }

    static let predict = ["predict", "--kernel", "dot", "--bandwidth", "1", "--output", "out.npy"]
    static let failures: [Failure] = [
        Failure(name: "malformed TRAIN header", arguments: ["--train", "bad.npy", "--values", "V.npy", "--query", "Q.npy"],
                status: 65, mentions: ["bad.npy: ", "header"]),
        Failure(name: "malformed QUERY", arguments: ["--train", "K.npy", "--values", "V.npy", "--query", "short.npy"],
                status: 65, mentions: ["short.npy: ", "truncated"]),
        Failure(name: "values of another length", arguments: ["--train", "K.npy", "--values", "V3.npy", "--query", "Q.npy"],
                status: 65, mentions: ["V3.npy: has 3 rows, but K.npy has 41"]),
        Failure(name: "QUERY of another width", arguments: ["--train", "K.npy", "--values", "V.npy", "--query", "V.npy"],
                status: 65, mentions: ["V.npy: has 1 column, but K.npy has 5 features"]),
        Failure(name: "no --values", arguments: ["--train", "K.npy", "--query", "Q.npy"], status: 64, mentions: ["--values: is required"]),
        Failure(name: "--values with CSV", arguments: ["--train", "train.csv", "--values", "V.npy", "--query", "Q.npy"],
                status: 64, mentions: ["--values: applies to a .npy TRAIN"]),
        Failure(name: "--target with .npy", arguments: ["--train", "K.npy", "--values", "V.npy", "--target", "y", "--query", "Q.npy"],
                status: 64, mentions: ["--target: applies to a CSV TRAIN"]),
        Failure(name: "missing file", arguments: ["--train", "K.npy", "--values", "nothing.npy", "--query", "Q.npy"],
                status: 66, mentions: ["nothing.npy"]),
        Failure(name: "labels for regression", arguments: ["--train", "K.npy", "--values", "T.npy", "--query", "Q.npy"],
                status: 65, mentions: ["T.npy: holds text labels"]),
    ]

    @Test("malformed arrays and misused options: one line, the right status, no output", arguments: failures)
    func errors(_ failure: Failure) throws {
        let scratch = try Self.files()
        try Data(npyBytes(header: "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2) 'extra'}", payload: []))
            .write(to: URL(fileURLWithPath: scratch.path("bad.npy")))
        try Data(npyBytes(header: "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 5), }", payload: float64Payload([1, 2])))
            .write(to: URL(fileURLWithPath: scratch.path("short.npy")))
        try Data(NPYFile.encode(Matrix(rows: 3, columns: 1, elements: [1, 2, 3]))).write(to: URL(fileURLWithPath: scratch.path("V3.npy")))
        try Data(npyBytes(header: "{'descr': '<U1', 'fortran_order': False, 'shape': (\(Self.n),), }",
                          payload: littleEndian([UInt32](repeating: 0x61, count: Self.n)))).write(to: URL(fileURLWithPath: scratch.path("T.npy")))
        let result = try NW.run(Self.predict + failure.arguments, in: scratch.url)
        #expect(result.status == failure.status, "\(result.stderr)")
        #expect(result.stderrLines.count == 1, "\(result.stderr)")
        for mention in failure.mentions { #expect(result.stderr.contains(mention), "\(result.stderr)") }
        #expect(!scratch.exists("out.npy"))
        #expect(result.stdout.isEmpty)
    }
}
