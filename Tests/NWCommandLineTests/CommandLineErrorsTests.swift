import Foundation
import Testing

/// Every error of the contract's "Common rules", through the real binary: a non-zero exit (not a
/// signal), exactly one line on stderr naming the file and line (and column for a cell), and an
/// `--output` file neither created nor changed.
@Suite("CommandLineErrors")
struct CommandLineErrorsTests {
    static let goodTrain = "x,z,y\n1,10,2\n2,20,4\n3,30,5\n"
    static let goodQuery = "id,x,z\na,1.5,15\nb,2.5,25\n"

    struct Case: CustomTestStringConvertible, Sendable {
        let name: String
        var train = CommandLineErrorsTests.goodTrain
        var query = CommandLineErrorsTests.goodQuery
        var extra: [String] = []
        var kernel = "gaussian"
        var bandwidth = "1"
        /// Substrings the one stderr line must contain.
        let mentions: [String]
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "empty TRAIN", train: "", mentions: ["train.csv:1:"]),
        Case(name: "header-only TRAIN", train: "x,z,y\n", mentions: ["train.csv:2:", "no data rows"]),
        Case(name: "empty feature cell", train: "x,z,y\n1,10,2\n,20,4\n", mentions: ["train.csv:3:1:", "'x'", "empty"]),
        Case(name: "empty target cell", train: "x,z,y\n1,10,2\n2,20,\n", mentions: ["train.csv:3:3:", "'y'"]),
        Case(name: "non-numeric feature", train: "x,z,y\n1,10,2\n2,abc,4\n", mentions: ["train.csv:3:2:", "'z'", "\"abc\""]),
        Case(name: "non-numeric target", train: "x,z,y\n1,10,2\n2,20,four\n", mentions: ["train.csv:3:3:", "'y'", "\"four\""]),
        Case(name: "nan in a TRAIN feature", train: "x,z,y\n1,10,2\nnan,20,4\n", mentions: ["train.csv:3:1:", "finite"]),
        Case(name: "inf in a QUERY feature", query: "id,x,z\na,1.5,15\nb,2.5,-inf\n", mentions: ["query.csv:3:3:", "'z'", "finite"]),
        Case(name: "empty QUERY cell", query: "id,x,z\na,,15\n", mentions: ["query.csv:2:2:", "'x'"]),
        Case(name: "duplicate TRAIN column", train: "x,x,y\n1,10,2\n", mentions: ["train.csv:1:", "\"x\""]),
        Case(name: "duplicate QUERY column", query: "x,z,x\n1,2,3\n", mentions: ["query.csv:1:", "\"x\""]),
        Case(name: "unknown --target", extra: ["--target", "w"], mentions: ["train.csv:1:", "--target", "\"w\""]),
        Case(name: "zero bandwidth", bandwidth: "0", mentions: ["--bandwidth", "'0'"]),
        Case(name: "negative bandwidth", bandwidth: "-1", mentions: ["--bandwidth", "'-1'"]),
        Case(name: "infinite bandwidth", bandwidth: "inf", mentions: ["--bandwidth", "'inf'"]),
        Case(name: "nan bandwidth", bandwidth: "nan", mentions: ["--bandwidth", "'nan'"]),
        Case(name: "text bandwidth", bandwidth: "wide", mentions: ["--bandwidth", "'wide'"]),
        Case(name: "bandwidth list of wrong length", bandwidth: "1,2,3", mentions: ["--bandwidth", "train.csv", "3 values", "2 features"]),
        Case(name: "unknown kernel", kernel: "gausian", mentions: ["--kernel", "'gausian'", "epanechnikov"]),
        Case(name: "unknown form", extra: ["--form", "radiall"], mentions: ["--form", "'radiall'", "product"]),
        Case(name: "unknown policy", extra: ["--empty", "zero"], mentions: ["--empty", "'zero'", "nearest"]),
        Case(name: "QUERY missing a feature", query: "id,x\na,1\n", mentions: ["query.csv:1:", "\"z\"", "train.csv"]),
        Case(name: "ragged TRAIN row", train: "x,z,y\n1,10,2\n2,20\n", mentions: ["train.csv:3:", "2 fields"]),
        Case(name: "unterminated quote", query: "id,x,z\n\"a,1.5,15\n", mentions: ["query.csv:2:", "quote"]),
        Case(name: "only a target column", train: "y\n1\n2\n", mentions: ["train.csv:1:", "feature"]),
        Case(name: "--empty error", query: "id,x,z\na,1.5,20\nb,100,1000\n", extra: ["--empty", "error"], kernel: "boxcar",
             mentions: ["query.csv:3:", "support"]),
        Case(name: "zero threads", extra: ["--threads", "0"], mentions: ["--threads"]),
        Case(name: "missing --train", extra: ["--no-train"], mentions: ["--train"]),
        Case(name: "unknown option", extra: ["--bogus"], mentions: ["--bogus"]),
        // Version 2: local polynomials, sample weights, feature selection.
        Case(name: "negative sample weight", train: "x,z,w,y\n1,10,1,2\n2,20,-1,4\n", extra: ["--sample-weight", "w"],
             mentions: ["train.csv:3:3:", "'w'", "\"-1\""]),
        Case(name: "empty sample weight", train: "x,z,w,y\n1,10,,2\n", extra: ["--sample-weight", "w"], mentions: ["train.csv:2:3:", "'w'"]),
        Case(name: "text sample weight", train: "x,z,w,y\n1,10,abc,2\n", extra: ["--sample-weight", "w"],
             mentions: ["train.csv:2:3:", "\"abc\""]),
        Case(name: "infinite sample weight", train: "x,z,w,y\n1,10,inf,2\n", extra: ["--sample-weight", "w"],
             mentions: ["train.csv:2:3:", "finite"]),
        Case(name: "all sample weights zero", train: "x,z,w,y\n1,10,0,2\n2,20,0,3\n", extra: ["--sample-weight", "w"],
             mentions: ["train.csv:1:3:", "zero"]),
        Case(name: "unknown --sample-weight column", extra: ["--sample-weight", "q"], mentions: ["train.csv:1:", "--sample-weight", "\"q\""]),
        Case(name: "unknown --features column", extra: ["--features", "x,q"], mentions: ["train.csv:1:", "--features", "\"q\""]),
        Case(name: "a feature named twice", extra: ["--features", "x,x"], mentions: ["--features", "twice"]),
        Case(name: "the target as a feature", extra: ["--features", "x,y"], mentions: ["--features", "target", "\"y\""]),
        Case(name: "an empty feature name", extra: ["--features", "x,"], mentions: ["--features", "empty"]),
        Case(name: "degree out of range", extra: ["--degree", "4"], mentions: ["--degree", "4"]),
        Case(name: "degree not a number", extra: ["--degree", "one"], mentions: ["--degree", "'one'"]),
        Case(name: "degree with --classify", extra: ["--degree", "1", "--classify"], mentions: ["--degree", "--classify"]),
        Case(name: "derivatives with --classify", extra: ["--derivatives", "--classify"], mentions: ["--derivatives", "--classify"]),
        Case(name: "degree with --adaptive", extra: ["--degree", "1", "--adaptive"], mentions: ["--degree", "--adaptive"]),
        Case(name: "degree with --model", extra: ["--degree", "1", "--model", "m.json"], mentions: ["--model"]),
        Case(name: "interval level 1.5", extra: ["--interval", "1.5"], mentions: ["--interval", "1.5"]),
        Case(name: "interval level 0", extra: ["--interval", "0"], mentions: ["--interval", "between 0 and 1"]),
        Case(name: "interval not a number", extra: ["--interval", "wide"], mentions: ["--interval", "'wide'"]),
        Case(name: "se with --classify", extra: ["--se", "--classify"], mentions: ["--se", "--classify"]),
        Case(name: "interval with --model", extra: ["--interval", "0.9", "--model", "m.json"], mentions: ["--model", "cannot be combined"]),
        Case(name: "bootstrap alone", extra: ["--bootstrap", "99"], mentions: ["--bootstrap", "needs --interval or --se"]),
        Case(name: "bootstrap of 1", extra: ["--bootstrap", "1", "--se"], mentions: ["--bootstrap", "at least 2", "1"]),
        Case(name: "bootstrap not a number", extra: ["--bootstrap", "many", "--se"], mentions: ["--bootstrap", "'many'"]),
        Case(name: "simultaneous without bootstrap", extra: ["--interval", "0.9", "--band", "simultaneous"],
             mentions: ["--band", "needs --bootstrap"]),
        Case(name: "simultaneous without interval", extra: ["--se", "--bootstrap", "9", "--band", "simultaneous"],
             mentions: ["--band", "needs --interval"]),
        Case(name: "unknown band", extra: ["--interval", "0.9", "--band", "wide"], mentions: ["--band", "'wide'", "'pointwise' and 'simultaneous'"]),
        Case(name: "unknown multipliers", extra: ["--se", "--bootstrap", "9", "--bootstrap-weights", "normal"],
             mentions: ["--bootstrap-weights", "'normal'", "rademacher"]),
        Case(name: "negative seed", extra: ["--se", "--bootstrap", "9", "--seed", "-1"], mentions: ["--seed"]),
        Case(name: "summary with --classify", extra: ["--summary", "--classify"], mentions: ["--summary", "--classify"]),
        Case(name: "bootstrap with --adaptive", extra: ["--interval", "0.9", "--bootstrap", "9", "--adaptive"],
             mentions: ["--interval", "--adaptive"]),
    ]

    @Test("a bad input is one line on stderr, a non-zero exit, and no output", arguments: cases)
    func badInput(_ c: Case) throws {
        let scratch = try Scratch()
        try scratch.write("train.csv", c.train)
        try scratch.write("query.csv", c.query)
        try scratch.write("existing.csv", "precious\n")
        for output in ["existing.csv", "new.csv"] {
            var arguments = ["predict", "--train", "train.csv", "--query", "query.csv", "--kernel", c.kernel,
                             "--bandwidth", c.bandwidth, "--output", output, "--weights", "weights.csv"]
            if c.extra == ["--no-train"] {
                arguments.removeSubrange(1...2)
            } else {
                arguments += c.extra
            }
            let result = try NW.run(arguments, in: scratch.url)
            #expect(result.status != 0)
            #expect(result.stdout.isEmpty)
            #expect(result.stderrLines.count == 1, "stderr: \(result.stderr)")
            let line = String(result.stderrLines.first ?? "")
            #expect(line.hasPrefix("nw: "))
            for mention in c.mentions { #expect(line.contains(mention), "\(line) should mention \(mention)") }
            #expect(scratch.read("existing.csv") == "precious\n")
            #expect(!scratch.exists("new.csv"))
            #expect(!scratch.exists("weights.csv"))
            #expect(scratch.listing() == ["existing.csv", "query.csv", "train.csv"], "stray files: \(scratch.listing())")
        }
    }

    @Test("nw bandwidth errors are one line too")
    func bandwidthErrors() throws {
        let scratch = try Scratch()
        try scratch.write("train.csv", "x,y\n1,2\n1,3\n1,4\n")
        for (arguments, mention) in [
            (["bandwidth", "--train", "train.csv", "--method", "scot"], "--method"),
            (["bandwidth", "--train", "train.csv", "--method", "scott"], "train.csv:1:1:"),
            (["bandwidth", "--train", "missing.csv", "--method", "scott"], "missing.csv"),
            (["bandwidth", "--method", "scott"], "--train"),
        ] {
            let result = try NW.run(arguments, in: scratch.url)
            #expect(result.status != 0)
            #expect(result.stderrLines.count == 1, "\(result.stderr)")
            #expect(result.stderr.contains(mention), "\(result.stderr)")
        }
    }

    @Test("an unwritable --output fails before any work, naming the file")
    func unwritableOutput() throws {
        let scratch = try Scratch()
        try scratch.write("train.csv", Self.goodTrain)
        try scratch.write("query.csv", Self.goodQuery)
        let result = try NW.run(["predict", "--train", "train.csv", "--query", "query.csv", "--kernel", "gaussian",
                                 "--bandwidth", "1", "--output", "no/such/dir/out.csv"], in: scratch.url)
        #expect(result.status != 0)
        #expect(result.stderrLines.count == 1)
        #expect(result.stderr.contains("no/such/dir/out.csv"))
    }
}
