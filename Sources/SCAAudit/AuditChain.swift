import Crypto
import SCAPrimitives

/// One event of the audit trail: what happened, when, and the hashes that chain it to the
/// event before it.
///
/// `hash = SHA-256(canonical bytes)`, where the canonical bytes are a fixed-order JSON
/// object holding the sequence number, the instant, the kind, the payload (itself a JSON
/// text, kept byte for byte) and the previous event's hash. Changing any of them, or the
/// order of events, breaks the chain at that event.
public struct AuditEvent: Equatable, Sendable {
    /// 1 for the first event, then one more for each event.
    public let sequence: UInt64
    /// RFC 3339 instant, UTC.
    public let at: String
    /// What kind of event: `decision`, `sca_result`, `factor_blocked`...
    public let kind: String
    /// The event's content as JSON text, e.g. the decision contract's answer line.
    public let payload: String
    /// The previous event's hash (32 zero bytes for the first event).
    public let previousHash: [UInt8]
    public let hash: [UInt8]

    public init(sequence: UInt64, at: String, kind: String, payload: String, previousHash: [UInt8], hash: [UInt8]) {
        self.sequence = sequence
        self.at = at
        self.kind = kind
        self.payload = payload
        self.previousHash = previousHash
        self.hash = hash
    }

    /// The bytes the hash covers.
    public var canonicalBytes: [UInt8] {
        AuditEvent.canonicalBytes(sequence: sequence, at: at, kind: kind, payload: payload, previousHash: previousHash)
    }

    static func canonicalBytes(sequence: UInt64, at: String, kind: String, payload: String, previousHash: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        // The payload's escapes (a JSON payload's quotes) take about a fifth more.
        out.reserveCapacity(payload.utf8.count + payload.utf8.count / 4 + 160)
        out.append(contentsOf: #"{"sequence":"#.utf8)
        out.append(contentsOf: String(sequence).utf8)
        out.append(contentsOf: #","at":"#.utf8)
        appendJSONString(at, into: &out)
        out.append(contentsOf: #","kind":"#.utf8)
        appendJSONString(kind, into: &out)
        out.append(contentsOf: #","payload":"#.utf8)
        appendJSONString(payload, into: &out)
        out.append(contentsOf: #","previous":""#.utf8)
        appendHex(previousHash, into: &out)
        out.append(contentsOf: #""}"#.utf8)
        return out
    }

    /// `text` as a JSON string. Runs of bytes that need no escape are copied whole (a
    /// payload is mostly such runs between its quotes). Not `JSONWriter.appendString`:
    /// these bytes are what every stored hash was computed over, so their escapes (`\u000a`
    /// where the writer gives `\n`) are fixed for good.
    static func appendJSONString(_ text: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var text = text
        text.withUTF8 { bytes in
            var run = 0
            for index in bytes.indices {
                let byte = bytes[index]
                guard byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte < 0x20 else { continue }
                out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[run..<index]))
                run = index + 1
                out.append(UInt8(ascii: "\\"))
                if byte < 0x20 {
                    out.append(contentsOf: [UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0")])
                    out.append(hexDigits[Int(byte >> 4)])
                    out.append(hexDigits[Int(byte & 0x0F)])
                } else {
                    out.append(byte)  // \" or \\
                }
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[run...]))
        }
        out.append(UInt8(ascii: "\""))
    }
}

private let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

/// Builds and checks the chain. A value: the head (last sequence and hash) is all it keeps.
public struct AuditChain: Sendable, Equatable {
    public static let hashBytes = 32
    public static let genesisHash = [UInt8](repeating: 0, count: hashBytes)

    /// The last event's sequence number (0 before any event) and hash.
    public private(set) var lastSequence: UInt64
    public private(set) var lastHash: [UInt8]

    public init() {
        lastSequence = 0
        lastHash = AuditChain.genesisHash
    }

    /// Continues a chain whose last event is `last` (read back from storage).
    public init(continuingAfter last: AuditEvent) {
        lastSequence = last.sequence
        lastHash = last.hash
    }

    /// Continues a chain from its recorded head.
    public init(lastSequence: UInt64, lastHash: [UInt8]) {
        self.lastSequence = lastSequence
        self.lastHash = lastHash
    }

    /// The next event of the chain, which becomes its head.
    public mutating func append(kind: String, at: String, payload: String) -> AuditEvent {
        let previousHash = lastHash
        let sequence = lastSequence + 1
        let bytes = AuditEvent.canonicalBytes(
            sequence: sequence, at: at, kind: kind, payload: payload, previousHash: previousHash
        )
        let hash = Array(SHA256.hash(data: bytes))
        lastSequence = sequence
        lastHash = hash
        return AuditEvent(
            sequence: sequence, at: at, kind: kind, payload: payload, previousHash: previousHash, hash: hash
        )
    }
}
