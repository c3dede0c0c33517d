/// A parsed JSON value. Objects keep their members in order and refuse duplicate names
/// (a duplicated field is ambiguous, so it is an error, not a last-one-wins).
public indirect enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    /// The JSON type's name, for error messages.
    public var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "boolean"
        case .number: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }
}

/// The members of a JSON object, in order. Objects in the contract are small, so a linear
/// search beats hashing.
public struct JSONObject: Equatable, Sendable {
    public private(set) var members: [(name: String, value: JSONValue)]

    public init(_ members: [(name: String, value: JSONValue)] = []) { self.members = members }

    public subscript(name: String) -> JSONValue? {
        for member in members where member.name == name { return member.value }
        return nil
    }

    public func contains(_ name: String) -> Bool { self[name] != nil }

    mutating func append(_ name: String, _ value: JSONValue) { members.append((name, value)) }

    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        lhs.members.count == rhs.members.count
            && zip(lhs.members, rhs.members).allSatisfy { $0.name == $1.name && $0.value == $1.value }
    }
}
