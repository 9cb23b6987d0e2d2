#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Whole-file reads and atomic writes, with errors naming the file.
enum FileIO {
    /// The display name of standard input/output.
    static let standardStreamName = "-"

    /// Reads a whole file (or standard input for "-").
    static func read(_ path: String) throws -> [UInt8] {
        let fd = path == standardStreamName ? 0 : open(path, O_RDONLY)
        guard fd >= 0 else {
            throw CommandLineError.file(path, "cannot open: \(String(cString: strerror(errno)))")
        }
        defer { if fd != 0 { close(fd) } }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw CommandLineError.file(path, "cannot read: \(String(cString: strerror(errno)))")
            }
            if count == 0 { break }
            bytes.append(contentsOf: chunk[0..<count])
        }
        return bytes
    }

    /// Writes bytes to standard output.
    static func writeStandardOutput(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let count = write(1, buffer.baseAddress! + offset, buffer.count - offset)
                if count < 0 {
                    if errno == EINTR { continue }
                    throw CommandLineError.file("<stdout>", "cannot write: \(String(cString: strerror(errno)))")
                }
                offset += count
            }
        }
    }
}

/// A file that appears at its path only when committed: the bytes go to a temporary file in the
/// same directory, renamed over the target on success, removed on failure. So a failed run
/// neither creates nor changes the target.
final class AtomicFile {
    let path: String
    private let temporaryPath: String
    private var committed = false

    /// Creates the temporary file now, so an unwritable destination fails before any work.
    init(path: String) throws {
        self.path = path
        let slash = path.lastIndex(of: "/")
        let directory = slash.map { String(path[...$0]) } ?? ""
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        temporaryPath = "\(directory).\(name).nw-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).tmp"
        let fd = open(temporaryPath, O_WRONLY | O_CREAT | O_EXCL, 0o666)
        guard fd >= 0 else {
            throw CommandLineError.file(path, "cannot create: \(String(cString: strerror(errno)))")
        }
        close(fd)
    }

    /// Writes `bytes` and renames the temporary file over the target.
    func commit(_ bytes: [UInt8]) throws {
        guard let file = fopen(temporaryPath, "wb") else {
            throw CommandLineError.file(path, "cannot write: \(String(cString: strerror(errno)))")
        }
        let written = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
        let closed = fclose(file)
        guard written == bytes.count, closed == 0 else {
            throw CommandLineError.file(path, "cannot write: \(String(cString: strerror(errno)))")
        }
        guard rename(temporaryPath, path) == 0 else {
            throw CommandLineError.file(path, "cannot replace: \(String(cString: strerror(errno)))")
        }
        committed = true
    }

    deinit {
        if !committed { unlink(temporaryPath) }
    }
}

/// The one place the tool writes to stderr.
public enum StandardError {
    /// Writes `line` and a newline to standard error, unbuffered.
    public static func writeLine(_ line: String) {
        write(line + "\n")
    }

    /// Writes `text` to standard error, unbuffered.
    public static func write(_ text: String) {
        let bytes = Array(text.utf8)
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let count = Glibc.write(2, buffer.baseAddress! + offset, buffer.count - offset)
                if count <= 0 { if errno == EINTR { continue } else { return } }
                offset += count
            }
        }
    }
}
