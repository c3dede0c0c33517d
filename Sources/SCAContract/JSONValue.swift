/// A parsed JSON value (not `indirect`: arrays and objects already hold their elements on
/// the heap, and boxing every scalar cost ~20 allocations a line). Objects keep their
/// members in order and refuse duplicate names
/// (a duplicated field is ambiguous, so it is an error, not a last-one-wins).
public enum JSONValue: Equatable, Sendable {
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
    /// One member. A struct, not a tuple: tuple arrays need their type metadata built at
    /// run time, which cost a tenth of `sca decide`'s time.
    public struct Member: Equatable, Sendable {
        public let name: String
        public let value: JSONValue
    }

    public private(set) var members: [Member]

    public init(_ members: [(name: String, value: JSONValue)] = []) {
        self.members = members.map { Member(name: $0.name, value: $0.value) }
    }

    /// An empty object with room for `capacity` members (contract objects have few).
    init(capacity: Int) {
        members = []
        members.reserveCapacity(capacity)
    }

    public subscript(name: String) -> JSONValue? {
        // Lengths first: a mismatch of equal length is rare, and comparing two different
        // strings takes Swift's slow path.
        let length = name.utf8.count
        for member in members where member.name.utf8.count == length && member.name == name { return member.value }
        return nil
    }

    public func contains(_ name: String) -> Bool { self[name] != nil }

    mutating func append(_ name: String, _ value: JSONValue) { members.append(Member(name: name, value: value)) }
}
