import Foundation
import Testing

/// Runs the real `nw` binary, built next to this test bundle.
struct NW {
    /// $NW_BINARY when set (the portable build runs this corpus), else the build's own `nw`.
    static let binary: URL = ProcessInfo.processInfo.environment["NW_BINARY"].map { URL(fileURLWithPath: $0) }
        ?? Bundle.module.bundleURL.deletingLastPathComponent().appendingPathComponent("nw")

    struct Result {
        let status: Int32
        let stdout: String
        let stderr: String
        var stderrLines: [Substring] { stderr.split(separator: "\n", omittingEmptySubsequences: false).dropLast() }
    }

    static func run(_ arguments: [String], in directory: URL? = nil, stdin: String? = nil) throws -> Result {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        let out = Pipe(), err = Pipe(), input = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input
        try process.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try input.fileHandleForWriting.close()
        // Read both pipes before waiting, so a large output cannot block the child.
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationReason == .exit, "nw \(arguments) died from a signal")
        return Result(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                      stderr: String(decoding: errData, as: UTF8.self))
    }

    static func fixture(_ name: String) -> String {
        Bundle.module.url(forResource: "Fixtures/\(name)", withExtension: nil)!.path
    }
}

/// A fresh temporary directory with helpers to write and read files; removed on deinit.
final class Scratch {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("nw-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    @discardableResult
    func write(_ name: String, _ text: String) throws -> String {
        let path = url.appendingPathComponent(name).path
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    func read(_ name: String) -> String? {
        (try? Data(contentsOf: url.appendingPathComponent(name))).map { String(decoding: $0, as: UTF8.self) }
    }

    func exists(_ name: String) -> Bool { FileManager.default.fileExists(atPath: path(name)) }

    /// Every file in the directory, to check that nothing stray (temporary files) was left.
    func listing() -> [String] { ((try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []).sorted() }
}

extension NW {
    /// Writes `files` (name: text) into a fresh scratch directory and runs nw there.
    static func run(_ arguments: [String], files: [String: String]) throws -> (result: Result, scratch: Scratch) {
        let scratch = try Scratch()
        for (name, text) in files { try scratch.write(name, text) }
        return (try run(arguments, in: scratch.url), scratch)
    }
}

/// Parses simple CSV output (no quoted fields) into rows of fields.
func csvRows(_ text: String) -> [[String]] {
    text.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
}
