#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// read(2) and write(2) by the same name on Linux and macOS.
#if canImport(Glibc)
let readBytes: @Sendable (Int32, UnsafeMutableRawPointer?, Int) -> Int = Glibc.read
let writeBytes: @Sendable (Int32, UnsafeRawPointer?, Int) -> Int = Glibc.write
#else
let readBytes: @Sendable (Int32, UnsafeMutableRawPointer?, Int) -> Int = Darwin.read
let writeBytes: @Sendable (Int32, UnsafeRawPointer?, Int) -> Int = Darwin.write
#endif

/// The temporary files of uncommitted ``AtomicFile``s, removed if SIGINT, SIGTERM or SIGHUP
/// ends the run (then the process exits 128 + signal). The table is fixed C memory, so the
/// signal handler only reads pointers and calls unlink(2) and _exit(2), which are
/// async-signal-safe.
enum TemporaryFiles {
    static let capacity = 16
    nonisolated(unsafe) static let paths: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?> = {
        let table = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>.allocate(capacity: capacity)
        table.initialize(repeating: nil, count: capacity)
        return table
    }()
    nonisolated(unsafe) static var handlersInstalled = false

    /// Remembers `path` until ``remove(_:)``; returns its slot (nil when the table is full: the
    /// file is then only removed by the normal paths).
    static func add(_ path: String) -> Int? {
        installHandlers()
        guard let slot = (0..<capacity).first(where: { paths[$0] == nil }) else { return nil }
        let bytes = Array(path.utf8CString)
        let copy = UnsafeMutablePointer<CChar>.allocate(capacity: bytes.count)
        copy.initialize(from: bytes, count: bytes.count)
        paths[slot] = copy
        return slot
    }

    static func remove(_ slot: Int?) {
        guard let slot, let copy = paths[slot] else { return }
        paths[slot] = nil
        copy.deallocate()
    }

    /// Installs the handler for each of the signals that is not ignored (`nohup` ignores
    /// SIGHUP: that stays so), and unblocks them: a parent may have spawned us with them blocked
    /// (Foundation's Process does), which would leave an interrupt pending for ever.
    static func installHandlers() {
        guard !handlersInstalled else { return }
        handlersInstalled = true
        var unblocked = sigset_t()
        sigemptyset(&unblocked)
        for s in [SIGINT, SIGTERM, SIGHUP] {
            let previous = signal(s) { received in
                for slot in 0..<TemporaryFiles.capacity {
                    if let path = TemporaryFiles.paths[slot] { unlink(path) }
                }
                _exit(ExitStatus.signal(received))
            }
            // SIG_IGN is the handler address 1 on Linux and macOS.
            if let previous, unsafeBitCast(previous, to: Int.self) == 1 {
                signal(s, previous)
            } else {
                sigaddset(&unblocked, s)
            }
        }
        pthread_sigmask(SIG_UNBLOCK, &unblocked, nil)
    }
}

/// Whole-file reads and atomic writes, with errors naming the file.
enum FileIO {
    /// The display name of standard input/output.
    static let standardStreamName = "-"

    /// Reads a whole file (or standard input for "-").
    static func read(_ path: String) throws -> [UInt8] {
        let fd = path == standardStreamName ? 0 : open(path, O_RDONLY)
        guard fd >= 0 else {
            throw CommandLineError.file(path, "cannot open: \(String(cString: strerror(errno)))", status: .noInput)
        }
        defer { if fd != 0 { close(fd) } }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let count = chunk.withUnsafeMutableBytes { readBytes(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw CommandLineError.file(path, "cannot read: \(String(cString: strerror(errno)))", status: .noInput)
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
                let count = writeBytes(1, buffer.baseAddress! + offset, buffer.count - offset)
                if count < 0 {
                    if errno == EINTR { continue }
                    throw CommandLineError.file("<stdout>", "cannot write: \(String(cString: strerror(errno)))", status: .cannotCreate)
                }
                offset += count
            }
        }
    }
}

/// A file that appears at its path only when committed: the bytes go to a temporary file in the
/// same directory, renamed over the target on success, removed on failure. So a failed run
/// neither creates nor changes the target.
///
/// The path "-" is standard output: written on commit, nothing before.
final class AtomicFile {
    let path: String
    private let temporaryPath: String
    private var committed = false
    private var slot: Int?

    /// Creates the temporary file now, so an unwritable destination fails before any work.
    init(path: String) throws {
        self.path = path
        guard path != FileIO.standardStreamName else {
            temporaryPath = ""
            return
        }
        let slash = path.lastIndex(of: "/")
        let directory = slash.map { String(path[...$0]) } ?? ""
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        temporaryPath = "\(directory).\(name).nw-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).tmp"
        // Registered before it exists, so that a signal at any moment after the creation finds it.
        slot = TemporaryFiles.add(temporaryPath)
        let fd = open(temporaryPath, O_WRONLY | O_CREAT | O_EXCL, 0o666)
        guard fd >= 0 else {
            let reason = String(cString: strerror(errno))
            TemporaryFiles.remove(slot)
            slot = nil
            throw CommandLineError.file(path, "cannot create: \(reason)", status: .cannotCreate)
        }
        close(fd)
    }

    /// Writes `bytes` and renames the temporary file over the target.
    func commit(_ bytes: [UInt8]) throws {
        if path == FileIO.standardStreamName {
            try FileIO.writeStandardOutput(bytes)
            committed = true
            return
        }
        guard let file = fopen(temporaryPath, "wb") else {
            throw CommandLineError.file(path, "cannot write: \(String(cString: strerror(errno)))", status: .cannotCreate)
        }
        let written = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
        let closed = fclose(file)
        guard written == bytes.count, closed == 0 else {
            throw CommandLineError.file(path, "cannot write: \(String(cString: strerror(errno)))", status: .cannotCreate)
        }
        guard rename(temporaryPath, path) == 0 else {
            throw CommandLineError.file(path, "cannot replace: \(String(cString: strerror(errno)))", status: .cannotCreate)
        }
        committed = true
        TemporaryFiles.remove(slot)
    }

    deinit {
        if !committed && !temporaryPath.isEmpty { unlink(temporaryPath) }
        TemporaryFiles.remove(slot)
    }
}

/// The one place the tool writes to stderr.
public enum StandardError {
    /// Writes `line` and a newline to standard error, unbuffered.
    public static func writeLine(_ line: String) {
        write(line + "\n")
    }

    /// A note on a successful run (a CV score, a critical value, a summary): `nw: note: …`, so
    /// that scripts tell notes from errors (`nw: …` without `note:`, and a non-zero exit).
    public static func note(_ text: String) {
        guard notesEnabled else { return }
        writeLine("nw: note: " + CommandLineError.oneLine(text))
    }

    /// Off only in the fuzzing harness, which runs millions of inputs in one process.
    nonisolated(unsafe) public static var notesEnabled = true

    /// Writes `text` to standard error, unbuffered.
    public static func write(_ text: String) {
        let bytes = Array(text.utf8)
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let count = writeBytes(2, buffer.baseAddress! + offset, buffer.count - offset)
                if count <= 0 { if errno == EINTR { continue } else { return } }
                offset += count
            }
        }
    }
}
