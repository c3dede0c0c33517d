import Crypto
import SCAPrimitives

/// What `AuditVerifier` found: the whole chain intact, or the first event where it breaks.
public enum AuditVerification: Equatable, Sendable {
    case intact(events: UInt64, head: [UInt8])
    case broken(AuditBreak)
}

/// The first place where the chain does not hold, named by the event's position in the
/// order read and its sequence number.
public struct AuditBreak: Equatable, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// The event's content does not match its hash: it was changed.
        case modified
        /// The event does not point at the hash of the event before it, though its own
        /// hash holds: an event was inserted before it, or it was moved.
        case brokenLink = "broken_link"
        /// A sequence number was skipped: events were deleted before this one.
        case missing
        /// A sequence number repeats or goes back: events were inserted or reordered.
        case outOfOrder = "out_of_order"
        /// The chain ends before the head recorded elsewhere: events were cut off.
        case truncated
        /// The chain goes on past the head recorded elsewhere: events were appended
        /// outside the engine.
        case beyondHead = "beyond_head"
    }

    public let kind: Kind
    /// 0-based position in the sequence of events as read.
    public let position: Int
    /// The sequence number of the event at that position (the expected one for `truncated`).
    public let sequence: UInt64

    public init(kind: Kind, position: Int, sequence: UInt64) {
        self.kind = kind
        self.position = position
        self.sequence = sequence
    }

    public var description: String { "audit chain broken at event \(sequence) (position \(position)): \(kind.rawValue)" }
}

/// Checks a chain of events in the order they were read, from the first event on.
public enum AuditVerifier {
    /// - Parameter expectedHead: the last sequence number and hash recorded elsewhere (for
    ///   example in the database's metadata), so that a cut-off tail is detected too.
    public static func verify(_ events: some Sequence<AuditEvent>, expectedHead: (UInt64, [UInt8])? = nil) -> AuditVerification {
        var check = AuditChainCheck()
        for event in events {
            if let found = check.next(event) { return .broken(found) }
        }
        return check.finish(expectedHead: expectedHead)
    }

}

/// The verifier one event at a time, for chains read page by page.
public struct AuditChainCheck: Sendable {
    private var previousSequence: UInt64 = 0
    private var previousHash = AuditChain.genesisHash
    private var position = 0

    public init() {}

    /// The last sequence number checked.
    public var checkedThrough: UInt64 { previousSequence }

    /// Checks the next event; returns where the chain breaks, if it does here.
    public mutating func next(_ event: AuditEvent) -> AuditBreak? {
        // Step 1: the content matches the hash.
        let recomputed = Array(SHA256.hash(data: event.canonicalBytes))
        guard constantTimeEqual(recomputed, event.hash) else {
            return AuditBreak(kind: .modified, position: position, sequence: event.sequence)
        }
        // Step 2: the sequence goes up by exactly one.
        if event.sequence <= previousSequence {
            return AuditBreak(kind: .outOfOrder, position: position, sequence: event.sequence)
        }
        if event.sequence > previousSequence + 1 {
            return AuditBreak(kind: .missing, position: position, sequence: event.sequence)
        }
        // Step 3: the event points at the hash of the one before it.
        guard constantTimeEqual(event.previousHash, previousHash) else {
            return AuditBreak(kind: .brokenLink, position: position, sequence: event.sequence)
        }
        previousSequence = event.sequence
        previousHash = event.hash
        position += 1
        return nil
    }

    /// After the last event: compares the end of the chain with the head recorded apart.
    public func finish(expectedHead: (UInt64, [UInt8])?) -> AuditVerification {
        if let (headSequence, headHash) = expectedHead {
            if previousSequence > headSequence {
                return .broken(AuditBreak(kind: .beyondHead, position: position - 1, sequence: previousSequence))
            }
            if headSequence != previousSequence || !constantTimeEqual(headHash, previousHash) {
                return .broken(AuditBreak(kind: .truncated, position: position, sequence: previousSequence + 1))
            }
        }
        return .intact(events: previousSequence, head: previousHash)
    }
}
