import NadarayaWatson

/// A NumPy .npy array as read: its shape and its elements in C (row-major) order.
///
/// Numbers of every supported dtype (float64, float32, integers, bool) arrive as `Double`s, so
/// the rest of the tool needs one numeric path; Unicode arrays arrive as `String`s.
struct NPYArray: Sendable, Equatable {
    /// The elements, in C order whatever the file's order.
    enum Elements: Sendable, Equatable {
        case numbers([Double])
        case labels([String])
    }

    /// The dimensions; `[]` for a scalar (rank 0).
    let shape: [Int]
    let elements: Elements

    /// The array as an n × d matrix: shape (n, d), or (n,) as n × 1. Throws a one-line file error
    /// for another rank or for labels.
    ///
    /// - Parameters:
    ///   - file: the name used in error messages.
    /// - Returns: the matrix, row-major as the elements are.
    /// - Throws: ``CommandLineError`` (`.dataError`) for a rank other than 1 or 2, or for labels.
    /// - Complexity: O(1); the elements are shared, not copied.
    func matrix(file: String) throws -> Matrix {
        guard case .numbers(let numbers) = elements else {
            throw CommandLineError.file(file, "holds text labels, but numbers are needed")
        }
        switch shape.count {
        case 1: return Matrix(rows: shape[0], columns: 1, elements: numbers)
        case 2: return Matrix(rows: shape[0], columns: shape[1], elements: numbers)
        default:
            throw CommandLineError.file(
                file, "should have shape (n,) or (n, d), but has shape \(NPYFile.tupleText(shape))")
        }
    }
}

/// Reading and writing NumPy's .npy files (NEP 1, `numpy.lib.format`), versions 1.0 to 3.0.
///
/// The header is a Python dict literal; it is parsed by a small strict parser for exactly the
/// grammar NumPy writes (quoted strings, `True`/`False`, integer tuples), never evaluated, so a
/// hostile file can do no more than fail with a one-line message.
///
/// Multi-byte dtypes must be little-endian: `<`, or `=`/`|`/no byte-order character, which mean
/// native, and native is little-endian on every platform this package builds for.
enum NPYFile {
    /// The six bytes that open every .npy file.
    static let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)

    /// The alignment NumPy gives the data, so that they can be memory-mapped.
    static let alignment = 64

    /// Whether `path` names a .npy file, by its extension.
    ///
    /// - Parameters:
    ///   - path: a file path.
    /// - Returns: whether it ends in ".npy", in any case.
    static func isNPY(_ path: String) -> Bool {
        path.lowercased().hasSuffix(".npy")
    }

    /// Reads and parses a .npy file (or standard input for "-").
    ///
    /// - Parameters:
    ///   - path: the file path; also the name in error messages.
    /// - Returns: the array.
    /// - Throws: ``CommandLineError``: `.noInput` if the file cannot be read, else as ``parse(_:file:)``.
    /// - Complexity: O(file size).
    static func read(_ path: String) throws -> NPYArray {
        try parse(FileIO.read(path), file: path)
    }

    /// Parses the bytes of a .npy file.
    ///
    /// Float elements must be finite. A bad element is named by its 0-based index in C order and,
    /// for a 1-D or 2-D array, by its 1-based row and column, as the CSV errors count:
    /// `K.npy: element 17 (row 6, column 3) should be a finite number, but is nan`.
    ///
    /// - Parameters:
    ///   - bytes: the whole file.
    ///   - file: the name used in error messages.
    /// - Returns: the array, in C order even if the file is in Fortran order.
    /// - Throws: ``CommandLineError`` (`.dataError`), one line starting with `file`, for a missing
    ///   magic, an unsupported version or dtype, a malformed header, a data size that does not
    ///   match the shape, or a bad element (non-finite float, integer beyond 2⁵³, bool not 0 or 1,
    ///   invalid Unicode scalar).
    /// - Complexity: O(bytes.count), one pass over the data, no allocation per number.
    static func parse(_ bytes: [UInt8], file: String) throws -> NPYArray {
        let layout = try self.layout(bytes, file: file, fileSize: bytes.count)
        let elements = try bytes.withUnsafeBytes { whole in
            try decode(UnsafeRawBufferPointer(rebasing: whole[layout.dataStart...]), dtype: layout.dtype, count: layout.count,
                       shape: layout.header.shape, fortranOrder: layout.header.fortranOrder, file: file)
        }
        return NPYArray(shape: layout.header.shape, elements: elements)
    }

    /// Where a .npy file's array lies and what it holds.
    struct Layout {
        let header: Header
        let dtype: DType
        /// The data's first byte, and the element count.
        let dataStart: Int
        let count: Int
    }

    /// The header of a .npy file of `fileSize` bytes, from its first bytes (at least up to the
    /// end of the header, or the whole file), with the data size checked against the file's.
    ///
    /// - Throws: as ``parse(_:file:)``, for everything but the elements.
    static func layout(_ bytes: [UInt8], file: String, fileSize: Int) throws -> Layout {
        func fail(_ message: String) -> CommandLineError { CommandLineError.file(file, message) }

        guard bytes.count >= magic.count else {
            throw fail("is not a .npy file (\(bytes.count) byte\(bytes.count == 1 ? "" : "s"), "
                + "shorter than the 6-byte \\x93NUMPY magic)")
        }
        guard bytes.starts(with: magic) else { throw fail("is not a .npy file (no \\x93NUMPY magic)") }
        guard bytes.count >= 8 else { throw fail("is truncated: it ends before the .npy format version") }
        let major = bytes[6], minor = bytes[7]
        guard (1...3).contains(major), minor == 0 else {
            throw fail("has .npy format version \(major).\(minor); versions 1.0, 2.0 and 3.0 are supported")
        }
        // Version 1.0 has a 2-byte header length; 2.0 and 3.0 (for headers over 64 KiB) 4 bytes.
        let lengthSize = major == 1 ? 2 : 4
        let headerStart = 8 + lengthSize
        guard bytes.count >= headerStart else {
            throw fail("is truncated: it ends inside the .npy header length")
        }
        var headerLength = 0
        for b in 0..<lengthSize { headerLength |= Int(bytes[8 + b]) << (8 * b) }
        guard headerLength <= fileSize - headerStart else {
            throw fail("has a header length of \(headerLength) bytes, which runs past the end of the file "
                + "(\(fileSize) bytes)")
        }
        precondition(bytes.count >= headerStart + headerLength, "the header should be read whole")
        let dataStart = headerStart + headerLength
        var parser = HeaderParser(text: Array(bytes[headerStart..<dataStart]), file: file)
        let header = try parser.parse()
        let dtype = try DType(descr: header.descr, file: file)

        var count = 1
        for dimension in header.shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
            guard !overflow else {
                throw fail("has shape \(tupleText(header.shape)), whose element count overflows")
            }
            count = product
        }
        let (expected, overflow) = count.multipliedReportingOverflow(by: dtype.itemSize)
        guard !overflow else {
            throw fail("has shape \(tupleText(header.shape)), whose byte count overflows")
        }
        let actual = fileSize - dataStart
        guard actual == expected else {
            let why = actual < expected
                ? "the file is truncated" : "\(actual - expected) byte\(actual - expected == 1 ? "" : "s") follow the array"
            throw fail("data should be \(expected) bytes (\(count) element\(count == 1 ? "" : "s") of "
                + "\(dtype.itemSize) byte\(dtype.itemSize == 1 ? "" : "s") for shape \(tupleText(header.shape))), "
                + "but are \(actual): \(why)")
        }
        return Layout(header: header, dtype: dtype, dataStart: dataStart, count: count)
    }

    /// A version 1.0 .npy file of an m × p float64 matrix ('<f8', C order, shape (m, p)); header
    /// padded with spaces and ended with '\n' so that the data start at a multiple of 64 bytes, as
    /// NumPy writes.
    ///
    /// The header is byte for byte what `np.save` writes for the same array, including the spare
    /// spaces NumPy leaves so that the first dimension can grow in place.
    ///
    /// - Parameters:
    ///   - matrix: the matrix.
    /// - Returns: the file's bytes.
    /// - Complexity: O(m · p).
    static func encode(_ matrix: Matrix) -> [UInt8] {
        var header = Array("{'descr': '<f8', 'fortran_order': False, 'shape': \(tupleText([matrix.rows, matrix.columns])), }".utf8)
        // NumPy's GROWTH_AXIS_MAX_DIGITS: room for the first dimension to reach 21 digits.
        header += repeatElement(UInt8(ascii: " "), count: max(0, 21 - String(matrix.rows).utf8.count))
        // Then spaces and a final '\n' up to the alignment; NumPy pads a full 64 when already aligned.
        let unpadded = magic.count + 4 + header.count + 1
        header += repeatElement(UInt8(ascii: " "), count: alignment - unpadded % alignment)
        header.append(UInt8(ascii: "\n"))

        let dataStart = magic.count + 4 + header.count
        let elementCount = matrix.elements.count
        return [UInt8](unsafeUninitializedCapacity: dataStart + 8 * elementCount) { buffer, initialized in
            let raw = UnsafeMutableRawBufferPointer(buffer)
            var offset = 0
            for byte in magic + [1, 0, UInt8(header.count & 0xFF), UInt8(header.count >> 8)] + header {
                raw[offset] = byte
                offset += 1
            }
            matrix.elements.withUnsafeBufferPointer { elements in
                for (i, value) in elements.enumerated() {
                    raw.storeBytes(of: value.bitPattern.littleEndian, toByteOffset: dataStart + 8 * i, as: UInt64.self)
                }
            }
            initialized = dataStart + 8 * elementCount
        }
    }

    // MARK: - Header

    /// The three keys of a .npy header.
    struct Header {
        var descr: [UInt8]
        var fortranOrder: Bool
        var shape: [Int]
    }

    /// A strict recursive-descent parser for the header's dict literal:
    ///
    ///     dict  := '{' (entry (',' entry)* ','?)? '}'
    ///     entry := string ':' (string | 'True' | 'False' | tuple)
    ///     tuple := '(' ')' | '(' int ',' ')' | '(' int (',' int)+ ','? ')'
    ///
    /// with whitespace anywhere between tokens and after the dict. Strings are single- or
    /// double-quoted without escapes; ints are decimal with an optional sign (a negative one is
    /// reported as such) and an optional `L`, which Python 2 wrote. Offsets in messages are
    /// 0-based byte offsets into the header text (characters, for an ASCII header).
    struct HeaderParser {
        let text: [UInt8]
        let file: String
        var i = 0

        init(text: [UInt8], file: String) {
            self.text = text
            self.file = file
        }

        /// Parses the whole header.
        ///
        /// - Returns: the three keys' values.
        /// - Throws: ``CommandLineError`` for a syntax error, a duplicate, unknown or missing key, a
        ///   value of the wrong type, a structured dtype or a negative dimension.
        /// - Complexity: O(text.count).
        mutating func parse() throws -> Header {
            var descr: [UInt8]?, fortranOrder: Bool?, shape: [Int]?
            skipSpace()
            try expect(UInt8(ascii: "{"), "'{' to open the header dict")
            skipSpace()
            while peek != UInt8(ascii: "}") {
                let keyOffset = i
                let key = try string("a quoted key or '}'")
                skipSpace()
                try expect(UInt8(ascii: ":"), "':' after the key")
                skipSpace()
                func duplicate() -> CommandLineError {
                    CommandLineError.file(file, "has the key '\(NPYFile.display(key))' twice in its header")
                }
                switch String(decoding: key, as: UTF8.self) {
                case "descr":
                    guard descr == nil else { throw duplicate() }
                    if peek == UInt8(ascii: "[") {
                        throw CommandLineError.file(file, "dtype is structured (a list of fields), which is not supported "
                            + "(should be \(NPYFile.supportedKinds))")
                    }
                    descr = try string("a quoted dtype for 'descr'")
                case "fortran_order":
                    guard fortranOrder == nil else { throw duplicate() }
                    fortranOrder = try boolean()
                case "shape":
                    guard shape == nil else { throw duplicate() }
                    shape = try tuple()
                default:
                    throw CommandLineError.file(file, "has the unexpected key '\(NPYFile.display(key))' in its header "
                        + "at offset \(keyOffset) (should have only 'descr', 'fortran_order' and 'shape')")
                }
                skipSpace()
                if peek == UInt8(ascii: ",") {
                    i += 1
                    skipSpace()
                } else if peek != UInt8(ascii: "}") {
                    throw malformed("',' or '}' after a value")
                }
            }
            i += 1
            skipSpace()
            guard i == text.count else { throw malformed("only spaces after the closing '}'") }
            for (name, present) in [("descr", descr != nil), ("fortran_order", fortranOrder != nil), ("shape", shape != nil)]
            where !present {
                throw CommandLineError.file(file, "header has no '\(name)' key")
            }
            return Header(descr: descr!, fortranOrder: fortranOrder!, shape: shape!)
        }

        /// The byte at the cursor, nil at the end.
        var peek: UInt8? { i < text.count ? text[i] : nil }

        mutating func skipSpace() {
            // Python's whitespace between tokens: space, tab, newline, carriage return, form feed.
            while let c = peek, c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D || c == 0x0C { i += 1 }
        }

        mutating func expect(_ byte: UInt8, _ what: String) throws {
            guard peek == byte else { throw malformed(what) }
            i += 1
        }

        /// A one-line error saying what was expected at the cursor and what is there.
        func malformed(_ expected: String) -> CommandLineError {
            let found: String
            if let c = peek {
                // Quoted as Python's repr quotes a character, so that a quote reads as "'".
                if c == UInt8(ascii: "'") {
                    found = "\"'\""
                } else if c >= 0x20 && c < 0x7F {
                    found = "'\(Character(Unicode.Scalar(c)))'"
                } else {
                    found = "byte 0x\(NPYFile.hex(c))"
                }
            } else {
                found = "the end of the header"
            }
            return CommandLineError.file(file, "malformed .npy header at offset \(i): expected \(expected), but found \(found)")
        }

        /// A quoted string's bytes (not decoded: only ASCII keys and dtypes are ever accepted).
        mutating func string(_ what: String) throws -> [UInt8] {
            guard let quote = peek, quote == UInt8(ascii: "'") || quote == UInt8(ascii: "\"") else { throw malformed(what) }
            i += 1
            let start = i
            while let c = peek, c != quote {
                // Python's escapes are not needed for any key or dtype, and control characters
                // cannot appear in a one-line string literal.
                guard c != UInt8(ascii: "\\") else { throw malformed("a string without escape sequences") }
                guard c >= 0x20 else { throw malformed("a closing quote") }
                i += 1
            }
            guard peek == quote else { throw malformed("a closing quote") }
            i += 1
            return Array(text[start..<(i - 1)])
        }

        mutating func boolean() throws -> Bool {
            for (word, value) in [("True", true), ("False", false)] {
                let bytes = Array(word.utf8)
                if text[i...].starts(with: bytes) {
                    i += bytes.count
                    if let c = peek, isWordByte(c) { i -= bytes.count; break }
                    return value
                }
            }
            throw malformed("True or False for 'fortran_order'")
        }

        func isWordByte(_ c: UInt8) -> Bool {
            (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z")) || (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z"))
                || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9")) || c == UInt8(ascii: "_")
        }

        mutating func tuple() throws -> [Int] {
            try expect(UInt8(ascii: "("), "a tuple of integers for 'shape'")
            skipSpace()
            var dimensions: [Int] = []
            var sawComma = false
            while peek != UInt8(ascii: ")") {
                dimensions.append(try integer())
                skipSpace()
                if peek == UInt8(ascii: ",") {
                    i += 1
                    sawComma = true
                    skipSpace()
                } else {
                    sawComma = false
                    guard peek == UInt8(ascii: ")") else { throw malformed("',' or ')' in the shape") }
                }
            }
            // "(5)" is the integer 5 in Python, not a tuple.
            if dimensions.count == 1, !sawComma { throw malformed("',' after the only dimension, as in (5,)") }
            i += 1
            if let negative = dimensions.first(where: { $0 < 0 }) {
                throw CommandLineError.file(file, "has shape \(NPYFile.tupleText(dimensions)), whose dimension \(negative) "
                    + "is negative")
            }
            return dimensions
        }

        mutating func integer() throws -> Int {
            var negative = false
            if peek == UInt8(ascii: "-") || peek == UInt8(ascii: "+") {
                negative = peek == UInt8(ascii: "-")
                i += 1
            }
            guard let first = peek, first >= UInt8(ascii: "0"), first <= UInt8(ascii: "9") else {
                throw malformed("an integer dimension")
            }
            let start = i
            var value = 0
            while let c = peek, c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9") {
                let (times10, o1) = value.multipliedReportingOverflow(by: 10)
                let (sum, o2) = times10.addingReportingOverflow(Int(c - UInt8(ascii: "0")))
                guard !o1, !o2 else {
                    let digits = String(decoding: text[start...].prefix { $0 >= 0x30 && $0 <= 0x39 }, as: UTF8.self)
                    throw CommandLineError.file(file, "has a dimension \(negative ? "-" : "")\(digits) in its shape, "
                        + "which is too large")
                }
                value = sum
                i += 1
            }
            if peek == UInt8(ascii: "L") || peek == UInt8(ascii: "l") { i += 1 }
            return negative ? -value : value
        }
    }

    // MARK: - Data types

    /// The dtypes supported, for messages.
    static let supportedKinds = "float64, float32, integer, bool or Unicode"

    /// A supported element type.
    enum DType {
        case float64, float32
        case signed(bytes: Int)
        case unsigned(bytes: Int)
        case bool
        /// Unicode of `units` UTF-32 code units per element.
        case unicode(units: Int)

        /// Bytes per element.
        var itemSize: Int {
            switch self {
            case .float64: 8
            case .float32: 4
            case .signed(let bytes), .unsigned(let bytes): bytes
            case .bool: 1
            case .unicode(let units): 4 * units
            }
        }

        /// Parses a dtype string such as `<f8`, `|b1` or `<U5`.
        ///
        /// - Parameters:
        ///   - descr: the header's 'descr' string.
        ///   - file: the name used in error messages.
        /// - Throws: ``CommandLineError`` for an unsupported or big-endian dtype.
        init(descr: [UInt8], file: String) throws {
            let text = NPYFile.display(descr)
            let unsupported = CommandLineError.file(
                file, "dtype '\(text)' is not supported (should be \(NPYFile.supportedKinds))")
            var rest = descr[...]
            var order: UInt8? = nil
            if let c = rest.first, [UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: "="), UInt8(ascii: "|")].contains(c) {
                order = c
                rest = rest.dropFirst()
            }
            guard let kind = rest.first, rest.count >= 2, rest.dropFirst().allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
                  rest.count <= 10, let size = Int(String(decoding: rest.dropFirst(), as: UTF8.self)) else {
                throw unsupported
            }
            switch (kind, size) {
            case (UInt8(ascii: "f"), 8): self = .float64
            case (UInt8(ascii: "f"), 4): self = .float32
            case (UInt8(ascii: "i"), 1), (UInt8(ascii: "i"), 2), (UInt8(ascii: "i"), 4), (UInt8(ascii: "i"), 8):
                self = .signed(bytes: size)
            case (UInt8(ascii: "u"), 1), (UInt8(ascii: "u"), 2), (UInt8(ascii: "u"), 4), (UInt8(ascii: "u"), 8):
                self = .unsigned(bytes: size)
            case (UInt8(ascii: "b"), 1): self = .bool
            // U0 holds nothing; refusing it also keeps the element count bounded by the file size.
            case (UInt8(ascii: "U"), 1...(Int.max / 4)): self = .unicode(units: size)
            default: throw unsupported
            }
            // Byte order matters only for multi-byte code units.
            let unit: Int
            switch self {
            case .unicode: unit = 4
            default: unit = itemSize
            }
            if order == UInt8(ascii: ">"), unit > 1 {
                var little = descr
                little[0] = UInt8(ascii: "<")
                let floats: String
                switch self {
                case .float64, .float32: floats = " float64 or float32"
                default: floats = ""
                }
                throw CommandLineError.file(file, "dtype '\(text)' should be little-endian\(floats), but is big-endian "
                    + "(in NumPy: a.astype('\(NPYFile.display(little))'))")
            }
        }
    }

    // MARK: - Data

    /// Decodes `count` elements of `dtype` into C order.
    ///
    /// - Throws: ``CommandLineError`` for the first bad element in C order.
    /// - Complexity: O(count).
    /// - Parameters:
    ///   - firstRow: the rows of the whole array before these (a shard's), for error positions.
    ///   - wholeShape: the whole array's shape, for error positions (nil: `shape`).
    static func decode(_ data: UnsafeRawBufferPointer, dtype: DType, count: Int, shape: [Int], fortranOrder: Bool,
                       file: String, firstRow: Int = 0, wholeShape: [Int]? = nil) throws -> NPYArray.Elements {
        let rowWidth = shape.dropFirst().reduce(1, *)
        func bad(_ k: Int, _ problem: String) -> CommandLineError {
            CommandLineError.file(file, "\(position(k + firstRow * rowWidth, shape: wholeShape ?? shape)) \(problem)")
        }
        // The loops load each element unaligned (a .npy header need not align the data) and
        // write the output in order; no allocation per element.
        func numbers(_ load: (_ k: Int, _ source: Int) throws -> Double) rethrows -> NPYArray.Elements {
            let values = try [Double](unsafeUninitializedCapacity: count) { buffer, initialized in
                let out = buffer
                try forEachSource(count: count, shape: shape, fortranOrder: fortranOrder) { k, source in
                    out[k] = try load(k, source)
                }
                initialized = count
            }
            return .numbers(values)
        }
        // Integers beyond 2⁵³ would round silently as float64.
        let exactLimit: UInt64 = 1 << 53
        switch dtype {
        case .float64:
            return try numbers { k, source in
                let value = Double(bitPattern: UInt64(littleEndian: data.loadUnaligned(fromByteOffset: source &* 8, as: UInt64.self)))
                guard value.isFinite else { throw bad(k, "should be a finite number, but is \(nonFiniteText(value))") }
                return value
            }
        case .float32:
            return try numbers { k, source in
                let value = Float(bitPattern: UInt32(littleEndian: data.loadUnaligned(fromByteOffset: source &* 4, as: UInt32.self)))
                guard value.isFinite else { throw bad(k, "should be a finite number, but is \(nonFiniteText(Double(value)))") }
                return Double(value)
            }
        case .bool:
            return try numbers { k, source in
                let byte = data[source]
                guard byte <= 1 else { throw bad(k, "should be a bool (byte 0 or 1), but is byte \(byte)") }
                return Double(byte)
            }
        case .signed(bytes: 1):
            return numbers { Double(data.loadUnaligned(fromByteOffset: $1, as: Int8.self)) }
        case .signed(bytes: 2):
            return numbers { Double(Int16(littleEndian: data.loadUnaligned(fromByteOffset: $1 &* 2, as: Int16.self))) }
        case .signed(bytes: 4):
            return numbers { Double(Int32(littleEndian: data.loadUnaligned(fromByteOffset: $1 &* 4, as: Int32.self))) }
        case .signed:
            return try numbers { k, source in
                let value = Int64(littleEndian: data.loadUnaligned(fromByteOffset: source &* 8, as: Int64.self))
                guard value.magnitude <= exactLimit else {
                    throw bad(k, "is \(value), which float64 cannot hold exactly (|value| > 2^53)")
                }
                return Double(value)
            }
        case .unsigned(bytes: 1):
            return numbers { Double(data[$1]) }
        case .unsigned(bytes: 2):
            return numbers { Double(UInt16(littleEndian: data.loadUnaligned(fromByteOffset: $1 &* 2, as: UInt16.self))) }
        case .unsigned(bytes: 4):
            return numbers { Double(UInt32(littleEndian: data.loadUnaligned(fromByteOffset: $1 &* 4, as: UInt32.self))) }
        case .unsigned:
            return try numbers { k, source in
                let value = UInt64(littleEndian: data.loadUnaligned(fromByteOffset: source &* 8, as: UInt64.self))
                guard value <= exactLimit else {
                    throw bad(k, "is \(value), which float64 cannot hold exactly (|value| > 2^53)")
                }
                return Double(value)
            }
        case .unicode(let units):
            var labels: [String] = []
            labels.reserveCapacity(count)
            try forEachSource(count: count, shape: shape, fortranOrder: fortranOrder) { k, source in
                let start = source * 4 * units
                // NumPy pads shorter strings with NUL code units; they are not part of the text.
                var length = units
                while length > 0, data.loadUnaligned(fromByteOffset: start + 4 * (length - 1), as: UInt32.self) == 0 {
                    length -= 1
                }
                var label = ""
                label.unicodeScalars.reserveCapacity(length)
                for u in 0..<length {
                    let unit = UInt32(littleEndian: data.loadUnaligned(fromByteOffset: start + 4 * u, as: UInt32.self))
                    guard let scalar = Unicode.Scalar(unit) else {
                        throw bad(k, "holds 0x\(String(unit, radix: 16, uppercase: true)), which is not a Unicode scalar value")
                    }
                    label.unicodeScalars.append(scalar)
                }
                labels.append(label)
            }
            return .labels(labels)
        }
    }

    /// Calls `body(k, source)` for each C-order index `k` with the index `source` of that element
    /// in the file, in increasing `k`.
    ///
    /// A Fortran-order file varies axis 0 fastest; walking the C order (last axis fastest) with an
    /// odometer that steps `source` by each axis's Fortran stride transposes it in one pass, and
    /// finds the first bad element in C order, as NumPy would number it.
    ///
    /// - Complexity: O(count).
    @inline(__always)
    static func forEachSource(count: Int, shape: [Int], fortranOrder: Bool,
                              _ body: (_ k: Int, _ source: Int) throws -> Void) rethrows {
        guard fortranOrder, shape.count >= 2 else {
            for k in 0..<count { try body(k, k) }
            return
        }
        guard count > 0 else { return }
        // Strides cannot overflow: each is a product of dimensions, at most `count`.
        var strides = [Int](repeating: 1, count: shape.count)
        for axis in 1..<shape.count { strides[axis] = strides[axis - 1] * shape[axis - 1] }
        let last = shape.count - 1, inner = shape[last], innerStride = strides[last]
        var index = [Int](repeating: 0, count: shape.count)
        var base = 0, k = 0
        while true {
            var source = base
            for _ in 0..<inner {
                try body(k, source)
                k += 1
                source += innerStride
            }
            var axis = last - 1
            while axis >= 0 {
                index[axis] += 1
                base += strides[axis]
                if index[axis] < shape[axis] { break }
                base -= strides[axis] * shape[axis]
                index[axis] = 0
                axis -= 1
            }
            if axis < 0 { return }
        }
    }

    // MARK: - Text

    /// "element 17 (row 6, column 3)": the 0-based C-order index, and for 1-D and 2-D arrays the
    /// 1-based row and column, as in the CSV messages.
    static func position(_ k: Int, shape: [Int]) -> String {
        switch shape.count {
        case 1: "element \(k) (row \(k + 1))"
        case 2: "element \(k) (row \(k / shape[1] + 1), column \(k % shape[1] + 1))"
        default: "element \(k)"
        }
    }

    /// `nan`, `inf` or `-inf`, as NumPy prints them.
    static func nonFiniteText(_ value: Double) -> String {
        value.isNaN ? "nan" : value < 0 ? "-inf" : "inf"
    }

    /// A shape as Python writes a tuple: `()`, `(5,)`, `(2, 3)`.
    static func tupleText(_ shape: [Int]) -> String {
        shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
    }

    /// Header bytes for a message: printable ASCII as is, anything else as `\xNN`, so that a
    /// message stays one line whatever the file holds.
    static func display(_ bytes: [UInt8]) -> String {
        var text = ""
        for b in bytes {
            if b >= 0x20 && b < 0x7F {
                text.unicodeScalars.append(Unicode.Scalar(b))
            } else {
                text += "\\x" + hex(b)
            }
        }
        return text
    }

    /// Two upper-case hex digits.
    static func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789ABCDEF")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 0xF)]])
    }
}
