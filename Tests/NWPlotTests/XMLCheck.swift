import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// Parses `text` as XML; returns the parser's error, or nil when it is well formed. Also counts
/// elements by name.
func parseXML(_ text: String) -> (error: String?, counts: [String: Int]) {
    final class Counter: NSObject, XMLParserDelegate {
        var counts: [String: Int] = [:]
        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                    attributes: [String: String] = [:]) {
            counts[name, default: 0] += 1
        }
    }
    let parser = XMLParser(data: Data(text.utf8))
    let counter = Counter()
    parser.delegate = counter
    let ok = parser.parse()
    return (ok ? nil : (parser.parserError.map { "\($0)" } ?? "unknown error") + " at line \(parser.lineNumber)", counter.counts)
}

/// Compares `text` with the snapshot `name` in Tests/NWPlotTests/Snapshots (or re-records it when
/// NW_RECORD_SNAPSHOTS=1). Returns a description of the first difference, or nil.
func compareSnapshot(_ text: String, named name: String, directory: String = #filePath) -> String? {
    let folder = URL(fileURLWithPath: directory).deletingLastPathComponent().appendingPathComponent("Snapshots")
    let url = folder.appendingPathComponent(name)
    if ProcessInfo.processInfo.environment["NW_RECORD_SNAPSHOTS"] == "1" {
        try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try? Data(text.utf8).write(to: url)
        return nil
    }
    guard let recorded = try? String(contentsOf: url, encoding: .utf8) else {
        return "no snapshot \(name): run the tests with NW_RECORD_SNAPSHOTS=1 to record it"
    }
    if recorded == text { return nil }
    let a = recorded.split(separator: "\n", omittingEmptySubsequences: false)
    let b = text.split(separator: "\n", omittingEmptySubsequences: false)
    for (index, (x, y)) in zip(a, b).enumerated() where x != y {
        return "\(name) line \(index + 1) differs:\n  recorded: \(x)\n  now:      \(y)"
    }
    return "\(name): \(a.count) recorded lines, \(b.count) now"
}
