import Logging
import NIOConcurrencyHelpers
import NIOCore
import SCAAudit
import SCAContract
import SCAPrimitives
import SCARules
import SQLKit

/// Decides requests against durable state, with group commit: requests that arrive while
/// a transaction commits wait together and go into the next one, so one fsync
/// acknowledges many decisions. Each transaction locks the payers it touches, decides in
/// arrival order, writes the state changes, the decision records and their audit events,
/// and commits; only then are the answers released. A failed transaction releases nothing
/// and is retried; after the last retry its requests are answered "unavailable".
///
/// The queue is bounded (`Options.queueMax`): past it a call is answered `busy` at once and
/// nothing is written. A `transact` job runs inside its own savepoint, so whatever it throws
/// rolls back that job alone; the rest of its batch commits.
public actor DecisionStore {
    public struct Options: Sendable {
        /// The most requests one transaction takes; 1 turns group commit off (one
        /// transaction per request: the baseline of the benchmarks).
        public var batchMax: Int
        /// Transactions retried after a failure (a deadlock, a lost compare-and-set).
        public var retries: Int
        /// The most jobs that may wait for a transaction; a call that would pass it is
        /// answered `busy` (HTTP 503 with `Retry-After`) instead of waiting without bound.
        public var queueMax: Int

        /// The default of the `storage.batch_max` setting.
        public static let batchMaxDefault = 256
        /// The default of the `storage.queue_max` setting: 32 full batches, a few hundred
        /// milliseconds of work at the writer's slowest measured rate.
        public static let queueMaxDefault = 8192

        public init(batchMax: Int = Options.batchMaxDefault, retries: Int = 3, queueMax: Int = Options.queueMaxDefault) {
            self.batchMax = batchMax
            self.retries = retries
            self.queueMax = queueMax
        }
    }

    public nonisolated let database: StoreDatabase
    public nonisolated let engine: RulesEngine
    /// The one clock of the engine (see `EngineClock`).
    public nonisolated let clock: EngineClock
    /// Where the API keys decisions come with are checked again, in their transaction.
    public nonisolated let credentials = CredentialCheck()

    /// The committer runs on the writer connection's own thread (see `StoreDatabase`).
    public nonisolated var unownedExecutor: UnownedSerialExecutor {
        database.writerLoop.executor.asUnownedSerialExecutor()
    }
    let decoder: RequestDecoder
    let options: Options
    let logger: Logger

    private enum Job: Sendable {
        case decide(DecisionSubmission)
        case reportSCA(id: String, result: SCAResult, owner: ResourceOwner)
        case work(TransactionWork<any Sendable>)
    }

    private enum JobResult: Sendable {
        case decision(DecisionResult)
        case report(SCAReportResult)
        case work(Result<any Sendable, any Error>)
    }

    /// One caller's jobs (one request, or a run of a replay) and where their answers go:
    /// to a suspended task, or to a function called on the writer's thread.
    private struct Pending {
        let jobs: [Job]
        /// Given the batch's results for these jobs, in order.
        let reply: @Sendable (ArraySlice<JobResult>) -> Void
    }

    /// Callers' jobs waiting for a transaction, and whether a drain is running. Kept under
    /// a lock rather than on the actor, so that a caller hands its jobs over without a hop
    /// to the writer's thread (and its answer comes back without one).
    private struct Inbox {
        var queue: [Pending] = []
        /// Jobs in `queue`, against `Options.queueMax`.
        var queuedJobs = 0
        var refusedBusy = 0
        var draining = false
    }
    private nonisolated let inbox = NIOLockedValueBox(Inbox())

    /// Transactions committed and requests they carried, for metrics.
    public private(set) var commits = 0
    public private(set) var committedJobs = 0
    /// Calls answered `busy` because the queue was full.
    public nonisolated var refusedBusy: Int { inbox.withLockedValue { $0.refusedBusy } }
    /// Jobs waiting for a transaction now.
    public nonisolated var queuedJobs: Int { inbox.withLockedValue { $0.queuedJobs } }

    public init(
        database: StoreDatabase, engine: RulesEngine, options: Options = Options(), clock: EngineClock = .system, logger: Logger
    ) {
        self.database = database
        self.engine = engine
        self.clock = clock
        self.decoder = RequestDecoder(referenceRates: engine.configuration.referenceRates, absentSCA: nil)
        self.options = options
        self.logger = logger
    }

    // MARK: Submitting

    /// A request to submit, with the id its decision will get (time-ordered on `clock`).
    public nonisolated func submission(
        _ request: DecisionRequest, text: String, owner: ResourceOwner = .engine, credential: String? = nil,
        idempotencyKey: String? = nil
    ) -> DecisionSubmission {
        DecisionSubmission(
            request: request, requestText: text, owner: owner, credential: credential, idempotencyKey: idempotencyKey,
            madeAt: clock.now())
    }

    public nonisolated func decide(_ submission: DecisionSubmission) async -> DecisionResult {
        await withCheckedContinuation { continuation in
            decide(submission) { continuation.resume(returning: $0) }
        }
    }

    /// Decides one request and hands the result to `reply` once its transaction has
    /// committed (or failed), on the writer's thread: for callers that are not tasks, such
    /// as an event loop's channel handler, which must not block that thread. `reply`
    /// should only pass the result on.
    public nonisolated func decide(_ submission: DecisionSubmission, reply: @escaping @Sendable (DecisionResult) -> Void) {
        enqueue([.decide(submission)]) { results in
            guard case .decision(let result) = results.first else { preconditionFailure("a decision job answers with a decision") }
            reply(result)
        }
    }

    /// Decides a run of requests in their order (the `sca decide --db` replay); a run
    /// longer than `batchMax` is split over several transactions, still in order.
    public nonisolated func decide(_ submissions: [DecisionSubmission]) async -> [DecisionResult] {
        var results: [DecisionResult] = []
        results.reserveCapacity(submissions.count)
        var start = 0
        while start < submissions.count {
            let end = min(submissions.count, start + max(1, options.batchMax))
            for result in await submit(submissions[start..<end].map(Job.decide)) {
                guard case .decision(let decided) = result else { preconditionFailure("a decision job answers with a decision") }
                results.append(decided)
            }
            start = end
        }
        return results
    }

    /// Records the outcome of the SCA a pending decision asked for; a passed one applies
    /// what it completes (counter resets, series, trusted payee, mandate, session, consent).
    /// Only the decision's owner may: another's decision is `notFound`, as one that does
    /// not exist. The engine's own decisions are completed only by the gate.
    public nonisolated func reportSCA(decision id: String, result: SCAResult, owner: ResourceOwner) async -> SCAReportResult {
        guard DecisionID.isWellFormed(id) else { return .notFound }
        guard case .report(let outcome) = await submit([.reportSCA(id: id, result: result, owner: owner)])[0] else {
            preconditionFailure("an SCA report answers with a report")
        }
        return outcome
    }

    /// Runs `work` inside the next group-commit transaction, in arrival order with the
    /// decisions around it, and returns its value once the transaction has committed.
    /// `work` reads and writes through the scope (on the writer's thread) and appends audit
    /// events to the same chain. Whatever it throws, its own writes are rolled back (to a
    /// savepoint) and the error is rethrown to this caller alone; the rest of the
    /// transaction commits. A failure of the transaction itself retries it, running `work`
    /// again, so `work` must depend on nothing but what it reads through the scope.
    /// Throws `StorageError.busy` when the queue is full and `StorageError.unavailable`
    /// when the transaction cannot be committed.
    public nonisolated func transact<T: Sendable>(_ work: @escaping TransactionWork<T>) async throws -> T {
        let erased: TransactionWork<any Sendable> = { scope in try await work(scope) }
        guard case .work(let result) = await submit([.work(erased)])[0] else {
            preconditionFailure("a work job answers with its result")
        }
        return try result.get() as! T
    }

    private nonisolated func submit(_ jobs: [Job]) async -> [JobResult] {
        await withCheckedContinuation { continuation in
            enqueue(jobs) { continuation.resume(returning: Array($0)) }
        }
    }

    private enum Admission { case queued, queuedAndStartDrain, busy }

    /// Queues `jobs` unless the queue is full; a full queue answers them `busy` at once,
    /// on the caller's thread. A run is always taken into an empty queue, so a replay whose
    /// runs are larger than the bound still makes progress.
    private nonisolated func enqueue(_ jobs: [Job], reply: @escaping @Sendable (ArraySlice<JobResult>) -> Void) {
        let admission = inbox.withLockedValue { inbox -> Admission in
            if inbox.queuedJobs > 0, inbox.queuedJobs + jobs.count > options.queueMax {
                inbox.refusedBusy += 1
                return .busy
            }
            inbox.queue.append(Pending(jobs: jobs, reply: reply))
            inbox.queuedJobs += jobs.count
            if inbox.draining { return .queued }
            inbox.draining = true
            return .queuedAndStartDrain
        }
        switch admission {
        case .queued: break
        case .queuedAndStartDrain: Task { await self.drain() }
        case .busy: reply(ArraySlice(jobs.map { Self.unserved($0, .busy) }))
        }
    }

    /// A job's answer when it was not carried out: the queue was full (`busy`) or its
    /// transaction could not be committed (`unavailable`).
    private static func unserved(_ job: Job, _ error: StorageError) -> JobResult {
        let busy = error == .busy
        let message = if case .unavailable(let text) = error { text } else { error.description }
        switch job {
        case .decide: return .decision(busy ? .busy : .unavailable(message))
        case .reportSCA: return .report(busy ? .busy : .unavailable(message))
        case .work: return .work(.failure(error))
        }
    }

    /// Takes whole callers' runs from the queue, up to `batchMax` jobs a transaction, until
    /// the queue is empty.
    private func drain() async {
        while let batch = takeBatch() {
            let results = await run(batch.flatMap(\.jobs))
            commits += 1
            committedJobs += results.count
            var offset = 0
            for pending in batch {
                pending.reply(results[offset..<offset + pending.jobs.count])
                offset += pending.jobs.count
            }
        }
    }

    /// The next batch, or nil (and the drain marked finished) when nothing waits.
    private nonisolated func takeBatch() -> [Pending]? {
        inbox.withLockedValue { inbox in
            guard !inbox.queue.isEmpty else {
                inbox.draining = false
                return nil
            }
            var taken = 0
            var jobCount = 0
            while taken < inbox.queue.count,
                taken == 0 || jobCount + inbox.queue[taken].jobs.count <= options.batchMax
            {
                jobCount += inbox.queue[taken].jobs.count
                taken += 1
            }
            let batch = Array(inbox.queue.prefix(taken))
            inbox.queue.removeFirst(taken)
            inbox.queuedJobs -= jobCount
            return batch
        }
    }

    // MARK: One transaction

    private func run(_ jobs: [Job]) async -> [JobResult] {
        var attempt = 0
        while true {
            do {
                return try await commit(jobs)
            } catch {
                try? await database.transaction.run("ROLLBACK")
                attempt += 1
                if attempt > options.retries {
                    logger.error("batch failed", metadata: ["error": "\(String(reflecting: error))", "jobs": "\(jobs.count)"])
                    let failure = StorageError.unavailable("the decision could not be stored; nothing was recorded")
                    return jobs.map { Self.unserved($0, failure) }
                }
                logger.warning("batch retried", metadata: ["error": "\(String(reflecting: error))", "attempt": "\(attempt)"])
            }
        }
    }

    private func commit(_ jobs: [Job]) async throws -> [JobResult] {
        let db = database.transaction
        let instant = clock.now()
        let now = instant.rfc3339
        try await db.run(database.beginWrite)
        // 0. The API keys the decisions came with, checked again in this transaction: a
        //    revocation committed before it holds, whatever a node remembers of the key.
        let refused = try await refusedCredentials(jobs, now: instant)
        // 1. Idempotency keys, claimed first in key order. A key another transaction holds
        //    makes this one wait for it (PostgreSQL) and then lose the claim.
        let (leaderOfKey, earlier) = try await claimIdempotencyKeys(jobs, skipping: refused, now: now)
        // 2. SCA reports: the decisions they complete, locked.
        var reported = try await lockReportedDecisions(jobs)
        // 3. The payers' rows, locked, and the state the requests read.
        var keys = BatchState.Keys()
        for (index, job) in jobs.enumerated() {
            switch job {
            case .decide(let submission):
                if refused.contains(index) { continue }
                if let key = submission.idempotencyKey, earlier[key] != nil || leaderOfKey[key] != index { continue }
                keys.add(submission.request)
            case .reportSCA(let id, _, let owner):
                if let entry = reported[id], entry.decision.tenant == owner.tenant { keys.add(entry.request) }
            case .work:
                break
            }
        }
        var state = try await BatchState.load(keys, on: database, configuration: engine.configuration)
        // 4. The audit chain's head, locked last.
        var chain = try await lockAuditHead()

        // 5. Decide in arrival order.
        var results: [JobResult] = []
        results.reserveCapacity(jobs.count)
        var newDecisions: [(decision: StoredDecision, payer: String, request: String)] = []
        var scaUpdates: [(id: String, status: SCAStatus)] = []
        var events: [AuditEvent] = []
        var decidedByIndex: [Int: StoredDecision] = [:]
        for (index, job) in jobs.enumerated() {
            switch job {
            case .decide(let submission):
                if refused.contains(index) {
                    results.append(.decision(.unauthenticated))
                    continue
                }
                if let key = submission.idempotencyKey {
                    if let (digest, decision) = earlier[key] {
                        results.append(.decision(digest == submission.digest ? .decided(decision, replayed: true) : .idempotencyConflict))
                        continue
                    }
                    if let leader = leaderOfKey[key], leader != index {
                        guard case .decide(let first) = jobs[leader], let decision = decidedByIndex[leader] else {
                            preconditionFailure("a key's first request is decided before its repeats")
                        }
                        results.append(
                            .decision(first.digest == submission.digest ? .decided(decision, replayed: true) : .idempotencyConflict))
                        continue
                    }
                }
                let request = submission.request
                let (decision, effects) = engine.decide(request, prior: state.prior(for: request)).parts()
                let sequence = chain.lastSequence + 1
                state.apply(effects, of: request, recorded: Int64(sequence))
                let status = SCAStatus(outcome: decision.outcome, sca: request.sca)
                let id = submission.id
                let (answer, payload) = Self.answerAndPayload(decision, id: id, status: status, digest: submission.digest)
                events.append(chain.append(kind: "decision", at: now, payload: payload))
                let stored = StoredDecision(
                    id: id, tenant: submission.owner.tenant, createdAt: now, answer: answer, outcome: decision.outcome.rawValue,
                    reason: decision.reason.rawValue, sca: status, auditSequence: Int64(sequence)
                )
                newDecisions.append((stored, request.payer.id.value, submission.requestText))
                decidedByIndex[index] = stored
                results.append(.decision(.decided(stored, replayed: false)))
            case .reportSCA(let id, let result, let owner):
                guard var entry = reported[id], entry.decision.tenant == owner.tenant else {
                    results.append(.report(.notFound))
                    continue
                }
                let wanted: SCAStatus = result == .passed ? .passed : .failed
                guard entry.decision.sca == .pending else {
                    results.append(
                        .report(entry.decision.sca == wanted ? .recorded(entry.decision, replayed: true) : .notPending(entry.decision)))
                    continue
                }
                var request = entry.request
                request.sca = result
                let (decision, effects) = engine.decide(request, prior: state.prior(for: request)).parts()
                let sequence = chain.lastSequence + 1
                // The SCA completes the action only while it still needs one.
                if decision.outcome == .scaRequired { state.apply(effects, of: request, recorded: Int64(sequence)) }
                let payload = #"{"decision_id":"# + JSONWriter.quoted(id) + #","sca":"# + JSONWriter.quoted(wanted.rawValue) + "}"
                events.append(chain.append(kind: "sca_result", at: now, payload: payload))
                entry.decision.sca = wanted
                reported[id] = entry
                scaUpdates.append((id, wanted))
                results.append(.report(.recorded(entry.decision, replayed: false)))
            case .work(let work):
                let outcome = try await isolated(work, now: instant, chain: chain)
                if case .success = outcome.result {
                    chain = outcome.scope.chain
                    events += outcome.scope.events
                }
                results.append(.work(outcome.result))
            }
        }

        // 6. Write everything, then commit.
        try await state.write(on: database)
        try await write(newDecisions, scaUpdates: scaUpdates, events: events, head: chain)
        try await db.run("COMMIT")
        return results
    }

    /// The decisions (by index) whose API key is no longer live.
    private func refusedCredentials(_ jobs: [Job], now: Instant) async throws -> Set<Int> {
        var digests: [Int: String] = [:]
        for (index, job) in jobs.enumerated() {
            if case .decide(let submission) = job, let credential = submission.credential { digests[index] = credential }
        }
        guard !digests.isEmpty else { return [] }
        let live = try await credentials.live(Array(Set(digests.values)), now: now, database: database)
        return Set(digests.filter { !live.contains($0.value) }.keys)
    }

    /// Claims the batch's idempotency keys (the first request of each key leads); returns
    /// each key's leading job and, for keys an earlier transaction holds, what it decided.
    private func claimIdempotencyKeys(
        _ jobs: [Job], skipping refused: Set<Int>, now: String
    ) async throws -> (leaderOfKey: [String: Int], earlier: [String: (digest: String, decision: StoredDecision)]) {
        let db = database.transaction
        var leaderOfKey: [String: Int] = [:]
        for (index, job) in jobs.enumerated() where !refused.contains(index) {
            guard case .decide(let submission) = job else { continue }
            if let key = submission.idempotencyKey, leaderOfKey[key] == nil { leaderOfKey[key] = index }
        }
        var earlier: [String: (digest: String, decision: StoredDecision)] = [:]
        if !leaderOfKey.isEmpty {
            let claims = leaderOfKey.sorted { $0.key < $1.key }
            var claim = RowStatement(Self.claimKeys, reservingRows: claims.count)
            for entry in claims {
                guard case .decide(let submission) = jobs[entry.value] else { preconditionFailure() }
                claim.add(.text(entry.key), .text(submission.digest), .text(submission.id), .text(now))
            }
            let won = Set(try await db.all(claim).map { try $0.decode(column: "key", as: String.self) })
            let lost = claims.map(\.key).filter { !won.contains($0) }
            if !lost.isEmpty {
                let rows = try await db.all(
                    "SELECT key, request_digest, decision_id FROM idempotency_keys WHERE key IN (\(binds: lost))"
                )
                var digests: [String: (key: String, digest: String)] = [:]
                for row in rows {
                    digests[try row.decode(column: "decision_id", as: String.self)] = (
                        try row.decode(column: "key", as: String.self), try row.decode(column: "request_digest", as: String.self)
                    )
                }
                for decision in try await db.all(Self.selectDecisions(Array(digests.keys))).map(Self.storedDecision) {
                    let entry = digests[decision.id]!
                    earlier[entry.key] = (entry.digest, decision)
                }
                guard earlier.count == lost.count else { throw StorageError.corrupt("idempotency key without its decision") }
            }
        }
        return (leaderOfKey, earlier)
    }

    /// The decisions the batch's SCA reports complete, locked, with their requests.
    private func lockReportedDecisions(_ jobs: [Job]) async throws -> [String: (decision: StoredDecision, request: DecisionRequest)] {
        let db = database.transaction
        var reported: [String: (decision: StoredDecision, request: DecisionRequest)] = [:]
        let reportIDs = Set(
            jobs.compactMap { job -> String? in
                if case .reportSCA(let id, _, _) = job { return id }
                return nil
            }
        ).sorted()
        if !reportIDs.isEmpty {
            let rows = try await db.all(
                "\(unsafeRaw: Self.selectStored), d.request AS request\(unsafeRaw: Self.fromStored)\(binds: reportIDs)) ORDER BY d.id"
                    + database.forUpdate
            )
            for row in rows {
                let decision = try Self.storedDecision(row)
                let text = try row.decode(column: "request", as: String.self)
                guard case .success(let request) = decoder.decode(line: Array(text.utf8)) else {
                    throw StorageError.corrupt("stored request of \(decision.id) does not decode")
                }
                reported[decision.id] = (decision, ResourceOwner.namespaced(request, tenant: decision.tenant))
            }
        }

        return reported
    }

    /// The audit chain's head, locked.
    private func lockAuditHead() async throws -> AuditChain {
        let db = database.transaction
        let headRows = try await db.all(SQLQueryString("SELECT sequence, hash FROM audit_head WHERE id = 1") + database.forUpdate)
        guard let headRow = headRows.first else { throw StorageError.corrupt("audit_head has no row") }
        return AuditChain(
            lastSequence: UInt64(try headRow.decode(column: "sequence", as: Int64.self)),
            lastHash: try Self.bytes(hex: headRow.decode(column: "hash", as: String.self))
        )
    }

    /// The batch's new decisions, SCA results, audit events and the chain's new head.
    private func write(
        _ newDecisions: [(decision: StoredDecision, payer: String, request: String)], scaUpdates: [(id: String, status: SCAStatus)],
        events: [AuditEvent], head chain: AuditChain
    ) async throws {
        let db = database.transaction
        var decisions = RowStatement(Self.insertDecisions, reservingRows: newDecisions.count)
        for entry in newDecisions {
            let decision = entry.decision
            decisions.add(
                .text(decision.id), .integer(decision.auditSequence), .text(decision.createdAt), .text(entry.payer),
                .text(decision.outcome), .text(decision.reason), .text(decision.sca.rawValue), .text(entry.request),
                .text(decision.tenant)
            )
        }
        try await db.run(decisions)
        for update in scaUpdates {
            try await db.run("UPDATE decisions SET sca = \(bind: update.status.rawValue) WHERE id = \(bind: update.id)")
        }
        if !events.isEmpty {
            var insert = RowStatement(Self.insertEvents, reservingRows: events.count)
            var previousHash = hex(events[0].previousHash)  // each later one is the hash before it
            for event in events {
                let hash = hex(event.hash)
                insert.add(
                    .integer(Int64(event.sequence)), .text(event.at), .text(event.kind), .text(event.payload),
                    .text(previousHash), .text(hash)
                )
                previousHash = hash
            }
            try await db.run(insert)
            try await db.run(
                "UPDATE audit_head SET sequence = \(bind: Int64(chain.lastSequence)), hash = \(bind: hex(chain.lastHash)) WHERE id = 1"
            )
        }
    }

    /// Runs one `transact` job inside its own savepoint. Whatever the job throws (a
    /// refusal, a failed statement, a bug) rolls back its writes alone and becomes its own
    /// answer; the batch around it goes on. Only a savepoint that cannot be rolled back
    /// (the connection is gone) fails the transaction.
    private func isolated(
        _ work: TransactionWork<any Sendable>, now: Instant, chain: AuditChain
    ) async throws -> (result: Result<any Sendable, any Error>, scope: TransactionScope) {
        let db = database.transaction
        let scope = TransactionScope(database: database, now: now, chain: chain)
        try await db.run("SAVEPOINT work")
        do {
            let value = try await work(scope)
            try await db.run("RELEASE SAVEPOINT work")
            return (.success(value), scope)
        } catch {
            try await db.run("ROLLBACK TO SAVEPOINT work")
            try await db.run("RELEASE SAVEPOINT work")
            if !(error is any TransactionRefusal) {
                logger.error("a transaction job failed alone", metadata: ["error": "\(String(reflecting: error))"])
            }
            return (.failure(error), scope)
        }
    }

    /// A decision's answer line and its audit event's payload, which holds the answer
    /// whole: each built in one buffer. The payload is where the answer is kept (the
    /// decision's row does not repeat it; `answer(inPayload:)` takes it back out).
    static func answerAndPayload(
        _ decision: Decision, id: String, status: SCAStatus, digest: String
    ) -> (answer: String, payload: String) {
        var answer: [UInt8] = []
        answer.reserveCapacity(512)  // an answer is 300–400 bytes
        AnswerEncoder.encode(decision, into: &answer)
        var payload: [UInt8] = []
        payload.reserveCapacity(answer.count + 192)  // the id, the status and a 64-digit digest, with their keys
        payload.append(contentsOf: #"{"decision_id":"#.utf8)
        JSONWriter.appendString(id, into: &payload)
        payload.append(contentsOf: #","sca":"#.utf8)
        JSONWriter.appendString(status.rawValue, into: &payload)
        payload.append(contentsOf: #","request_sha256":"#.utf8)
        JSONWriter.appendString(digest, into: &payload)
        payload.append(contentsOf: #","answer":"#.utf8)
        payload.append(contentsOf: answer)
        payload.append(UInt8(ascii: "}"))
        return (String(decoding: answer, as: UTF8.self), String(decoding: payload, as: UTF8.self))
    }

    /// The answer a decision event's payload holds, byte for byte as `answerAndPayload` put
    /// it there: everything after the first `,"answer":` (the fields before it are an id of
    /// ours, a status code and a hex digest, none of which can contain it) up to the closing
    /// brace. Nil for a payload of another shape.
    static func answer(inPayload payload: String) -> String? {
        guard payload.hasPrefix(#"{"decision_id":""#), payload.hasSuffix("}"),
            let marker = payload.firstRange(of: Self.answerMarker)
        else { return nil }
        return String(payload[marker.upperBound..<payload.index(before: payload.endIndex)])
    }

    private static let answerMarker = #","answer":"#

    static let claimKeys = RowStatement.Shape.insert(
        into: "idempotency_keys", "key, request_digest, decision_id, created_at", " ON CONFLICT (key) DO NOTHING RETURNING key"
    )
    static let insertDecisions = RowStatement.Shape.insert(
        into: "decisions", "id, audit_sequence, created_at, payer, outcome, reason, sca, request, tenant"
    )
    static let insertEvents = RowStatement.Shape.insert(into: "audit_events", "sequence, at, kind, payload, previous_hash, hash")

    // MARK: Reading

    /// A decision by id, from the reader connection; nil when `owner` is given and the
    /// decision is another's.
    public nonisolated func decision(id: String, owner: ResourceOwner? = nil) async throws -> StoredDecision? {
        guard DecisionID.isWellFormed(id) else { return nil }
        let found = try await database.reader.raw(Self.selectDecisions([id])).all().map(Self.storedDecision).first
        guard let found, owner == nil || found.tenant == owner?.tenant else { return nil }
        return found
    }

    /// The decisions with these ids, each with its audit event's payload, which holds its
    /// answer (rows for `storedDecision`).
    static func selectDecisions(_ ids: [String]) -> SQLQueryString {
        "\(unsafeRaw: selectStored)\(unsafeRaw: fromStored)\(binds: ids))"
    }

    /// The columns `storedDecision` reads, and where from (the caller closes `IN (`).
    private static let selectStored = """
        SELECT d.id AS id, d.tenant AS tenant, d.created_at AS created_at, d.outcome AS outcome, d.reason AS reason, d.sca AS sca, \
        d.audit_sequence AS audit_sequence, e.kind AS kind, e.payload AS payload
        """
    private static let fromStored = " FROM decisions d JOIN audit_events e ON e.sequence = d.audit_sequence WHERE d.id IN ("

    static func storedDecision(_ row: any SQLRow) throws -> StoredDecision {
        let id = try row.decode(column: "id", as: String.self)
        let statusName = try row.decode(column: "sca", as: String.self)
        guard let status = SCAStatus(rawValue: statusName) else { throw StorageError.corrupt("unknown sca status \(statusName)") }
        guard try row.decode(column: "kind", as: String.self) == "decision",
            let answer = answer(inPayload: try row.decode(column: "payload", as: String.self))
        else { throw StorageError.corrupt("the audit event of decision \(id) does not hold its answer") }
        return StoredDecision(
            id: id,
            tenant: try row.decode(column: "tenant", as: String.self),
            createdAt: try row.decode(column: "created_at", as: String.self),
            answer: answer,
            outcome: try row.decode(column: "outcome", as: String.self),
            reason: try row.decode(column: "reason", as: String.self),
            sca: status,
            auditSequence: try row.decode(column: "audit_sequence", as: Int64.self)
        )
    }

    static func bytes(hex text: String) throws -> [UInt8] {
        guard let value = SCAPrimitives.bytes(fromHex: text) else { throw StorageError.corrupt("not lowercase hex") }
        return value
    }
}
