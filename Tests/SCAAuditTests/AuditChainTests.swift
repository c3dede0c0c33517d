import Crypto
import SCAPrimitives
import Testing

@testable import SCAAudit

/// Every way of tampering with a stored chain is found, and named at the first bad event.
struct AuditChainTests {
    /// A chain of `count` decision events.
    static func chain(_ count: Int) -> [AuditEvent] {
        var chain = AuditChain()
        return (1...count).map { index in
            chain.append(
                kind: "decision", at: "2026-11-21T08:\(index < 10 ? "0" : "")\(index % 60):00Z",
                payload: #"{"id":"e\#(index)","outcome":"exempt","reason":"low_value"}"#
            )
        }
    }

    /// The same event with one field replaced, its hash kept (what an editor of the table does).
    static func edited(
        _ event: AuditEvent, payload: String? = nil, at: String? = nil, sequence: UInt64? = nil,
        previousHash: [UInt8]? = nil
    ) -> AuditEvent {
        AuditEvent(
            sequence: sequence ?? event.sequence, at: at ?? event.at, kind: event.kind,
            payload: payload ?? event.payload, previousHash: previousHash ?? event.previousHash, hash: event.hash
        )
    }

    @Test func anUntouchedChainVerifies() {
        let events = Self.chain(10)
        #expect(AuditVerifier.verify(events) == .intact(events: 10, head: events[9].hash))
        #expect(AuditVerifier.verify(events, expectedHead: (10, events[9].hash)) == .intact(events: 10, head: events[9].hash))
        #expect(AuditVerifier.verify([]) == .intact(events: 0, head: AuditChain.genesisHash))
    }

    @Test func eachHashIsSHA256OfTheCanonicalBytesAndTheFirstPointsAtZero() {
        let events = Self.chain(2)
        #expect(events[0].previousHash == AuditChain.genesisHash)
        #expect(events[1].previousHash == events[0].hash)
        #expect(events[0].hash == Array(SHA256.hash(data: events[0].canonicalBytes)))
        let text = String(decoding: events[0].canonicalBytes, as: UTF8.self)
        #expect(text.hasPrefix(#"{"sequence":1,"at":"2026-11-21T08:01:00Z","kind":"decision","payload":"{\"id\":\"e1\","#))
        #expect(text.hasSuffix(#","previous":"0000000000000000000000000000000000000000000000000000000000000000"}"#))
    }

    /// The canonical JSON string escapes exactly `"`, `\` and control bytes (as `\u00xx`),
    /// and copies everything else byte for byte, UTF-8 included: stored chains were hashed
    /// over these bytes, so they must never change.
    @Test func canonicalStringsEscapeQuotesBackslashesAndControlBytesOnly() {
        let cases: [(String, String)] = [
            ("", #""""#),
            ("plain", #""plain""#),
            (#"say "hi""#, #""say \"hi\"""#),
            (#"a\b"#, #""a\\b""#),
            ("line\nnext\u{1}\u{1f}", #""line\u000anext\u0001\u001f""#),
            ("\"", #""\"""#),
            ("zł 💶 é\t", #""zł 💶 é\u0009""#),
            ("\u{7f}~", "\"\u{7f}~\""),
        ]
        for (text, expected) in cases {
            var out: [UInt8] = []
            AuditEvent.appendJSONString(text, into: &out)
            #expect(String(decoding: out, as: UTF8.self) == expected, "\(text.debugDescription)")
        }
    }

    /// FIPS 180-2's "abc", the empty string, and text beyond ASCII (hashed as UTF-8).
    @Test func sha256HexIsTheDigestOfTheUTF8Bytes() {
        #expect(sha256Hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(sha256Hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(sha256Hex("Zażółć") == "1b45560b47f44bbf87bf66cb5d1840e833c5857f8c5656a2f42656153853f8d1")
    }

    @Test func aModifiedPayloadIsFound() {
        var events = Self.chain(10)
        events[4] = Self.edited(events[4], payload: #"{"id":"e5","outcome":"sca_required","reason":"no_exemption"}"#)
        #expect(AuditVerifier.verify(events) == .broken(AuditBreak(kind: .modified, position: 4, sequence: 5)))
    }

    @Test func aModifiedInstantIsFound() {
        var events = Self.chain(10)
        events[0] = Self.edited(events[0], at: "2026-11-20T08:01:00Z")
        #expect(AuditVerifier.verify(events) == .broken(AuditBreak(kind: .modified, position: 0, sequence: 1)))
    }

    @Test func anEventRehashedAfterEditingBreaksTheNextLink() {
        var events = Self.chain(10)
        // The attacker edits event 5 and recomputes its hash, but cannot fix event 6.
        let original = events[4]
        let forgedBytes = AuditEvent.canonicalBytes(
            sequence: original.sequence, at: original.at, kind: original.kind, payload: "{}", previousHash: original.previousHash
        )
        events[4] = AuditEvent(
            sequence: original.sequence, at: original.at, kind: original.kind, payload: "{}",
            previousHash: original.previousHash, hash: Array(SHA256.hash(data: forgedBytes))
        )
        #expect(AuditVerifier.verify(events) == .broken(AuditBreak(kind: .brokenLink, position: 5, sequence: 6)))
    }

    @Test func aDeletedEventIsFound() {
        var events = Self.chain(10)
        events.remove(at: 3)
        #expect(AuditVerifier.verify(events) == .broken(AuditBreak(kind: .missing, position: 3, sequence: 5)))
    }

    @Test func twoSwappedEventsAreFound() {
        var events = Self.chain(10)
        events.swapAt(2, 3)
        #expect(AuditVerifier.verify(events) == .broken(AuditBreak(kind: .missing, position: 2, sequence: 4)))
    }

    @Test func anInsertedEventIsFound() {
        var events = Self.chain(10)
        var other = AuditChain()
        let stranger = other.append(kind: "decision", at: "2026-11-21T09:00:00Z", payload: "{}")
        events.insert(stranger, at: 6)
        #expect(AuditVerifier.verify(events) == .broken(AuditBreak(kind: .outOfOrder, position: 6, sequence: 1)))
    }

    @Test func anInsertedEventWithTheNextSequenceNumberBreaksTheLink() {
        var events = Self.chain(5)
        // A well-formed event for sequence 6, but chained to a forged predecessor.
        var forger = AuditChain()
        for _ in 1...5 { _ = forger.append(kind: "decision", at: "2026-11-21T10:00:00Z", payload: "{}") }
        events.append(forger.append(kind: "decision", at: "2026-11-21T10:00:00Z", payload: "{}"))
        #expect(AuditVerifier.verify(events) == .broken(AuditBreak(kind: .brokenLink, position: 5, sequence: 6)))
    }

    @Test func aCutOffTailIsFoundAgainstTheRecordedHead() {
        let events = Self.chain(10)
        let head = (UInt64(10), events[9].hash)
        #expect(
            AuditVerifier.verify(events.dropLast(2), expectedHead: head)
                == .broken(AuditBreak(kind: .truncated, position: 8, sequence: 9)))
    }

    @Test func eventsAppendedPastTheRecordedHeadAreFound() {
        // Well-formed, correctly linked events written after the head: only the head shows it.
        let events = Self.chain(10)
        let head = (UInt64(8), events[7].hash)
        #expect(
            AuditVerifier.verify(events, expectedHead: head)
                == .broken(AuditBreak(kind: .beyondHead, position: 9, sequence: 10)))
        #expect(AuditVerifier.verify(events.prefix(8), expectedHead: head) == .intact(events: 8, head: events[7].hash))
    }

    @Test func aChainContinuesFromItsStoredHead() {
        let events = Self.chain(3)
        var chain = AuditChain(continuingAfter: events[2])
        let next = chain.append(kind: "decision", at: "2026-11-21T11:00:00Z", payload: "{}")
        #expect(next.sequence == 4)
        #expect(AuditVerifier.verify(events + [next]) == .intact(events: 4, head: next.hash))
    }

    @Test func constantTimeEqualityComparesEveryByte() {
        #expect(constantTimeEqual([1, 2, 3], [1, 2, 3]))
        #expect(!constantTimeEqual([1, 2, 3], [1, 2, 4]))
        #expect(!constantTimeEqual([1, 2, 3], [1, 2]))
        #expect(!constantTimeEqual([1, 2], [1, 2, 0]))
        #expect(!constantTimeEqual([0], []))
        #expect(constantTimeEqual([], []))
    }
}
