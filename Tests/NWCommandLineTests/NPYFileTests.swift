import Foundation
import NadarayaWatson
import Testing
@testable import NWCommandLine

/// A .npy file written out by hand (independently of `NPYFile.encode`): magic, version, the
/// header padded to 64 bytes as NumPy pads it, then `payload`.
func npyBytes(header: String, payload: [UInt8], version: UInt8 = 1) -> [UInt8] {
    var text = Array(header.utf8)
    let lengthSize = version == 1 ? 2 : 4
    let unpadded = 6 + 2 + lengthSize + text.count + 1
    text += Array(repeating: UInt8(ascii: " "), count: (64 - unpadded % 64) % 64)
    text.append(UInt8(ascii: "\n"))
    var bytes = NPYFile.magic + [version, 0]
    for b in 0..<lengthSize { bytes.append(UInt8((text.count >> (8 * b)) & 0xFF)) }
    return bytes + text + payload
}

/// Little-endian bytes of `values`.
func littleEndian<T: FixedWidthInteger>(_ values: [T]) -> [UInt8] {
    values.flatMap { v in withUnsafeBytes(of: v.littleEndian) { Array($0) } }
}

func float64Payload(_ values: [Double]) -> [UInt8] { littleEndian(values.map(\.bitPattern)) }
func float32Payload(_ values: [Float]) -> [UInt8] { littleEndian(values.map(\.bitPattern)) }

@Suite("NPYFile")
struct NPYFileTests {
    @Test("encode is byte for byte what np.save writes (NumPy 2.4.6: np.save(f, np.zeros((3, 2))))")
    func encodeMatchesNumPy() {
        // The first 128 bytes of NumPy's file, printed by Python: magic, version 1.0, header
        // length 0x76, the dict, spaces, '\n'.
        let numpyHeader = "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 2), }"
            + String(repeating: " ", count: 58) + "\n"
        let bytes = NPYFile.encode(Matrix(rows: 3, columns: 2, repeating: 0))
        #expect(bytes.count == 176)
        #expect(Array(bytes[0..<10]) == NPYFile.magic + [1, 0, 0x76, 0])
        #expect(Array(bytes[10..<128]) == Array(numpyHeader.utf8))
    }

    @Test("float64 round trips bit for bit, subnormals, −0 and extremes included")
    func roundTrip() throws {
        var rng = SystemRandomNumberGenerator()
        var values: [Double] = [0, -0.0, 5e-324, -2.2250738585072014e-308, .greatestFiniteMagnitude, 1 / 3, 0.1]
        for _ in 0..<1000 { values.append(Double(bitPattern: rng.next() & 0x7FEF_FFFF_FFFF_FFFF | (rng.next() & (1 << 63)))) }
        let matrix = Matrix(rows: values.count / 7, columns: 7, elements: Array(values.prefix(values.count / 7 * 7)))
        let parsed = try NPYFile.parse(NPYFile.encode(matrix), file: "m.npy")
        #expect(parsed.shape == [matrix.rows, 7])
        guard case let .numbers(numbers) = parsed.elements else { Issue.record("not numbers"); return }
        #expect(numbers.map(\.bitPattern) == matrix.elements.map(\.bitPattern))
    }

    @Test("float32, integers, bool and Unicode; Fortran order arrives in C order; version 2.0")
    func dtypes() throws {
        let f32 = npyBytes(header: "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }",
                           payload: float32Payload([0.1, -2, 3.5, 1e-40]))
        #expect(try NPYFile.parse(f32, file: "a.npy").elements == .numbers([Double(Float(0.1)), -2, 3.5, Double(Float(1e-40))]))
        // Fortran order: the file holds columns; [[1, 2, 3], [4, 5, 6]] is stored 1 4 2 5 3 6.
        let fortran = npyBytes(header: "{'descr': '<i8', 'fortran_order': True, 'shape': (2, 3), }",
                               payload: littleEndian([1, 4, 2, 5, 3, 6] as [Int64]))
        let array = try NPYFile.parse(fortran, file: "f.npy")
        #expect(array.shape == [2, 3] && array.elements == .numbers([1, 2, 3, 4, 5, 6]))
        let small = npyBytes(header: "{'descr': '|u1', 'fortran_order': False, 'shape': (3,), }", payload: [0, 7, 255])
        #expect(try NPYFile.parse(small, file: "u.npy").elements == .numbers([0, 7, 255]))
        let signed = npyBytes(header: "{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }",
                              payload: littleEndian([-5, 1 << 30] as [Int32]))
        #expect(try NPYFile.parse(signed, file: "i.npy").elements == .numbers([-5, 1_073_741_824]))
        let bools = npyBytes(header: "{'descr': '|b1', 'fortran_order': False, 'shape': (2,), }", payload: [1, 0])
        #expect(try NPYFile.parse(bools, file: "b.npy").elements == .numbers([1, 0]))
        // '<U3': three UTF-32 code units per element, NUL-padded.
        let text = npyBytes(header: "{'descr': '<U3', 'fortran_order': False, 'shape': (2,), }",
                            payload: littleEndian(([0x63, 0x61, 0x74, 0xE9, 0, 0]) as [UInt32]))
        #expect(try NPYFile.parse(text, file: "t.npy").elements == .labels(["cat", "é"]))
        let v2 = npyBytes(header: "{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }",
                          payload: float64Payload([2.5]), version: 2)
        #expect(try NPYFile.parse(v2, file: "v2.npy").elements == .numbers([2.5]))
    }

    static let good = "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }"

    /// Malformed files: each a one-line error starting with the file's name, naming the fault.
    static let malformed: [(String, [UInt8], String)] = [
        ("empty", [], "not a .npy file"),
        ("no magic", Array("x,y\n1,2\n".utf8), "no \\x93NUMPY magic"),
        ("version 4", NPYFile.magic + [4, 0, 0, 0], "version 4.0"),
        ("truncated length", NPYFile.magic + [1, 0, 5], "truncated"),
        ("header past the end", NPYFile.magic + [1, 0, 0xFF, 0x7F] + Array("{}".utf8), "runs past the end"),
        ("not a dict", npyBytes(header: "['descr']", payload: []), "header"),
        ("missing shape", npyBytes(header: "{'descr': '<f8', 'fortran_order': False}", payload: []), "shape"),
        ("duplicate key", npyBytes(header: "{'descr': '<f8', 'descr': '<f8', 'fortran_order': False, 'shape': (1,)}",
                                   payload: float64Payload([1])), "descr"),
        ("big-endian", npyBytes(header: "{'descr': '>f8', 'fortran_order': False, 'shape': (1,), }",
                                payload: float64Payload([1])), ">f8"),
        ("complex", npyBytes(header: "{'descr': '<c16', 'fortran_order': False, 'shape': (1,), }",
                             payload: Array(repeating: 0, count: 16)), "<c16"),
        ("negative dimension", npyBytes(header: "{'descr': '<f8', 'fortran_order': False, 'shape': (-1,), }", payload: []),
         "shape"),
        ("short data", npyBytes(header: good, payload: float64Payload([1])), "truncated"),
        ("long data", npyBytes(header: good, payload: float64Payload([1, 2, 3])), "8 bytes follow the array"),
        ("nan element", npyBytes(header: "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }",
                                 payload: float64Payload([1, 2, 3, .nan])), "element 3 (row 2, column 2)"),
        ("integer beyond 2⁵³", npyBytes(header: "{'descr': '<i8', 'fortran_order': False, 'shape': (1,), }",
                                        payload: littleEndian([Int64(1) << 60])), "element 0"),
        ("evaluated code", npyBytes(header: "{'descr': __import__('os'), 'fortran_order': False, 'shape': (1,)}",
                                    payload: float64Payload([1])), "header"),
    ]

    @Test("malformed files are one-line errors naming the file", arguments: 0..<malformed.count)
    func malformedFiles(_ index: Int) {
        let (name, bytes, mention) = Self.malformed[index]
        do {
            _ = try NPYFile.parse(bytes, file: "K.npy")
            Issue.record("\(name): parsed")
        } catch let error as CommandLineError {
            #expect(error.message.hasPrefix("K.npy: "), "\(name): \(error.message)")
            #expect(error.message.contains(mention), "\(name): \(error.message)")
            #expect(!error.description.contains("\n"), "\(name)")
            #expect(error.status == .dataError)
        } catch {
            Issue.record("\(name): \(error)")
        }
    }
}
