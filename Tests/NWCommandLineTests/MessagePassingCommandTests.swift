import Foundation
import NadarayaWatson
import Testing
@testable import NWCommandLine

/// `mpirun -np N nw …` against one process (the contract's "Beyond one machine"). Needs Open
/// MPI's `mpirun` on the PATH (`.ci/run` installs it); without it these tests are skipped.
@Suite("MessagePassingCommand", .enabled(if: MPIRun.path != nil, "Open MPI's mpirun is not installed"))
struct MessagePassingCommandTests {
    /// n = 203 rows (no N divides it), two features, values with a trend.
    static let train: String = {
        var rng = SplitMix64(seed: 14)
        var text = "a,b,y\n"
        for _ in 0..<203 {
            let a = Double(rng.next() % 10_000) / 1000, b = Double(rng.next() % 10_000) / 1000
            text += "\(a),\(b),\(sin(a) + 0.1 * b + Double(rng.next() % 100) / 300)\n"
        }
        return text
    }()

    static let query: String = {
        var rng = SplitMix64(seed: 15)
        // Ordinary queries, and far ones (extreme maxima in the merged states).
        var text = "id,a,b\n"
        for i in 0..<37 { text += "q\(i),\(Double(rng.next() % 12_000) / 1000 - 1),\(Double(rng.next() % 12_000) / 1000 - 1)\n" }
        text += "far1,400,-300\nfar2,-1e6,2e6\n"
        return text
    }()

    /// The prediction-like columns of a CSV output (every column after QUERY's own).
    static func numbers(_ csv: String, skipping copied: Int) -> [[Double]] {
        csv.split(separator: "\n").dropFirst().map { line in
            line.split(separator: ",", omittingEmptySubsequences: false).dropFirst(copied).compactMap { Double($0) }
        }
    }

    static func expectClose(_ a: [[Double]], _ b: [[Double]], _ context: String, tolerance: Double = 1e-13) {
        #expect(a.count == b.count && zip(a, b).allSatisfy { $0.count == $1.count }, "\(context): shapes")
        for (x, y) in zip(a.joined(), b.joined()) where !(x.isNaN && y.isNaN) {
            #expect(abs(x - y) <= tolerance * max(1, abs(y)), "\(context): \(x) vs \(y)")
        }
    }

    struct Setting: CustomTestStringConvertible, Sendable {
        let arguments: [String]
        let ranks: Int
        var testDescription: String { "N=\(ranks) " + arguments.joined(separator: " ") }
    }

    /// Every kernel at degree 0 (N = 2), degrees 1–2 and the product form on a few (N = 3, 4),
    /// the rules, weights, classification.
    static let settings: [Setting] = Kernel.allCases.map { kernel in
        Setting(arguments: ["--kernel", kernel.rawValue, "--bandwidth", kernel.isCompact ? "2.5" : "0.8", "--empty", "mean"], ranks: 2)
    } + [
        Setting(arguments: ["--kernel", "gaussian", "--bandwidth", "0.6,1.1", "--degree", "1"], ranks: 3),
        Setting(arguments: ["--kernel", "epanechnikov", "--bandwidth", "3", "--degree", "2", "--form", "product", "--empty", "mean"], ranks: 4),
        Setting(arguments: ["--kernel", "laplacian", "--bandwidth", "1", "--degree", "1", "--form", "product"], ranks: 4),
        Setting(arguments: ["--kernel", "gaussian", "--bandwidth", "scott"], ranks: 3),
        Setting(arguments: ["--kernel", "biweight", "--bandwidth", "silverman", "--empty", "mean"], ranks: 4),
        Setting(arguments: ["--kernel", "gaussian", "--bandwidth", "silverman", "--sample-weight", "w"], ranks: 3),
        Setting(arguments: ["--kernel", "cauchy", "--bandwidth", "1", "--classify", "--target", "label"], ranks: 3),
    ]

    /// TRAIN with a weight column and a label column added.
    static let richTrain: String = {
        var rng = SplitMix64(seed: 16)
        let lines = train.split(separator: "\n")
        return lines.enumerated().map { i, line in
            i == 0 ? line + ",w,label" : line + ",\(rng.next() % 4),\(["ant", "bee", "cat"][Int(rng.next() % 3)])"
        }.joined(separator: "\n") + "\n"
    }()

    @Test("nw predict under mpirun equals one process (1e-13)", arguments: settings)
    func predictEqualsOneProcess(_ setting: Setting) throws {
        let scratch = try Scratch()
        let rich = setting.arguments.contains("--sample-weight") || setting.arguments.contains("--classify")
        try scratch.write("train.csv", rich ? Self.richTrain : Self.train)
        try scratch.write("query.csv", Self.query)
        var arguments = ["predict", "--train", "train.csv", "--query", "query.csv"] + setting.arguments
        if rich { arguments += ["--features", "a,b"] + (setting.arguments.contains("--target") ? [] : ["--target", "y"]) }
        let one = try NW.run(arguments, in: scratch.url)
        let many = try MPIRun.run(ranks: setting.ranks, arguments + ["--output", "out.csv"], in: scratch.url)
        #expect(one.status == 0, "\(one.stderr)")
        #expect(many.status == 0, "\(many.stderr)")
        let output = scratch.read("out.csv") ?? ""
        #expect(output.split(separator: "\n").first == one.stdout.split(separator: "\n").first, "the same header")
        if setting.arguments.contains("--classify") {
            #expect(output.split(separator: "\n").map { $0.split(separator: ",")[3] } == one.stdout.split(separator: "\n").map { $0.split(separator: ",")[3] },
                    "the same labels")
            Self.expectClose(Self.numbers(output, skipping: 4), Self.numbers(one.stdout, skipping: 4), setting.testDescription)
        } else if setting.arguments.contains("--degree") {
            // A local polynomial's solve multiplies the sums' rounding (which differs: shards are
            // summed apart) by its design's condition number: 1e-15…1e-13 here, 6e-10 for a
            // linear fit extrapolated 400 widths away, so the far queries are left out.
            Self.expectClose(Array(Self.numbers(output, skipping: 3).dropLast(2)), Array(Self.numbers(one.stdout, skipping: 3).dropLast(2)),
                             setting.testDescription, tolerance: 1e-11)
        } else {
            Self.expectClose(Self.numbers(output, skipping: 3), Self.numbers(one.stdout, skipping: 3), setting.testDescription)
        }
    }

    @Test("nw bandwidth and nw density under mpirun equal one process")
    func bandwidthAndDensity() throws {
        let scratch = try Scratch()
        try scratch.write("train.csv", Self.train)
        try scratch.write("query.csv", Self.query)
        for method in ["scott", "silverman"] {
            let arguments = ["bandwidth", "--train", "train.csv", "--method", method]
            let one = try NW.run(arguments, in: scratch.url), many = try MPIRun.run(ranks: 3, arguments, in: scratch.url)
            #expect(many.status == 0, "\(many.stderr)")
            let a = one.stdout.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespacesAndNewlines))! }
            let b = many.stdout.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespacesAndNewlines))! }
            Self.expectClose([b], [a], method)
        }
        let arguments = ["density", "--train", "train.csv", "--features", "a,b", "--query", "query.csv", "--kernel", "gaussian",
                         "--bandwidth", "0.9"]
        let one = try NW.run(arguments, in: scratch.url), many = try MPIRun.run(ranks: 4, arguments, in: scratch.url)
        #expect(many.status == 0, "\(many.stderr)")
        Self.expectClose(Self.numbers(many.stdout, skipping: 3), Self.numbers(one.stdout, skipping: 3), "density")
    }

    @Test("cross-validation under mpirun selects the one-process widths", arguments: [
        (["--kernel", "gaussian"], 3, 1e-11),                      // BFGS on the analytic gradient
        (["--kernel", "epanechnikov", "--degree", "1", "--empty", "mean"], 2, 1e-6),
        // The second width sits where CV is flat to 1e-12: the sweeps stop 1e-5 apart.
        (["--kernel", "gaussian", "--degree", "1", "--sample-weight", "w"], 4, 1e-4),
    ] as [([String], Int, Double)])
    func crossValidation(_ arguments: [String], _ ranks: Int, _ tolerance: Double) throws {
        // Coordinate sweeps compare scores that differ in their last bits between the two sums
        // (shards are summed apart), so the Brent steps may part within the search's own
        // tolerance (10⁻⁶ in log h); the Gaussian's gradient steps agree to rounding.
        let scratch = try Scratch()
        // 80 rows: the search runs ~100 evaluations in a debug build.
        try scratch.write("train.csv", Self.richTrain.split(separator: "\n").prefix(81).joined(separator: "\n") + "\n")
        try scratch.write("query.csv", Self.query)
        let command = ["bandwidth", "--train", "train.csv", "--target", "y", "--features", "a,b", "--method", "cv"] + arguments
        let one = try NW.run(command, in: scratch.url), many = try MPIRun.run(ranks: ranks, command, in: scratch.url)
        #expect(one.status == 0 && many.status == 0, "\(one.stderr) \(many.stderr)")
        let parse = { (text: String) in text.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespacesAndNewlines))! } }
        Self.expectClose([parse(many.stdout)], [parse(one.stdout)], "\(arguments)", tolerance: tolerance)
        let notes = many.stderrLines.filter { $0.hasPrefix("nw: note: cv:") }
        #expect(notes.count == 1, "one note, from rank 0")
        // The scores at the selected widths agree far more closely than the widths.
        let score = { (lines: [Substring]) in lines.first { $0.hasPrefix("nw: note: cv:") }.flatMap { Double($0.split(separator: " ")[5]) } }
        if let a = score(many.stderrLines), let b = score(one.stderrLines) {
            #expect(abs(a - b) <= (tolerance >= 1e-4 ? 1e-7 : 1e-9) * b, "\(a) vs \(b)")
        }
        // nw predict --bandwidth cv: the same selection, then the predictions.
        let predict = ["predict", "--train", "train.csv", "--target", "y", "--features", "a,b", "--query", "query.csv",
                       "--bandwidth", "cv"] + arguments
        let onePredict = try NW.run(predict, in: scratch.url), manyPredict = try MPIRun.run(ranks: ranks, predict, in: scratch.url)
        #expect(manyPredict.status == 0, "\(manyPredict.stderr)")
        Self.expectClose(Array(Self.numbers(manyPredict.stdout, skipping: 3).dropLast(2)),
                         Array(Self.numbers(onePredict.stdout, skipping: 3).dropLast(2)), "predict \(arguments)",
                         tolerance: tolerance == 1e-11 ? 1e-11 : 1e-3)
    }

    @Test("the classifier's and the density's cross-validation under mpirun select the one-process widths", arguments: [
        ["--classify", "--kernel", "epanechnikov", "--features", "Sepal.Length,Petal.Width", "--target", "Species"],
        ["--density", "--kernel", "gaussian", "--features", "Sepal.Length,Petal.Width"],
    ])
    func poolingCrossValidation(_ arguments: [String]) throws {
        let scratch = try Scratch()
        let command = ["bandwidth", "--train", NW.fixture("iris.csv"), "--method", "cv"] + arguments
        let one = try NW.run(command, in: scratch.url), many = try MPIRun.run(ranks: 3, command, in: scratch.url)
        #expect(one.status == 0 && many.status == 0, "\(one.stderr) \(many.stderr)")
        let parse = { (text: String) in text.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespacesAndNewlines))! } }
        // Measured 2e-13 (classifier) and 2e-14 (density): the sweeps took the same steps.
        Self.expectClose([parse(many.stdout)], [parse(one.stdout)], "\(arguments)", tolerance: 1e-9)
        #expect(many.stderrLines.filter { $0.hasPrefix("nw: note: cv:") }.count == 1)
    }

    @Test("--missing drop: rows left out over every shard, one note, QUERY rows with nan")
    func missingDrop() throws {
        let scratch = try Scratch()
        var lines = Self.train.split(separator: "\n").map(String.init)
        for row in stride(from: 3, to: lines.count, by: 17) { lines[row] = "NA," + lines[row].split(separator: ",").dropFirst().joined(separator: ",") }
        try scratch.write("train.csv", lines.joined(separator: "\n") + "\n")
        try scratch.write("query.csv", "id,a,b\nq1,2,3\nq2,NA,1\nq3,7,7\n")
        let arguments = ["predict", "--train", "train.csv", "--query", "query.csv", "--kernel", "gaussian", "--bandwidth", "scott",
                         "--missing", "drop"]
        let one = try NW.run(arguments, in: scratch.url), many = try MPIRun.run(ranks: 3, arguments, in: scratch.url)
        #expect(many.status == 0, "\(many.stderr)")
        #expect(many.stderrLines == one.stderrLines, "the same single note")
        #expect(many.stdout.contains("q2,NA,1,nan"))
        Self.expectClose(Self.numbers(many.stdout, skipping: 3), Self.numbers(one.stdout, skipping: 3), "drop")
    }

    @Test(".npy TRAIN by row ranges (C and Fortran order), labels, and a bad element's position")
    func arrays() throws {
        let scratch = try Scratch()
        var rng = SplitMix64(seed: 21)
        let n = 101, d = 6
        let keys = Matrix(rows: n, columns: d, elements: (0..<n * d).map { _ in Double(Int(rng.next() % 2001) - 1000) / 500 })
        try Data(NPYFile.encode(keys)).write(to: URL(fileURLWithPath: scratch.path("K.npy")))
        // The same keys in Fortran order: column after column.
        let columns = (0..<d).flatMap { j in (0..<n).map { keys[$0, j] } }
        try Data(npyBytes(header: "{'descr': '<f8', 'fortran_order': True, 'shape': (\(n), \(d)), }", payload: float64Payload(columns)))
            .write(to: URL(fileURLWithPath: scratch.path("F.npy")))
        try Data(npyBytes(header: "{'descr': '<f8', 'fortran_order': False, 'shape': (\(n),), }",
                          payload: float64Payload((0..<n).map { i in sin(keys[i, 0]) + keys[i, 1] })))
            .write(to: URL(fileURLWithPath: scratch.path("V.npy")))
        try Data(npyBytes(header: "{'descr': '<i8', 'fortran_order': False, 'shape': (\(n),), }",
                          payload: littleEndian((0..<n).map { Int64(keys[$0, 2] > 0 ? 1 : 0) + Int64(keys[$0, 3] > 0 ? 1 : 0) })))
            .write(to: URL(fileURLWithPath: scratch.path("L.npy")))
        try Data(NPYFile.encode(Matrix(rows: 9, columns: d, elements: (0..<9 * d).map { _ in Double(rng.next() % 1000) / 400 - 1 })))
            .write(to: URL(fileURLWithPath: scratch.path("Q.npy")))
        for (train, extra) in [("K.npy", ["--values", "V.npy"]), ("F.npy", ["--values", "V.npy", "--bandwidth", "cv"]),
                               ("K.npy", ["--values", "L.npy", "--classify"])] {
            var arguments = ["predict", "--train", train, "--query", "Q.npy", "--kernel", "dot", "--normalize"] + extra
            if !extra.contains("cv") { arguments += ["--bandwidth", "0.4"] }
            let one = try NW.run(arguments, in: scratch.url), many = try MPIRun.run(ranks: 3, arguments, in: scratch.url)
            #expect(one.status == 0 && many.status == 0, "\(one.stderr) \(many.stderr)")
            #expect(many.stdout.split(separator: "\n").first == one.stdout.split(separator: "\n").first)
            let skip = extra.contains("--classify") ? 1 : 0
            Self.expectClose(Self.numbers(many.stdout, skipping: skip), Self.numbers(one.stdout, skipping: skip), "\(train) \(extra)",
                             tolerance: extra.contains("cv") ? 1e-9 : 1e-13)
        }
        var bad = keys
        bad[96, 3] = .nan
        try Data(NPYFile.encode(bad)).write(to: URL(fileURLWithPath: scratch.path("B.npy")))
        let arguments = ["predict", "--train", "B.npy", "--values", "V.npy", "--query", "Q.npy", "--kernel", "dot", "--bandwidth", "1"]
        let one = try NW.run(arguments, in: scratch.url), many = try MPIRun.run(ranks: 4, arguments, in: scratch.url)
        #expect(one.stderrLines == ["nw: B.npy: element \(96 * d + 3) (row 97, column 4) should be a finite number, but is nan"])
        #expect(many.status == one.status && many.stderrLines.filter { $0.hasPrefix("nw:") } == one.stderrLines, "\(many.stderr)")
    }

    @Test("a shard boundary inside a quoted field spanning lines; CRLF; more ranks than rows")
    func quotedFieldsAndEmptyShards() throws {
        let scratch = try Scratch()
        // A long quoted note with line breaks, commas and quotes in the middle of the file: the
        // chunk boundaries of 2, 3 and 4 ranks fall inside it.
        let note = "\"" + String(repeating: "a note, with \"\"quotes\"\"\nand lines\r\n", count: 40) + "\""
        var text = "x,note,y\r\n"
        for i in 0..<9 { text += "\(i),\(i == 4 ? note : "plain"),\(Double(i) * 0.5)\r\n" }
        try scratch.write("train.csv", text)
        try scratch.write("query.csv", "x\n0.5\n3.7\n8.2\n")
        let arguments = ["predict", "--train", "train.csv", "--features", "x", "--target", "y", "--query", "query.csv",
                         "--kernel", "gaussian", "--bandwidth", "1.3"]
        let one = try NW.run(arguments, in: scratch.url)
        #expect(one.status == 0, "\(one.stderr)")
        for ranks in [2, 3, 4] {
            let many = try MPIRun.run(ranks: ranks, arguments, in: scratch.url)
            #expect(many.status == 0, "\(many.stderr)")
            Self.expectClose(Self.numbers(many.stdout, skipping: 1), Self.numbers(one.stdout, skipping: 1), "N=\(ranks)")
        }
        // More ranks than rows: empty shards hold no keys and merge as the identity.
        try scratch.write("two.csv", "x,y\n1,2\n3,5\n")
        let small = ["predict", "--train", "two.csv", "--query", "query.csv", "--kernel", "gaussian", "--bandwidth", "1"]
        let oneSmall = try NW.run(small, in: scratch.url), manySmall = try MPIRun.run(ranks: 4, small, in: scratch.url)
        #expect(manySmall.status == 0, "\(manySmall.stderr)")
        Self.expectClose(Self.numbers(manySmall.stdout, skipping: 1), Self.numbers(oneSmall.stdout, skipping: 1), "N > n")
    }

    @Test("a bad row in the last shard: one line from rank 0 with its line, the same exit, no output")
    func errorInLastShard() throws {
        let scratch = try Scratch()
        var lines = Self.train.split(separator: "\n").map(String.init)
        lines[lines.count - 3] = "1.5,oops,2"
        try scratch.write("train.csv", lines.joined(separator: "\n") + "\n")
        try scratch.write("query.csv", Self.query)
        try scratch.write("out.csv", "untouched\n")
        let arguments = ["predict", "--train", "train.csv", "--query", "query.csv", "--kernel", "gaussian", "--bandwidth", "1",
                         "--output", "out.csv"]
        let one = try NW.run(arguments, in: scratch.url)
        #expect(one.stderrLines == ["nw: train.csv:\(lines.count - 2):2: column 'b' should be a number, but is \"oops\""])
        for ranks in [2, 4] {
            let many = try MPIRun.run(ranks: ranks, arguments, in: scratch.url)
            #expect(many.status == one.status)
            #expect(many.stderrLines.filter { $0.hasPrefix("nw:") } == one.stderrLines, "N=\(ranks): \(many.stderr)")
            #expect(scratch.read("out.csv") == "untouched\n")
        }
        // An unreadable TRAIN and a misused option: the same one line.
        for bad in [["predict", "--train", "missing.csv", "--query", "query.csv", "--kernel", "gaussian", "--bandwidth", "1"],
                    ["density", "--train", "train.csv", "--query", "query.csv", "--kernel", "gaussian", "--bandwidth", "cv"],
                    ["train", "--train", "train.csv"]] {
            let many = try MPIRun.run(ranks: 2, bad, in: scratch.url)
            #expect(many.status != 0)
            #expect(many.stderrLines.filter { $0.hasPrefix("nw:") }.count == 1, "\(bad): \(many.stderr)")
        }
    }

    @Test("the reduction's in-place merge equals a sequential fold of MomentState.merge, extreme maxima included")
    func mergeAgainstFold() {
        let shifts: [Double] = [-.infinity, 0, 700, -700, 1e300, -1e300, 1e-300, 3.5]
        var rng = SplitMix64(seed: 9)
        let width = 4
        // Four ranks' records for 64 queries, every combination of extreme shifts.
        let ranks = (0..<4).map { _ in
            (0..<64).flatMap { _ -> [Double] in
                let shift = shifts[Int(rng.next() % UInt64(shifts.count))]
                return [shift] + (0..<(width - 1)).map { _ in shift == -.infinity ? 0 : Double(rng.next() % 1000) / 7 }
            }
        }
        var accumulated = ranks[3]
        for r in stride(from: 2, through: 0, by: -1) {
            ranks[r].withUnsafeBufferPointer { a in
                accumulated.withUnsafeMutableBufferPointer { b in
                    Cluster.mergeRecords(a.baseAddress!, into: b.baseAddress!, count: 64, width: width)
                }
            }
        }
        for k in 0..<64 {
            let states = ranks.map { MomentState(shift: $0[k * width], sums: Array($0[(k * width + 1)..<((k + 1) * width)])) }
            let fold = states.dropLast().reversed().reduce(states[3]) { MomentState.merge($1, $0) }
            #expect(accumulated[k * width].bitPattern == fold.shift.bitPattern)
            #expect(Array(accumulated[(k * width + 1)..<((k + 1) * width)]).map(\.bitPattern) == fold.sums.map(\.bitPattern))
        }
    }
}

/// Open MPI's launcher, run as the tests' user (root in CI: allowed by the two variables).
enum MPIRun {
    static let path: String? = {
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":") {
            let candidate = "\(directory)/mpirun"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }()

    static func run(ranks: Int, _ arguments: [String], in directory: URL) throws -> NW.Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path!)
        process.arguments = ["--oversubscribe", "-q", "-np", "\(ranks)", NW.binary.path] + arguments
        var environment = ProcessInfo.processInfo.environment
        environment["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
        environment["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
        process.environment = environment
        process.currentDirectoryURL = directory
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return NW.Result(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                         stderr: String(decoding: errData, as: UTF8.self))
    }
}
