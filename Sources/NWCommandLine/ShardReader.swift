#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NadarayaWatson

// Legend: P ranks, r this rank, oᵣ = start + r·L/P the byte where chunk r begins (L bytes of
// data), sᵣ the first record that begins at or after oᵣ: rank r's shard is [sᵣ, sᵣ₊₁).
//
// Implementation goals, in order of priority:
// 1. The same rows, bytes and line numbers as the one-process reader: a chunk's parse state at
//    oᵣ is not known locally (a quoted field may span chunks), so every rank runs the CSV
//    reader's state machine over its chunk from each of the six states it could start in; the
//    ranks exchange the six (end state, line breaks, first record start) triples and compose
//    them in order from the data's start, which is exact however long a quoted field is.
// 2. Each rank reads only its chunk and its shard (pread), never the whole file.
// 3. A shard is parsed by `CSVTable` itself, behind the header, with its first line's number
//    in the whole file: every one-line error names the right line.

/// TRAIN split across the ranks of a ``Cluster``: each rank reads its own byte range.
enum ShardReader {
    /// This rank's rows of a CSV TRAIN and where they sit in the file.
    struct CSVShard {
        let table: CSVTable
        /// Rows before this shard, and in the whole file.
        let firstRow: Int
        let totalRows: Int
    }

    /// The CSV reader's states between bytes (see `CSVTable`): at a field's start after a
    /// delimiter, at a record's start, inside an unquoted field, inside a quoted field, just
    /// after a quote inside a quoted field, just after a CR that ended a record.
    enum State: Int, CaseIterable {
        case fieldStart, recordStart, unquoted, quoted, quoteInQuoted, afterCR
    }

    /// One chunk scanned from one start state.
    struct Scan: Equatable {
        var end: State
        var lineBreaks: Int
        /// The absolute offset of the first record start in the chunk, and the line breaks
        /// before it (nil: no record starts in the chunk).
        var firstRecordStart: Int?
        var lineBreaksBefore: Int
    }

    /// Runs the state machine over `bytes` (which begin at absolute `offset`) from `state`,
    /// noting the first record start at or after `searchFrom`.
    static func scan(_ bytes: UnsafeBufferPointer<UInt8>, offset: Int, from state: State, delimiter: UInt8,
                     searchFrom: Int = 0) -> Scan {
        let quote = UInt8(ascii: "\""), lf = UInt8(ascii: "\n"), cr = UInt8(ascii: "\r")
        var s = state, lines = 0
        var first: Int?, before = 0
        for (k, b) in bytes.enumerated() {
            if first == nil, offset + k >= searchFrom, s == .recordStart || (s == .afterCR && b != lf) {
                first = offset + k
                before = lines
            }
            switch s {
            case .fieldStart, .recordStart, .unquoted, .afterCR:
                if s == .afterCR && b == lf { s = .recordStart; continue }
                let atStart = s != .unquoted
                if atStart && b == quote { s = .quoted }
                else if b == delimiter { s = .fieldStart }
                else if b == lf { s = .recordStart; lines += 1 }
                else if b == cr { s = .afterCR; lines += 1 }
                else { s = .unquoted }
            case .quoted:
                if b == quote { s = .quoteInQuoted } else if b == lf { lines += 1 }
            case .quoteInQuoted:
                if b == quote { s = .quoted }
                else if b == delimiter { s = .fieldStart }
                else if b == lf { s = .recordStart; lines += 1 }
                else if b == cr { s = .afterCR; lines += 1 }
                else { s = .unquoted }  // text after a closing quote: the shard's parse reports it
            }
        }
        return Scan(end: s, lineBreaks: lines, firstRecordStart: first, lineBreaksBefore: before)
    }

    /// Reads this rank's shard of the CSV file at `path`.
    ///
    /// - Throws: ``CommandLineError`` as the one-process reader would, for the shard's rows;
    ///   `.noInput` if the file cannot be read.
    /// - Complexity: O(L/P) bytes read and scanned six times per rank, O(P) exchanged.
    static func csv(_ path: String, delimiter: UInt8, cluster: Cluster) throws -> CSVShard {
        // Local work first, then the exchange: no rank waits in a collective for a failed one.
        let prepared = try cluster.agree { try prepare(path, delimiter: delimiter, rank: cluster.rank, size: cluster.size) }
        let file = prepared.file, header = prepared.header, headerLines = prepared.headerLines, end = prepared.end
        defer { file.close() }
        let P = cluster.size, r = cluster.rank
        let all = cluster.allGather(prepared.scans), entries = 4 * State.allCases.count
        // Compose in rank order from the data's start (a record start on line 1 + header lines).
        var state = State.recordStart, line = 1 + headerLines
        var starts = [Int](repeating: -1, count: P + 1), startLines = [Int](repeating: 0, count: P + 1)
        for q in 0..<P {
            let base = q * entries + 4 * state.rawValue
            if all[base + 2] >= 0 {
                starts[q] = Int(all[base + 2])
                startLines[q] = line + Int(all[base + 3])
            }
            line += Int(all[base + 1])
            state = State(rawValue: Int(all[base]))!
        }
        starts[P] = end
        startLines[P] = line
        for q in (0..<P).reversed() where starts[q] < 0 {
            (starts[q], startLines[q]) = (starts[q + 1], startLines[q + 1])
        }
        let table = try cluster.agree {
            let shard = try file.read(starts[r], starts[r + 1] - starts[r])
            return try CSVTable(bytes: header + shard, file: path, delimiter: delimiter,
                                lineOffset: startLines[r] - (1 + headerLines), stripsTrailingLineBreaks: false)
        }
        let counts = cluster.allGather([Int64(table.rowCount)])
        return CSVShard(table: table, firstRow: Int(counts[..<r].reduce(0, +)), totalRows: Int(counts.reduce(0, +)))
    }

    /// What a rank finds alone: the header, where the data end, and its chunk's six scans.
    struct Prepared {
        let file: RangeFile
        let header: [UInt8]
        let headerLines: Int
        let end: Int
        let scans: [Int64]
    }

    static func prepare(_ path: String, delimiter: UInt8, rank r: Int, size P: Int) throws -> Prepared {
        let file = try RangeFile(path)
        // The header record (every rank reads it: it is short) and the data's first line.
        var headerEnd = 0, headerLines = 0, window = 1 << 16
        let bom: [UInt8] = [0xEF, 0xBB, 0xBF]
        while true {
            let head = try file.read(0, min(window, file.size))
            let start = head.starts(with: bom) ? 3 : 0
            // The header ends where the second record starts (the first is the file's start).
            let scanned = head.withUnsafeBufferPointer {
                scan(UnsafeBufferPointer(rebasing: $0[start...]), offset: start, from: .recordStart, delimiter: delimiter,
                     searchFrom: start + 1)
            }
            if let second = scanned.firstRecordStart {
                headerEnd = second
                headerLines = scanned.lineBreaksBefore
                break
            }
            if head.count == file.size {
                // The header is the whole file (or it ends in an unterminated quote).
                headerEnd = file.size
                headerLines = scanned.lineBreaks
                break
            }
            window *= 4
        }
        let header = try file.read(0, headerEnd)
        // Trailing line breaks are empty lines, as for the whole file.
        var end = file.size
        while end > headerEnd {
            let tail = try file.read(max(headerEnd, end - 4096), end - max(headerEnd, end - 4096))
            var k = tail.count
            while k > 0, tail[k - 1] == UInt8(ascii: "\n") || tail[k - 1] == UInt8(ascii: "\r") { k -= 1 }
            end -= tail.count - k
            if k > 0 { break }
        }
        let length = max(0, end - headerEnd)
        func chunkStart(_ r: Int) -> Int { headerEnd + Int((Double(length) * Double(r) / Double(P)).rounded(.down)) }
        let lo = chunkStart(r), hi = r + 1 == P ? end : chunkStart(r + 1)
        let chunk = try file.read(lo, hi - lo)
        var scans: [Int64] = []
        chunk.withUnsafeBufferPointer { bytes in
            for state in State.allCases {
                let s = scan(bytes, offset: lo, from: state, delimiter: delimiter)
                scans += [Int64(s.end.rawValue), Int64(s.lineBreaks), Int64(s.firstRecordStart ?? -1), Int64(s.lineBreaksBefore)]
            }
        }
        return Prepared(file: file, header: header, headerLines: headerLines, end: end, scans: scans)
    }
}

extension ShardReader {
    /// Rows lo..<hi (of n, by rank) of a .npy array of shape (n,) or (n, k), read by byte ranges
    /// (C order: one range; Fortran order: one per column), decoded as the whole file would be,
    /// errors naming the element's position in the whole array.
    ///
    /// - Returns: the shard's array (shape (hi − lo,) or (hi − lo, k)) and the whole shape.
    static func npyRows(_ path: String, rank: Int, size: Int) throws -> (array: NPYArray, wholeShape: [Int]) {
        let file = try RangeFile(path)
        defer { file.close() }
        // The header: its length is in bytes 8..<12 at most.
        let start = try file.read(0, min(file.size, 12))
        var prefix = start
        if start.count >= 10, start.starts(with: NPYFile.magic) {
            let lengthSize = start[6] == 1 ? 2 : 4
            var length = 0
            for b in 0..<lengthSize where 8 + b < start.count { length |= Int(start[8 + b]) << (8 * b) }
            prefix = try file.read(0, min(file.size, 8 + lengthSize + length))
        }
        let layout = try NPYFile.layout(prefix, file: path, fileSize: file.size)
        let shape = layout.header.shape
        guard (1...2).contains(shape.count) else {
            throw CommandLineError.file(path, "should have shape (n,) or (n, d), but has shape \(NPYFile.tupleText(shape))")
        }
        let n = shape[0], width = shape.count == 2 ? shape[1] : 1, item = layout.dtype.itemSize
        let lo = n * rank / size, hi = n * (rank + 1) / size, rows = hi - lo
        var data: [UInt8] = []
        if layout.header.fortranOrder && shape.count == 2 {
            for j in 0..<width { data += try file.read(layout.dataStart + (j * n + lo) * item, rows * item) }
        } else {
            data = try file.read(layout.dataStart + lo * width * item, rows * width * item)
        }
        let local = shape.count == 2 ? [rows, width] : [rows]
        let elements = try data.withUnsafeBytes {
            try NPYFile.decode($0, dtype: layout.dtype, count: rows * width, shape: local, fortranOrder: layout.header.fortranOrder,
                               file: path, firstRow: lo, wholeShape: shape)
        }
        return (NPYArray(shape: local, elements: elements), shape)
    }
}

/// A file read by byte ranges (pread), so that a rank holds only what it needs.
final class RangeFile {
    let path: String
    let size: Int
    private let descriptor: Int32

    init(_ path: String) throws {
        guard path != FileIO.standardStreamName else {
            throw CommandLineError.option("--train", "cannot read standard input under mpirun (every rank reads its own byte range): give a file")
        }
        self.path = path
        descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else {
            throw CommandLineError.file(path, "cannot open: \(String(cString: strerror(errno)))", status: .noInput)
        }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else {
            closeDescriptor(descriptor)
            throw CommandLineError.file(path, "cannot read: \(String(cString: strerror(errno)))", status: .noInput)
        }
        size = Int(info.st_size)
    }

    /// `count` bytes from `offset`.
    func read(_ offset: Int, _ count: Int) throws -> [UInt8] {
        guard count > 0 else { return [] }
        return try [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            var done = 0
            while done < count {
                let got = pread(descriptor, buffer.baseAddress! + done, count - done, off_t(offset + done))
                if got < 0 {
                    if errno == EINTR { continue }
                    throw CommandLineError.file(path, "cannot read: \(String(cString: strerror(errno)))", status: .noInput)
                }
                if got == 0 { break }
                done += got
            }
            initialized = done
        }
    }

    func close() { closeDescriptor(descriptor) }
}

private func closeDescriptor(_ descriptor: Int32) { close(descriptor) }
