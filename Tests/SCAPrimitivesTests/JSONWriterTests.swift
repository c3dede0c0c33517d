import Foundation
import SCAPrimitives
import Testing

/// The one JSON writer: escaping, objects in the order written, and `Encodable` values in
/// their declared order, read back by Foundation's decoder.
@Suite struct JSONWriterTests {
    struct Inner: Codable, Equatable {
        var code: String
        var weight: Double
    }

    struct Record: Codable, Equatable {
        var zulu: String
        var alpha: Int64
        var maybe: String?
        var flags: [Bool]
        var inner: Inner?
        var byName: [String: Int]
        var status: Status
    }

    enum Status: String, Codable { case open, closed }

    @Test func stringsAreEscapedAsRFC8259Requires() {
        #expect(JSONWriter.quoted("a\"b\\c\nd\re\tf\u{01}g\u{1f}é€") == #""a\"b\\c\nd\re\tf\u0001g\u001fé€""#)
        var out: [UInt8] = []
        for value: Int64 in [0, 7, -7, 1_234_567, .max, .min] {
            JSONWriter.appendInteger(value, into: &out)
            out.append(32)
        }
        #expect(String(decoding: out, as: UTF8.self) == "0 7 -7 1234567 9223372036854775807 -9223372036854775808 ")
    }

    @Test func aBuilderWritesMembersInTheOrderGiven() {
        var out = JSONBuilder()
        out.string("b", "x\"y")
        out.integer("a", nil)
        out.bool("c", true)
        out.strings("d", ["1", "2"])
        out.array("e", ["{}", "[]"])
        out.raw("f", optional: nil)
        #expect(out.json == #"{"b":"x\"y","a":null,"c":true,"d":["1","2"],"e":[{},[]],"f":null}"#)
    }

    @Test func encodableValuesKeepTheirDeclaredOrderAndReadBack() throws {
        let record = Record(
            zulu: "z\n", alpha: -42, maybe: nil, flags: [true, false], inner: Inner(code: "c", weight: 0.125),
            byName: ["b": 2, "a": 1, "c": 3], status: .closed
        )
        let json = try JSONValueEncoder.encode(record)
        #expect(
            json
                == #"{"zulu":"z\n","alpha":-42,"flags":[true,false],"inner":{"code":"c","weight":0.125},"byName":{"a":1,"b":2,"c":3},"status":"closed"}"#
        )
        #expect(try JSONDecoder().decode(Record.self, from: Data(json.utf8)) == record)
        // A dictionary is written in key order, whatever order it holds its keys in.
        let letters = (UInt8(ascii: "a")...UInt8(ascii: "z")).map { String(UnicodeScalar($0)) }
        let many = Dictionary(uniqueKeysWithValues: letters.shuffled().map { ($0, 1) })
        let written = try JSONValueEncoder.encode(many)
        #expect(written == "{" + letters.map { #""\#($0)":1"# }.joined(separator: ",") + "}")
    }

    @Test func wholeDoublesAreIntegersAndNonFiniteOnesAreRefused() throws {
        #expect(try JSONValueEncoder.encode([1.0, 2.5, 1e-7]) == "[1,2.5,1e-07]")
        #expect(throws: JSONValueEncoder.InvalidValue.self) { try JSONValueEncoder.encode([Double.nan]) }
        #expect(throws: JSONValueEncoder.InvalidValue.self) { try JSONValueEncoder.encode(Inner(code: "x", weight: .infinity)) }
    }
}

@Suite struct Base64URLTests {
    /// RFC 4648 §10's vectors in the URL alphabet without padding, and every length's round trip.
    @Test func encodesAsRFC4648AndReadsBack() throws {
        let vectors = ["": "", "f": "Zg", "fo": "Zm8", "foo": "Zm9v", "foob": "Zm9vYg", "fooba": "Zm9vYmE", "foobar": "Zm9vYmFy"]
        for (plain, encoded) in vectors { #expect(Base64URL.encode(Array(plain.utf8)) == encoded) }
        #expect(Base64URL.encode([0xFB, 0xFF, 0xBF]) == "-_-_")
        var generator = SystemRandomNumberGenerator()
        for length in 0..<70 {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            #expect(Base64URL.decode(Base64URL.encode(bytes)) == bytes)
            #expect(
                Base64URL.encode(bytes)
                    == Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
                    .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: ""))
        }
    }

    @Test func membersSetToWrittenJSON() throws {
        struct Outer: Encodable {
            var a = 1
            var inner: [Int] = []
            var absent: Int? = nil
            var z = "z"
        }
        let json = try JSONValueEncoder.bytes(Outer(), setting: ["inner": Array("[1,2]".utf8), "absent": Array("7".utf8)])
        #expect(String(decoding: json, as: UTF8.self) == #"{"a":1,"inner":[1,2],"z":"z","absent":7}"#)
        #expect(throws: JSONValueEncoder.InvalidValue.self) { try JSONValueEncoder.bytes([1], setting: ["x": []]) }
    }
}
