import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing

/// Whether `text` is well-formed XML.
func isWellFormedXML(_ text: String) -> Bool {
    XMLParser(data: Data(text.utf8)).parse()
}

@Suite("FigureCommands")
struct FigureCommandTests {
    static let figures = ["kernel-shapes", "similarity-fits", "similarity-attention", "sigma-fits", "sigma-attention",
                          "average-pooling", "nonparametric-fit", "nonparametric-attention", "local-polynomial-fits", "confidence-bands", "parametric-loss",
                          "parametric-fit", "parametric-attention"]
    /// Figures kept as byte snapshots in Tests/NWCommandLineTests/Snapshots (seed 0); re-record
    /// with NW_RECORD_SNAPSHOTS=1 after an intended change, and look at them.
    static let snapshots = ["kernel-shapes.svg", "similarity-fits.svg", "parametric-attention.svg", "parametric-loss.svg",
                            "local-polynomial-fits.svg", "confidence-bands.svg", "index.html"]

    @Test("nw demo writes every figure and index.html, valid XML, the same bytes on every run")
    func demo() throws {
        let scratch = try Scratch()
        let first = try NW.run(["demo", "--out", scratch.path("a"), "--seed", "0"])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stderr.isEmpty)
        for name in Self.figures { #expect(first.stdout.contains("\(name).svg"), "\(name)") }
        #expect(first.stdout.contains("w = ") && first.stdout.contains("leave-one-out loss by epoch"))
        let listing = try FileManager.default.contentsOfDirectory(atPath: scratch.path("a")).sorted()
        #expect(listing == (Self.figures.map { "\($0).svg" } + ["index.html"]).sorted())
        let index = try #require(scratch.read("a/index.html"))
        for name in Self.figures {
            let svg = try #require(scratch.read("a/\(name).svg"))
            #expect(isWellFormedXML(svg), "\(name).svg is not well-formed XML")
            #expect(index.contains("src=\"\(name).svg\""), "index.html does not show \(name)")
        }
        // Determinism: a second run (into a nested, not yet existing directory) gives the same bytes.
        let second = try NW.run(["demo", "--out", scratch.path("b/c"), "--seed", "0"])
        #expect(second.status == 0)
        for name in Self.figures.map({ "\($0).svg" }) + ["index.html"] {
            #expect(scratch.read("a/\(name)") == scratch.read("b/c/\(name)"), "\(name) differs between runs")
        }
        // Another seed, other data.
        let other = try NW.run(["demo", "--out", scratch.path("d"), "--seed", "1"])
        #expect(other.status == 0)
        #expect(scratch.read("a/similarity-fits.svg") != scratch.read("d/similarity-fits.svg"))
        #expect(scratch.read("a/kernel-shapes.svg") == scratch.read("d/kernel-shapes.svg"))

        // The README's figures are this output.
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        for name in ["similarity-fits.svg", "sigma-attention.svg", "local-polynomial-fits.svg", "confidence-bands.svg"] {
            let committed = try? String(contentsOf: repository.appendingPathComponent("docs/figures/\(name)"), encoding: .utf8)
            #expect(committed == scratch.read("a/\(name)"), "docs/figures/\(name) is not nw demo's output: copy it from nw-demo/")
        }

        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Snapshots")
        for name in Self.snapshots {
            let now = try #require(scratch.read("a/\(name)"))
            let url = folder.appendingPathComponent(name)
            if ProcessInfo.processInfo.environment["NW_RECORD_SNAPSHOTS"] == "1" {
                try Data(now.utf8).write(to: url)
                continue
            }
            let recorded = try? String(contentsOf: url, encoding: .utf8)
            #expect(recorded == now, "\(name) differs from its snapshot; if intended, re-record with NW_RECORD_SNAPSHOTS=1")
        }
    }

    @Test("nw demo into a path that is a file: one line, non-zero exit")
    func demoIntoFile() throws {
        let scratch = try Scratch()
        let file = try scratch.write("taken", "x")
        let result = try NW.run(["demo", "--out", file])
        #expect(result.status != 0)
        #expect(result.stderrLines.count == 1 && result.stderr.hasPrefix("nw: \(file): cannot create directory"), "\(result.stderr)")
        let empty = try NW.run(["demo", "--out", ""])
        #expect(empty.status != 0 && empty.stderrLines == ["nw: --out: should be a directory path, but is \"\""], "\(empty.stderr)")
    }

    @Test("nw plot: fit and heatmap as valid SVG, written atomically")
    func plot() throws {
        let scratch = try Scratch()
        let train = NW.fixture("mcycle.csv")
        let grid = "times,truth\n" + (0..<60).map { "\(Double($0)),\(Double($0) / 10)" }.joined(separator: "\n") + "\n"
        let query = try scratch.write("grid.csv", grid)
        let result = try NW.run(["plot", "--train", train, "--query", query, "--kernel", "gaussian", "--bandwidth", "silverman",
                                 "--truth", "truth", "--heatmap", "--output", scratch.path("fit.svg")])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.isEmpty && result.stderr.isEmpty)
        let svg = try #require(scratch.read("fit.svg"))
        #expect(isWellFormedXML(svg))
        #expect(svg.contains("gaussian kernel, h = ") && svg.contains("attention weights") && svg.contains(">truth</text>"))
        #expect(svg.contains("linearGradient"))
        #expect(scratch.listing() == ["fit.svg", "grid.csv"])

        let plain = try NW.run(["plot", "--train", train, "--query", train, "--kernel", "epanechnikov", "--bandwidth", "2",
                                "--output", scratch.path("plain.svg")])
        #expect(plain.status == 0, "\(plain.stderr)")
        let plainSVG = try #require(scratch.read("plain.svg"))
        #expect(isWellFormedXML(plainSVG) && !plainSVG.contains("linearGradient"))
    }

    @Test("nw plot --interval draws the band under the fit: asymptotic, bootstrap, simultaneous")
    func plotBand() throws {
        let scratch = try Scratch()
        let train = NW.fixture("mcycle.csv")
        let grid = "times\n" + (0..<30).map { "\(Double($0) * 2)" }.joined(separator: "\n") + "\n"
        let query = try scratch.write("grid.csv", grid)
        for (extra, label) in [([String](), "90% band"), (["--bootstrap", "99"], "90% bootstrap band"),
                               (["--bootstrap", "99", "--band", "simultaneous"], "90% simultaneous band")] {
            let result = try NW.run(["plot", "--train", train, "--query", query, "--kernel", "gaussian", "--bandwidth", "2",
                                     "--degree", "1", "--interval", "0.9", "--output", scratch.path("band.svg")] + extra)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stderr.hasPrefix("nw: note: noise: σ̂ = "))
            let svg = try #require(scratch.read("band.svg"))
            #expect(isWellFormedXML(svg))
            #expect(svg.components(separatedBy: "<polygon").count == 2, "one band polygon")
            #expect(svg.contains(">\(label)</text>"), "\(label)")
        }
        let bad = try NW.run(["plot", "--train", train, "--query", query, "--kernel", "gaussian", "--bandwidth", "2",
                              "--bootstrap", "99", "--output", scratch.path("bad.svg")])
        #expect(bad.status != 0 && bad.stderrLines == ["nw: --bootstrap: needs --interval or --se (it resamples to give them)"], "\(bad.stderr)")
        #expect(!scratch.exists("bad.svg"))
    }

    @Test("nw plot with several features needs --feature; bad --feature and --truth name the file")
    func plotErrors() throws {
        let scratch = try Scratch()
        let train = try scratch.write("train.csv", "a,b,y\n0,1,2\n1,2,3\n2,0,1\n")
        let query = try scratch.write("query.csv", "a,b\n0.5,1\n1.5,1\n")
        let out = scratch.path("out.svg")
        let missing = try NW.run(["plot", "--train", train, "--query", query, "--kernel", "gaussian", "--bandwidth", "1", "--output", out])
        #expect(missing.status != 0)
        #expect(missing.stderrLines == ["nw: --feature: is required: \(train) has 2 features (\"a\", \"b\"); say which one to plot along the x axis"],
                "\(missing.stderr)")
        let wrong = try NW.run(["plot", "--train", train, "--query", query, "--kernel", "gaussian", "--bandwidth", "1", "--feature", "c", "--output", out])
        #expect(wrong.stderrLines == ["nw: \(train):1: has no feature column \"c\" for --feature (features: \"a\", \"b\")"], "\(wrong.stderr)")
        let truth = try NW.run(["plot", "--train", train, "--query", query, "--kernel", "gaussian", "--bandwidth", "1", "--feature", "b",
                                "--truth", "t", "--output", out])
        #expect(truth.stderrLines == ["nw: \(query):1: has no column \"t\" for --truth (columns: \"a\", \"b\")"], "\(truth.stderr)")
        #expect(!scratch.exists("out.svg"))
        #expect(scratch.listing() == ["query.csv", "train.csv"])

        let ok = try NW.run(["plot", "--train", train, "--query", query, "--kernel", "gaussian", "--bandwidth", "1", "--feature", "b", "--output", out])
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(isWellFormedXML(try #require(scratch.read("out.svg"))))
    }
}
