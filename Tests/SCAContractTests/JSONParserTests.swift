import Testing

@testable import SCAContract

struct JSONParserTests {
    @Test func parsesNestedValuesInOrder() throws {
        let value = try JSONParser.parse(#" {"a": [1, -2.5e1, true, false, null], "b": {"c": "d"}} "#)
        guard case .object(let object) = value else {
            Issue.record("not an object")
            return
        }
        #expect(object.members.map(\.name) == ["a", "b"])
        #expect(object["a"] == .array([.number(1), .number(-25), .bool(true), .bool(false), .null]))
        #expect(object["b"] == .object(JSONObject([("c", .string("d"))])))
    }

    @Test func decodesEscapesAndSurrogatePairs() throws {
        let value = try JSONParser.parse(#""a\"b\\c\/d\n\u00e9\ud83d\ude00""#)
        #expect(value == .string("a\"b\\c/d\né😀"))
    }

    @Test(arguments: [
        "", "{", "}", "[1,]", "{\"a\":1,}", "01", "1.", "-", ".5", "1e", "tru", "nul", "\"abc",
        "\"\\x\"", "\"\\ud800\"", "\"\\udc00\"", "{\"a\" 1}", "{1:2}", "1 2", "\"tab\there\"", "NaN", "Infinity",
        "{\"a\":1,\"a\":2}", "1e999",
    ])
    func rejectsMalformedJSON(text: String) {
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse(text) }
    }

    @Test func rejectsInvalidUTF8() {
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse([0x22, 0xFF, 0xFE, 0x22]) }
    }

    @Test func limitsNestingDepth() throws {
        let deepest = String(repeating: "[", count: JSONParser.depthMax + 1) + String(repeating: "]", count: JSONParser.depthMax + 1)
        _ = try JSONParser.parse(deepest)
        let tooDeep = "[" + deepest + "]"
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse(tooDeep) }
    }
}
