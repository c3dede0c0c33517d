import SCAAudit
import SCAContract
import SCARules
import SQLKit

extension DecisionStore {
    /// Events after sequence `after`, in order, at most `limit`.
    public nonisolated func auditEvents(after: UInt64, limit: Int) async throws -> [AuditEvent] {
        try await database.reader.raw(
            """
            SELECT sequence, at, kind, payload, previous_hash, hash FROM audit_events \
            WHERE sequence > \(bind: Int64(clamping: after)) ORDER BY sequence LIMIT \(bind: max(0, limit))
            """
        ).all().map { row in
            AuditEvent(
                sequence: UInt64(try row.decode(column: "sequence", as: Int64.self)),
                at: try row.decode(column: "at", as: String.self),
                kind: try row.decode(column: "kind", as: String.self),
                payload: try row.decode(column: "payload", as: String.self),
                previousHash: try Self.bytes(hex: row.decode(column: "previous_hash", as: String.self)),
                hash: try Self.bytes(hex: row.decode(column: "hash", as: String.self))
            )
        }
    }

    /// The head recorded apart from the events.
    public nonisolated func auditHead() async throws -> (UInt64, [UInt8]) {
        guard let row = try await database.reader.raw("SELECT sequence, hash FROM audit_head WHERE id = 1").all().first else {
            throw StorageError.corrupt("audit_head has no row")
        }
        return (
            UInt64(try row.decode(column: "sequence", as: Int64.self)),
            try Self.bytes(hex: row.decode(column: "hash", as: String.self))
        )
    }

    /// Verifies the whole chain page by page against the recorded head. A row whose hashes
    /// are not even hex counts as modified.
    public nonisolated func verifyAudit(pageSize: Int = 1000) async throws -> AuditVerification {
        let head = try await auditHead()
        var check = AuditChainCheck()
        var after: UInt64 = 0
        var position = 0
        while true {
            let page: [AuditEvent]
            do {
                page = try await auditEvents(after: after, limit: pageSize)
            } catch StorageError.corrupt {
                return .broken(AuditBreak(kind: .modified, position: position, sequence: after + 1))
            }
            for event in page {
                if let found = check.next(event) { return .broken(found) }
                position += 1
            }
            guard let last = page.last, page.count == pageSize else { break }
            after = last.sequence
        }
        return check.finish(expectedHead: head)
    }
}

/// What `checkState` found when it decided every stored request again.
public struct StateCheck: Sendable, Equatable {
    public var decisions = 0
    public var scaResults = 0
    /// Decisions whose answer (kept in their audit event) differs from the answer decided
    /// again, or whose request is missing or unreadable.
    public var answerMismatches: [String] = []
    /// Instruments whose stored counters differ from the ones the decisions imply.
    public var counterMismatches: [String] = []
    public var instruments = 0

    public var isConsistent: Bool { answerMismatches.isEmpty && counterMismatches.isEmpty }
}

extension DecisionStore {
    /// Decides every stored request again, in audit order, in memory, from empty state:
    /// each answer must equal the one its audit event holds, and the stored counters must
    /// equal what the decisions imply. Run it on a store no one is writing to.
    public nonisolated func checkState(pageSize: Int = 1000) async throws -> StateCheck {
        let decoder = RequestDecoder(referenceRates: engine.configuration.referenceRates, absentSCA: nil)
        var memory = InMemoryState()
        var result = StateCheck()
        var after: UInt64 = 0
        while true {
            let page = try await auditEvents(after: after, limit: pageSize)
            // Only decisions and SCA results change the rules state; the other events (the
            // gate's, the payments', the retention sweeps) have nothing to decide again.
            let payloads = try page.filter { AuditPayload.kinds.contains($0.kind) }.map {
                try AuditPayload(text: $0.payload, kind: $0.kind)
            }
            let ids = Array(Set(payloads.map(\.decisionID)))
            let rows =
                ids.isEmpty
                ? []
                : try await database.reader.raw(
                    "SELECT id, tenant, request FROM decisions WHERE id IN (\(binds: ids))"
                ).all()
            var requests: [String: (tenant: String, text: String)] = [:]
            for row in rows {
                requests[try row.decode(column: "id", as: String.self)] = (
                    try row.decode(column: "tenant", as: String.self), try row.decode(column: "request", as: String.self)
                )
            }
            for payload in payloads {
                guard let (tenant, text) = requests[payload.decisionID],
                    case .success(let decoded) = decoder.decode(line: Array(text.utf8))
                else {
                    result.answerMismatches.append(payload.decisionID)
                    continue
                }
                // In the namespace of the rules state it was decided in.
                var request = ResourceOwner.namespaced(decoded, tenant: tenant)
                request.sca = payload.sca.requestSCA
                let prior = memory.prior(for: request)
                let (decision, effects) = engine.decide(request, prior: prior).parts()
                if payload.isDecision {
                    result.decisions += 1
                    if AnswerEncoder.line(decision) != payload.answer { result.answerMismatches.append(payload.decisionID) }
                    memory.apply(effects, of: request, configuration: engine.configuration)
                } else {
                    result.scaResults += 1
                    if decision.outcome == .scaRequired { memory.apply(effects, of: request, configuration: engine.configuration) }
                }
            }
            guard let last = page.last, page.count == pageSize else { break }
            after = last.sequence
        }
        let expected = memory.counters
        var storedCounters: [InstrumentKey: InstrumentCounters] = [:]
        for row in try await database.reader.raw(SQLQueryString("SELECT \(unsafeRaw: BatchState.counterColumns) FROM instrument_counters"))
            .all()
        {
            let (key, value) = try BatchState.counters(row)
            storedCounters[key] = value
        }
        result.instruments = storedCounters.count
        for key in Set(expected.keys).union(storedCounters.keys) where expected[key] != storedCounters[key] {
            result.counterMismatches.append("\(key.payer.value)/\(key.instrument.value)")
        }
        result.counterMismatches.sort()
        return result
    }
}

/// The parts of an audit payload the state check reads, for an event of one of `kinds`.
struct AuditPayload {
    /// The kinds of event that carry a decision.
    static let kinds: Set<String> = ["decision", "sca_result"]

    let decisionID: String
    let sca: SCAStatus
    let isDecision: Bool
    /// A decision's answer as given (nil for an SCA result's event, or a decision event
    /// that does not hold one, which then counts as a mismatch).
    let answer: String?

    init(text: String, kind: String) throws {
        guard case .object(let object)? = try? JSONParser.parse(text),
            case .string(let id)? = object["decision_id"], case .string(let scaName)? = object["sca"],
            let sca = SCAStatus(rawValue: scaName)
        else { throw StorageError.corrupt("audit payload of kind \(kind) is not readable") }
        decisionID = id
        self.sca = sca
        isDecision = kind == "decision"
        answer = isDecision ? DecisionStore.answer(inPayload: text) : nil
    }
}
