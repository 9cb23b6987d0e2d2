import Testing
@testable import NadarayaWatson

@Suite("ClassLabels")
struct ClassLabelsTests {
    @Test func numericLabelsSortByValue() {
        let labels = ClassLabels(["10", "2", "-1", "2", "1.5", "10"])
        #expect(labels.classes == ["-1", "1.5", "2", "10"])
        #expect(labels.indices == [3, 2, 0, 2, 1, 3])
    }

    @Test func equalNumbersWrittenDifferentlyStayDistinct() {
        #expect(ClassLabels(["1.0", "1", "0"]).classes == ["0", "1", "1.0"])
    }

    @Test func textLabelsSortByCodePoint() {
        // "B" (U+42) < "a" (U+61) < "b" < "é" (U+E9); "e\u{301}" (U+65 U+301) < "é".
        let labels = ClassLabels(["b", "é", "a", "B", "e\u{301}"])
        #expect(labels.classes == ["B", "a", "b", "e\u{301}", "é"])
    }

    @Test func oneTextLabelMakesAllText() {
        #expect(ClassLabels(["10", "9", "x"]).classes == ["10", "9", "x"])
    }

    @Test func decimalSyntax() {
        for good in ["1", "-2.5", "+.5", "5.", "1e3", "1E-3", " 7 "] { #expect(ClassLabels.decimalValue(good) != nil, "\(good)") }
        for bad in ["nan", "inf", "-inf", "0x10", "1e", ".", "", "1,5", "one", "1.2.3", "--1"] {
            #expect(ClassLabels.decimalValue(bad) == nil, "\(bad)")
        }
    }
}
