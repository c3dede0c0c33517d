/// The engine's one JSON writer: bytes appended to a buffer, strings escaped as RFC 8259
/// requires, members in the order they are written. The decision contract's encoder
/// (`AnswerEncoder`), every API answer (`JSONBuilder`) and the encoding of stored values
/// (`JSONValueEncoder`) write through it.
public enum JSONWriter {
    /// `text` as a JSON string literal. Runs of bytes that need no escape are copied whole.
    public static func appendString(_ text: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var text = text
        text.withUTF8 { bytes in
            var run = 0
            for index in 0..<bytes.count {
                let byte = bytes[index]
                guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
                if run < index { out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[run..<index])) }
                run = index + 1
                switch byte {
                case UInt8(ascii: "\""): out.append(contentsOf: #"\""#.utf8)
                case UInt8(ascii: "\\"): out.append(contentsOf: #"\\"#.utf8)
                case 0x0A: out.append(contentsOf: #"\n"#.utf8)
                case 0x0D: out.append(contentsOf: #"\r"#.utf8)
                case 0x09: out.append(contentsOf: #"\t"#.utf8)
                default:
                    out.append(contentsOf: #"\u00"#.utf8)
                    out.append(hexDigits[Int(byte >> 4)])
                    out.append(hexDigits[Int(byte & 0x0F)])
                }
            }
            if run < bytes.count { out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[run...])) }
        }
        out.append(UInt8(ascii: "\""))
    }

    public static func appendOptionalString(_ text: String?, into out: inout [UInt8]) {
        if let text { appendString(text, into: &out) } else { out.append(contentsOf: "null".utf8) }
    }

    /// `text` as a JSON string literal, as a `String`.
    public static func quoted(_ text: String) -> String {
        var out: [UInt8] = []
        appendString(text, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Digits written straight into the buffer: no `String` per number.
    public static func appendInteger(_ value: Int64, into out: inout [UInt8]) {
        if value < 0 { out.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        let start = out.count
        repeat {
            out.append(UInt8(ascii: "0") + UInt8(magnitude % 10))
            magnitude /= 10
        } while magnitude > 0
        out[start...].reverse()
    }
}

/// Builds one JSON object, member by member, in the order written.
public struct JSONBuilder: Sendable {
    private var out: [UInt8] = [UInt8(ascii: "{")]
    private var empty = true

    public init() {}

    private mutating func key(_ name: String) {
        if !empty { out.append(UInt8(ascii: ",")) }
        empty = false
        JSONWriter.appendString(name, into: &out)
        out.append(UInt8(ascii: ":"))
    }

    public mutating func string(_ name: String, _ value: String?) {
        key(name)
        JSONWriter.appendOptionalString(value, into: &out)
    }

    public mutating func integer(_ name: String, _ value: Int64?) {
        key(name)
        if let value { JSONWriter.appendInteger(value, into: &out) } else { out += "null".utf8 }
    }

    public mutating func bool(_ name: String, _ value: Bool?) {
        key(name)
        out += (value.map { $0 ? "true" : "false" } ?? "null").utf8
    }

    /// A member whose value is already JSON.
    public mutating func raw(_ name: String, _ json: String) {
        key(name)
        out += json.utf8
    }

    /// A member whose value is already JSON, or null.
    public mutating func raw(_ name: String, optional json: String?) { raw(name, json ?? "null") }

    /// An array of values that are already JSON.
    public mutating func array(_ name: String, _ elements: [String]) {
        key(name)
        out.append(UInt8(ascii: "["))
        for (index, element) in elements.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            out += element.utf8
        }
        out.append(UInt8(ascii: "]"))
    }

    /// An array of strings.
    public mutating func strings(_ name: String, _ elements: [String]) {
        key(name)
        out.append(UInt8(ascii: "["))
        for (index, element) in elements.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            JSONWriter.appendString(element, into: &out)
        }
        out.append(UInt8(ascii: "]"))
    }

    /// A member whose value is an answer of its own (a nested object), or null.
    public mutating func object(_ name: String, _ value: (some JSONAnswer)?) {
        key(name)
        if let value { value.appendJSON(into: &out) } else { out += "null".utf8 }
    }

    /// An array of answers (nested objects).
    public mutating func objects(_ name: String, _ elements: [some JSONAnswer]) {
        key(name)
        out.append(UInt8(ascii: "["))
        for (index, element) in elements.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            element.appendJSON(into: &out)
        }
        out.append(UInt8(ascii: "]"))
    }

    public var json: String { String(decoding: bytes, as: UTF8.self) }

    public var bytes: [UInt8] { out + [UInt8(ascii: "}")] }

    /// A JSON string literal.
    public static func quoted(_ text: String) -> String { JSONWriter.quoted(text) }
}

/// A value an API answers with. Services return these values; the edge (a controller, the
/// gate's effect) turns them into JSON with `json`, through the one writer, members in the
/// order `write(to:)` writes them.
public protocol JSONAnswer: Sendable {
    func write(to out: inout JSONBuilder)
}

extension JSONAnswer {
    public var jsonBytes: [UInt8] {
        var out = JSONBuilder()
        write(to: &out)
        return out.bytes
    }

    public var json: String { String(decoding: jsonBytes, as: UTF8.self) }

    func appendJSON(into bytes: inout [UInt8]) { bytes += jsonBytes }
}

/// An answer that is one named list of answers: `{"<name>":[…]}`.
public struct JSONList<Element: JSONAnswer>: JSONAnswer {
    public let name: String
    public let items: [Element]

    public init(_ name: String, _ items: [Element]) {
        self.name = name
        self.items = items
    }

    public func write(to out: inout JSONBuilder) { out.objects(name, items) }
}
