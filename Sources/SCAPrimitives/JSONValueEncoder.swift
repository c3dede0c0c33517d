/// Encodes `Encodable` values (stored payment records, traces) as JSON through
/// `JSONWriter`, members in the order the value encodes them: for synthesised conformances,
/// the order the properties are declared in, the same on every call; a dictionary's in
/// key order. A `nil` optional property is left out, as Foundation's encoder does. Written here rather than taken
/// from Foundation because Foundation's encoder (and `JSONSerialization`) cost the payments
/// API most of its time, and sort keys in a collation order of their own.
public enum JSONValueEncoder {
    public struct InvalidValue: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    public static func encode(_ value: some Encodable) throws -> String {
        String(decoding: try bytes(value), as: UTF8.self)
    }

    public static func bytes(_ value: some Encodable) throws -> [UInt8] { try bytes(value, setting: [:]) }

    /// `value` with each top-level member named in `setting` written as the JSON given
    /// (parts already encoded, for use in more than one place): in its place when `value`
    /// has the member, after the others when it has not (a `nil` left out).
    public static func bytes(_ value: some Encodable, setting replacing: [String: [UInt8]]) throws -> [UInt8] {
        let slot = Slot()
        try value.encode(to: TreeEncoder(slot: slot, codingPath: []))
        if !replacing.isEmpty {
            guard case .object(let box) = slot.tree else { throw InvalidValue(description: "not an object: nothing to replace") }
            for (name, json) in replacing.sorted(by: { $0.key < $1.key }) {
                if let member = box.members.first(where: { $0.key == name }) {
                    member.value.tree = .raw(json)
                } else {
                    let slot = Slot()
                    slot.tree = .raw(json)
                    box.members.append((name, slot))
                }
            }
        }
        var out: [UInt8] = []
        out.reserveCapacity(1024)
        slot.tree.write(into: &out)
        return out
    }
}

/// What a value encoded to, before it is written. Objects and arrays are boxes, so that a
/// container handed out earlier keeps adding to the tree it belongs to.
enum Tree {
    case null
    case bool(Bool)
    case number(String)
    case string(String)
    case object(ObjectBox)
    case array(ArrayBox)
    /// JSON already written.
    case raw([UInt8])

    func write(into out: inout [UInt8]) {
        switch self {
        case .null: out += "null".utf8
        case .bool(let flag): out += (flag ? "true" : "false").utf8
        case .number(let text): out += text.utf8
        case .string(let text): JSONWriter.appendString(text, into: &out)
        case .raw(let json): out += json
        case .object(let box):
            out.append(UInt8(ascii: "{"))
            let members = box.sortsKeys ? box.members.sorted { $0.key < $1.key } : box.members
            for (index, member) in members.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                JSONWriter.appendString(member.key, into: &out)
                out.append(UInt8(ascii: ":"))
                member.value.tree.write(into: &out)
            }
            out.append(UInt8(ascii: "}"))
        case .array(let box):
            out.append(UInt8(ascii: "["))
            for (index, element) in box.elements.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                element.tree.write(into: &out)
            }
            out.append(UInt8(ascii: "]"))
        }
    }
}

final class Slot {
    var tree: Tree = .null
}

final class ObjectBox {
    var members: [(key: String, value: Slot)] = []
    /// Written in key order (a dictionary's members), not in the order encoded.
    var sortsKeys = false

    /// The slot of a new member `key`. A key is encoded once per container (Codable's
    /// containers are written so); a second one would be written twice, so debug builds
    /// stop at it.
    func slot(_ key: String) -> Slot {
        assert(!members.contains { $0.key == key }, "\(key) encoded twice")
        let slot = Slot()
        members.append((key, slot))
        return slot
    }
}

final class ArrayBox {
    var elements: [Slot] = []

    func append() -> Slot {
        let slot = Slot()
        elements.append(slot)
        return slot
    }
}

struct TreeEncoder: Encoder {
    let slot: Slot
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        let box: ObjectBox
        if case .object(let existing) = slot.tree {
            box = existing
        } else {
            box = ObjectBox()
            box.sortsKeys = ObjectIdentifier(Key.self) == Self.dictionaryKeyType
            slot.tree = .object(box)
        }
        return KeyedEncodingContainer(KeyedTreeContainer(box: box, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        let box: ArrayBox
        if case .array(let existing) = slot.tree {
            box = existing
        } else {
            box = ArrayBox()
            slot.tree = .array(box)
        }
        return UnkeyedTreeContainer(box: box, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        SingleTreeContainer(slot: slot, codingPath: codingPath)
    }

    /// 2^53: below it every integer is a double, so a whole number is written as one.
    static let largestExactInteger = Double(1 << 53)

    static func number(_ value: Double, at path: [any CodingKey]) throws -> Tree {
        guard value.isFinite else {
            throw JSONValueEncoder.InvalidValue(description: "\(value) at \(path.map(\.stringValue)) is not a JSON number")
        }
        return .number(value == value.rounded() && abs(value) <= largestExactInteger ? String(Int64(value)) : "\(value)")
    }

    /// Encodes a nested value into `slot`. The common leaf types are recognised by their
    /// type, not by a dynamic cast (which cost the payments API a tenth of its time).
    static func encode<T: Encodable>(_ value: T, into slot: Slot, at path: [any CodingKey]) throws {
        if T.self == String.self {
            slot.tree = .string(unsafeBitCast(value, to: String.self))
        } else if T.self == Int.self {
            slot.tree = .number(String(unsafeBitCast(value, to: Int.self)))
        } else if T.self == Int64.self {
            slot.tree = .number(String(unsafeBitCast(value, to: Int64.self)))
        } else if T.self == Bool.self {
            slot.tree = .bool(unsafeBitCast(value, to: Bool.self))
        } else if T.self == Double.self {
            slot.tree = try number(unsafeBitCast(value, to: Double.self), at: path)
        } else {
            try value.encode(to: TreeEncoder(slot: slot, codingPath: path))
        }
    }

    /// The coding key type the standard library's `Dictionary` encodes its `String` keys
    /// with, found once by encoding a dictionary: an object of that type is written in
    /// key order, so that a dictionary reads the same every time.
    static let dictionaryKeyType: ObjectIdentifier? = {
        let probe = KeyTypeProbe()
        try? ["key": 0].encode(to: probe)
        return probe.keyType.value
    }()
}

/// Records the key type of the first keyed container asked of it (see
/// `TreeEncoder.dictionaryKeyType`).
private struct KeyTypeProbe: Encoder {
    final class Found: @unchecked Sendable { var value: ObjectIdentifier? }
    let keyType = Found()
    var codingPath: [any CodingKey] { [] }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        if keyType.value == nil { keyType.value = ObjectIdentifier(Key.self) }
        return KeyedEncodingContainer(KeyedTreeContainer(box: ObjectBox(), codingPath: []))
    }
    func unkeyedContainer() -> any UnkeyedEncodingContainer { UnkeyedTreeContainer(box: ArrayBox(), codingPath: []) }
    func singleValueContainer() -> any SingleValueEncodingContainer { SingleTreeContainer(slot: Slot(), codingPath: []) }
}

struct KeyedTreeContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let box: ObjectBox
    let codingPath: [any CodingKey]

    mutating func encodeNil(forKey key: Key) throws { box.slot(key.stringValue).tree = .null }
    mutating func encode(_ value: Bool, forKey key: Key) throws { box.slot(key.stringValue).tree = .bool(value) }
    mutating func encode(_ value: String, forKey key: Key) throws { box.slot(key.stringValue).tree = .string(value) }
    mutating func encode(_ value: Double, forKey key: Key) throws {
        box.slot(key.stringValue).tree = try TreeEncoder.number(value, at: codingPath + [key])
    }
    mutating func encode(_ value: Float, forKey key: Key) throws { try encode(Double(value), forKey: key) }
    mutating func encode(_ value: Int, forKey key: Key) throws { box.slot(key.stringValue).tree = .number(String(value)) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { try encode(Int(value), forKey: key) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { try encode(Int(value), forKey: key) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { try encode(Int(value), forKey: key) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { box.slot(key.stringValue).tree = .number(String(value)) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { box.slot(key.stringValue).tree = .number(String(value)) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { try encode(Int(value), forKey: key) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { try encode(Int(value), forKey: key) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { try encode(Int(value), forKey: key) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { box.slot(key.stringValue).tree = .number(String(value)) }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        try TreeEncoder.encode(value, into: box.slot(key.stringValue), at: codingPath + [key])
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key)
        -> KeyedEncodingContainer<NestedKey>
    {
        TreeEncoder(slot: box.slot(key.stringValue), codingPath: codingPath + [key]).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        TreeEncoder(slot: box.slot(key.stringValue), codingPath: codingPath + [key]).unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder { TreeEncoder(slot: box.slot("super"), codingPath: codingPath) }
    mutating func superEncoder(forKey key: Key) -> any Encoder {
        TreeEncoder(slot: box.slot(key.stringValue), codingPath: codingPath + [key])
    }
}

struct UnkeyedTreeContainer: UnkeyedEncodingContainer {
    let box: ArrayBox
    let codingPath: [any CodingKey]
    var count: Int { box.elements.count }

    mutating func encodeNil() throws { box.append().tree = .null }
    mutating func encode(_ value: Bool) throws { box.append().tree = .bool(value) }
    mutating func encode(_ value: String) throws { box.append().tree = .string(value) }
    mutating func encode(_ value: Int) throws { box.append().tree = .number(String(value)) }
    mutating func encode(_ value: Int64) throws { box.append().tree = .number(String(value)) }
    mutating func encode(_ value: Double) throws { box.append().tree = try TreeEncoder.number(value, at: codingPath) }
    mutating func encode<T: Encodable>(_ value: T) throws { try TreeEncoder.encode(value, into: box.append(), at: codingPath) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        TreeEncoder(slot: box.append(), codingPath: codingPath).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        TreeEncoder(slot: box.append(), codingPath: codingPath).unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder { TreeEncoder(slot: box.append(), codingPath: codingPath) }
}

struct SingleTreeContainer: SingleValueEncodingContainer {
    let slot: Slot
    let codingPath: [any CodingKey]

    mutating func encodeNil() throws { slot.tree = .null }
    mutating func encode(_ value: Bool) throws { slot.tree = .bool(value) }
    mutating func encode(_ value: String) throws { slot.tree = .string(value) }
    mutating func encode(_ value: Double) throws { slot.tree = try TreeEncoder.number(value, at: codingPath) }
    mutating func encode(_ value: Float) throws { try encode(Double(value)) }
    mutating func encode(_ value: Int) throws { slot.tree = .number(String(value)) }
    mutating func encode(_ value: Int8) throws { try encode(Int(value)) }
    mutating func encode(_ value: Int16) throws { try encode(Int(value)) }
    mutating func encode(_ value: Int32) throws { try encode(Int(value)) }
    mutating func encode(_ value: Int64) throws { slot.tree = .number(String(value)) }
    mutating func encode(_ value: UInt) throws { slot.tree = .number(String(value)) }
    mutating func encode(_ value: UInt8) throws { try encode(Int(value)) }
    mutating func encode(_ value: UInt16) throws { try encode(Int(value)) }
    mutating func encode(_ value: UInt32) throws { try encode(Int(value)) }
    mutating func encode(_ value: UInt64) throws { slot.tree = .number(String(value)) }
    mutating func encode<T: Encodable>(_ value: T) throws { try TreeEncoder.encode(value, into: slot, at: codingPath) }
}
