import Testing
@testable import NWCommandLine

@Suite("CSVTable")
struct CSVTableTests {
    func table(_ text: String) throws -> CSVTable { try CSVTable(bytes: Array(text.utf8), file: "f.csv") }

    @Test func quotingAndLineNumbers() throws {
        let t = try table("\u{FEFF}a,b\r\n\"x,\"\"y\"\"\",1\r\n\"multi\nline\",2\n3,4\n\n\n")
        #expect(t.header == ["a", "b"])
        #expect(t.rowCount == 3)
        #expect(t.string(row: 0, column: 0) == "x,\"y\"")
        #expect(t.string(row: 1, column: 0) == "multi\nline")
        #expect(t.line(ofRow: 0) == 2 && t.line(ofRow: 1) == 3 && t.line(ofRow: 2) == 5)
        #expect(try t.number(row: 2, column: 1) == 4)
    }

    @Test func numbersAreStrictDecimals() throws {
        let t = try table("v\n 1.5 \n0x10\nnan\n1e999\n\n")
        #expect(try t.number(row: 0, column: 0) == 1.5)
        #expect(throws: CommandLineError("f.csv:3:1: column 'v' should be a number, but is \"0x10\"", status: .dataError)) { try t.number(row: 1, column: 0) }
        #expect(throws: CommandLineError("f.csv:4:1: column 'v' should be a finite number, but is \"nan\"", status: .dataError)) { try t.number(row: 2, column: 0) }
        #expect(throws: CommandLineError.self) { try t.number(row: 3, column: 0) }
    }

    @Test func emptyMiddleLineIsARaggedRow() {
        #expect(throws: CommandLineError("f.csv:3: has 1 field, but the header has 2", status: .dataError)) { try table("a,b\n1,2\n\n3,4\n") }
    }

    @Test func textAfterClosingQuote() {
        #expect(throws: CommandLineError("f.csv:2: field 1 has text after its closing quote", status: .dataError)) { try table("a\n\"x\"y\n") }
    }

    @Test func writerQuotesOnlyWhenNeeded() {
        var w = CSVWriter()
        w.field("plain"); w.field("a,b"); w.field("say \"hi\""); w.field(""); w.number(0.1); w.number(.nan); w.number(1e-5)
        w.endRow()
        #expect(String(decoding: w.bytes, as: UTF8.self) == "plain,\"a,b\",\"say \"\"hi\"\"\",,0.1,nan,1e-05\n")
    }
}
