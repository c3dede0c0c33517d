/// The part of CBOR (RFC 8949) that WebAuthn needs: definite-length unsigned and negative
/// integers, byte and text strings, arrays, maps, and the simple values false, true and
/// null. Every length is checked against the bytes left before anything is read or
/// allocated, nesting and item counts are bounded, and anything else (indefinite lengths,
/// tags, floats, 64-bit lengths beyond the input) is refused.
public indirect enum CBOR: Sendable, Equatable, Hashable {
    case unsigned(UInt64)
    /// A negative integer, stored as in the wire format: the value is -1 - n.
    case negative(UInt64)
    case bytes([UInt8])
    case text(String)
    case array([CBOR])
    case map([CBORPair])
    case bool(Bool)
    case null

    public enum Failure: Error, Equatable, Sendable {
        case truncated
        case unsupported(String)
        case tooDeep
        case tooManyItems
        case invalidText
        case trailingBytes
        case duplicateKey
    }

    static let depthMax = 16
    static let itemsMax = 4096

    /// The integer value, when it is one that fits an `Int64`.
    public var integer: Int64? {
        switch self {
        case .unsigned(let value): return value <= UInt64(Int64.max) ? Int64(value) : nil
        case .negative(let value): return value <= UInt64(Int64.max) ? -1 - Int64(value) : nil
        default: return nil
        }
    }

    /// A map's value for an integer key (COSE keys) or a text key (attestation objects).
    public subscript(key: CBOR) -> CBOR? {
        guard case .map(let pairs) = self else { return nil }
        return pairs.first { $0.key == key }?.value
    }

    /// Decodes exactly one item that fills all of `bytes`.
    public static func decode(_ bytes: [UInt8]) throws(Failure) -> CBOR {
        var reader = Reader(bytes: bytes[...])
        let item = try reader.item(depth: 0)
        guard reader.bytes.isEmpty else { throw .trailingBytes }
        return item
    }

    /// Decodes one item from the front of `bytes` and says how many bytes it took.
    public static func decodePrefix(_ bytes: ArraySlice<UInt8>) throws(Failure) -> (item: CBOR, length: Int) {
        var reader = Reader(bytes: bytes)
        let item = try reader.item(depth: 0)
        return (item, bytes.count - reader.bytes.count)
    }

    private struct Reader {
        var bytes: ArraySlice<UInt8>
        var items = 0

        mutating func take(_ count: UInt64) throws(Failure) -> ArraySlice<UInt8> {
            guard count <= UInt64(bytes.count) else { throw .truncated }
            let taken = bytes.prefix(Int(count))
            bytes = bytes.dropFirst(Int(count))
            return taken
        }

        mutating func argument(_ additional: UInt8) throws(Failure) -> UInt64 {
            switch additional {
            case 0...23: return UInt64(additional)
            case 24, 25, 26, 27:
                let width = 1 << (additional - 24)
                return try take(UInt64(width)).reduce(0) { $0 << 8 | UInt64($1) }
            case 31: throw .unsupported("indefinite length")
            default: throw .unsupported("reserved additional information \(additional)")
            }
        }

        mutating func item(depth: Int) throws(Failure) -> CBOR {
            guard depth <= CBOR.depthMax else { throw .tooDeep }
            items += 1
            guard items <= CBOR.itemsMax else { throw .tooManyItems }
            let initial = try take(1).first!
            let major = initial >> 5
            let additional = initial & 0x1F
            if major == 7 {
                switch additional {
                case 20: return .bool(false)
                case 21: return .bool(true)
                case 22: return .null
                default: throw .unsupported("simple value or float \(additional)")
                }
            }
            let value = try argument(additional)
            switch major {
            case 0: return .unsigned(value)
            case 1: return .negative(value)
            case 2: return .bytes(Array(try take(value)))
            case 3:
                guard let text = String(validating: try take(value), as: UTF8.self) else { throw .invalidText }
                return .text(text)
            case 4:
                // Each element takes at least a byte: a count beyond the bytes left is a lie.
                guard value <= UInt64(bytes.count) else { throw .truncated }
                var elements: [CBOR] = []
                for _ in 0..<value { elements.append(try item(depth: depth + 1)) }
                return .array(elements)
            case 5:
                guard value <= UInt64(bytes.count / 2) else { throw .truncated }
                var pairs: [CBORPair] = []
                var keys: Set<CBOR> = []
                for _ in 0..<value {
                    let key = try item(depth: depth + 1)
                    guard keys.insert(key).inserted else { throw .duplicateKey }
                    pairs.append(CBORPair(key: key, value: try item(depth: depth + 1)))
                }
                return .map(pairs)
            default:
                throw .unsupported("tag")
            }
        }
    }
}

public struct CBORPair: Sendable, Equatable, Hashable {
    public let key: CBOR
    public let value: CBOR

    public init(key: CBOR, value: CBOR) {
        self.key = key
        self.value = value
    }
}
