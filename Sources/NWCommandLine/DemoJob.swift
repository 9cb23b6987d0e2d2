#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NadarayaWatson

/// Everything `nw demo` was asked to do.
public struct DemoOptions: Sendable {
    public var outputDirectory = "nw-demo"
    public var seed: UInt64 = 0

    public init() {}
}

/// `nw demo`: every figure of both chapters as SVG, an index.html that shows them, and a short
/// summary on stdout. Each file is written atomically.
public enum DemoJob {
    public static func run(_ options: DemoOptions) throws {
        try Cluster.requireOneProcess("nw demo")
        let directory = options.outputDirectory
        try makeDirectory(directory)
        let chapter = ChapterFigures(seed: options.seed)
        let (figures, trained) = try chapter.all()
        // Claim every file before writing any, so an unwritable directory fails up front.
        let files = try (figures.map { "\($0.name).svg" } + ["index.html"]).map { try AtomicFile(path: "\(directory)/\($0)") }
        for (file, figure) in zip(files, figures) { try file.commit(Array(figure.svg.utf8)) }
        try files.last!.commit(Array(indexHTML(figures, seed: options.seed).utf8))

        var summary = "nw demo: \(figures.count) figures and index.html in \(directory)/ (seed \(options.seed))\n"
        for figure in figures { summary += "  \(figure.name).svg  \(figure.title)\n" }
        summary += "parametric attention pooling (5 SGD steps, lr 0.5): w = \(NumberFormat.roundTrip(trained.scales[0])), "
        summary += "h = 1/|w| = \(NumberFormat.roundTrip(trained.bandwidths[0]))\n"
        summary += "  leave-one-out loss by epoch: \(trained.history.map { NumberFormat.roundTrip($0.loss) }.joined(separator: ", "))\n"
        summary += "open \(directory)/index.html to see them all\n"
        try FileIO.writeStandardOutput(Array(summary.utf8))
    }

    /// Creates the directory (and its parents) unless it exists.
    static func makeDirectory(_ path: String) throws {
        guard !path.isEmpty else { throw CommandLineError.option("--out", "should be a directory path, but is \"\"") }
        var prefix = path.hasPrefix("/") ? "/" : ""
        for component in path.split(separator: "/") {
            prefix += component
            if mkdir(prefix, 0o777) != 0 && errno != EEXIST {
                throw CommandLineError.file(path, "cannot create directory: \(String(cString: strerror(errno)))", status: .cannotCreate)
            }
            prefix += "/"
        }
        var info = stat()
        guard stat(path, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else {
            throw CommandLineError.file(path, "cannot create directory: a file of that name exists", status: .cannotCreate)
        }
    }

    static func indexHTML(_ figures: [DemoFigure], seed: UInt64) -> String {
        var html = """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <title>Attention pooling: the figures of the chapters</title>
        <style>
        body { font-family: "DejaVu Sans", Helvetica, Arial, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #222; line-height: 1.45; }
        h1 { font-size: 1.6em; margin-bottom: 0.2em; }
        h2 { font-size: 1.15em; margin: 1.8em 0 0.3em; }
        figure { margin: 0; }
        figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
        figcaption { font-size: 0.92em; color: #444; max-width: 60em; }
        .note { color: #555; }
        </style>
        </head>
        <body>
        <h1>Attention pooling by similarity, and Nadaraya–Watson regression</h1>
        <p class="note">The figures of the two <i>Dive into Deep Learning</i> chapters, computed by <code>nw demo --seed \(seed)</code>
        on the chapters’ synthetic data: f(q) = Σᵢ vᵢ α(q, kᵢ) / Σⱼ α(q, kⱼ).</p>

        """
        for figure in figures {
            html += """
            <h2>\(escape(figure.title))</h2>
            <figure>
            <img src="\(figure.name).svg" alt="\(escape(figure.title))">
            <figcaption>\(escape(figure.caption))</figcaption>
            </figure>

            """
        }
        html += "</body>\n</html>\n"
        return html
    }

    static func escape(_ text: String) -> String {
        text.replacingAll("&", "&amp;").replacingAll("<", "&lt;").replacingAll(">", "&gt;").replacingAll("\"", "&quot;")
    }
}

extension String {
    func replacingAll(_ target: Character, _ replacement: String) -> String {
        var result = ""
        for character in self { if character == target { result += replacement } else { result.append(character) } }
        return result
    }
}
