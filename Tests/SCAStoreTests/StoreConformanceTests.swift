import Foundation
import SCAAudit
import SCABank
import SCAClients
import SCAContract
import SCAGate
import SCAPayments
import SCAPrimitives
import SCARules
import SCASchema
import Testing

@testable import SCAStore

/// One suite, both backends: the store decides as the in-memory engine does, keeps caps
/// under concurrency, honours idempotency keys, completes pending SCA, and its audit
/// chain proves what happened.
@Suite(.serialized) struct StoreConformanceTests {
    // MARK: Same answers as `sca decide`

    @Test(arguments: Backend.available)
    func generatedStreamGivesTheInMemoryAnswers(_ backend: Backend) async throws {
        let lines = GeneratedStream.lines(seed: 7, count: 1_500)
        var stream = DecisionStream(configuration: RulesConfiguration())
        let expected = lines.map { stream.answer(text: $0).first ?? "" }

        try await TestStore.with(backend, batchMax: 64) { test in
            let replay = Lines(absentSCA: .passed)
            // Submitted in runs, as `sca decide --db` does: runs share transactions.
            var answers: [String] = []
            var start = 0
            while start < lines.count {
                let run = try lines[start..<min(lines.count, start + 200)].map { try replay.submission($0) }
                answers += await test.store.decide(run).map { $0.decision?.answer ?? "unavailable" }
                start += 200
            }
            #expect(answers.count == expected.count)
            for (index, (answer, wanted)) in zip(answers, expected).enumerated() where answer != wanted {
                Issue.record("line \(index + 1): \(lines[index])\nstore:  \(answer)\nmemory: \(wanted)")
                break
            }
            let check = try await test.store.checkState()
            #expect(check.isConsistent, "\(check)")
            #expect(check.decisions == lines.count)
            #expect(try await test.store.verifyAudit() == .intact(events: UInt64(lines.count), head: try await test.store.auditHead().1))
        }
    }

    /// The audit event of a decision: its id, SCA status, request digest and answer, the
    /// answer embedded byte for byte as the stored decision holds it.
    @Test(arguments: Backend.available)
    func aDecisionsAuditEventHoldsItsAnswerByteForByte(_ backend: Backend) async throws {
        try await TestStore.with(backend) { test in
            let submission = try Lines().submission(payment(id: #"quote\"d"#))
            let decision = try #require(await test.store.decide(submission).decision)
            let event = try #require(try await test.store.auditEvents(after: 0, limit: 1).first)
            #expect(event.kind == "decision")
            #expect(decision.answer.hasPrefix(#"{"id":"quote\"d","outcome":"#))
            #expect(
                event.payload == #"{"decision_id":"\#(decision.id)","sca":"\#(decision.sca.rawValue)","#
                    + #""request_sha256":"\#(submission.digest)","answer":\#(decision.answer)}"#)
        }
    }

    @Test(arguments: Backend.available)
    func stateSurvivesReopening(_ backend: Backend) async throws {
        try await TestStore.with(backend) { test in
            let lines = Lines()
            for index in 1...3 {
                _ = await test.store.decide(try lines.submission(payment(id: "p\(index)")))
            }
            let reopened = try await test.secondNode()
            let fourth = await reopened.decide(try lines.submission(payment(id: "p4")))
            let counters = try #require(fourth.decision?.json["counters"] as? [String: Any])
            #expect(counters["low_value_count"] as? Int == 4)
            await reopened.database.close()
        }
    }

    // MARK: Caps under concurrency

    @Test(arguments: Backend.available)
    func twoHundredConcurrentLowValuePaymentsGrantExactlyFive(_ backend: Backend) async throws {
        try await TestStore.with(backend) { test in
            // Two nodes on PostgreSQL (each with its own connections and committer); SQLite
            // is one node.
            let other = backend == .postgres ? try await test.secondNode() : test.store
            let lines = Lines()
            let outcomes = try await withThrowingTaskGroup(of: String.self) { group in
                for index in 0..<200 {
                    let submission = try lines.submission(payment(id: "c\(index)", amount: "10.00"))
                    let node = index.isMultiple(of: 2) ? test.store : other
                    group.addTask { (await node.decide(submission)).decision?.json["outcome"] as? String ?? "unavailable" }
                }
                var all: [String] = []
                for try await outcome in group { all.append(outcome) }
                return all
            }
            #expect(outcomes.filter { $0 == "exempt" }.count == 5)
            #expect(outcomes.filter { $0 == "sca_required" }.count == 195)
            #expect(try await test.store.database.integer("SELECT low_value_count FROM instrument_counters") == 5)
            #expect(try await test.store.checkState().isConsistent)
            if backend == .postgres { await other.database.close() }
        }
    }

    // MARK: Idempotency

    @Test(arguments: Backend.available)
    func sameKeyFiftyTimesConcurrentlyHasOneEffect(_ backend: Backend) async throws {
        try await TestStore.with(backend) { test in
            let other = backend == .postgres ? try await test.secondNode() : test.store
            let submission = try Lines().submission(payment(id: "once"), key: "key-once")
            let results = await withTaskGroup(of: DecisionResult.self) { group in
                for index in 0..<50 {
                    let node = index.isMultiple(of: 2) ? test.store : other
                    group.addTask { await node.decide(submission) }
                }
                var all: [DecisionResult] = []
                for await result in group { all.append(result) }
                return all
            }
            let decisions = results.compactMap(\.decision)
            #expect(decisions.count == 50)
            #expect(Set(decisions.map(\.id)).count == 1)
            #expect(Set(decisions.map(\.answer)).count == 1)
            #expect(results.filter { !$0.replayed }.count == 1)
            #expect(try await test.store.database.integer("SELECT COUNT(*) FROM decisions") == 1)
            #expect(try await test.store.database.integer("SELECT low_value_count FROM instrument_counters") == 1)
            #expect(try await test.store.database.integer("SELECT COUNT(*) FROM audit_events") == 1)
            if backend == .postgres { await other.database.close() }
        }
    }

    @Test(arguments: Backend.available)
    func aKeyReusedForAnotherRequestIsRefused(_ backend: Backend) async throws {
        try await TestStore.with(backend) { test in
            let lines = Lines()
            let first = await test.store.decide(try lines.submission(payment(id: "a"), key: "k1"))
            #expect(first.decision != nil)
            #expect(await test.store.decide(try lines.submission(payment(id: "b"), key: "k1")) == .idempotencyConflict)
            let retry = await test.store.decide(try lines.submission(payment(id: "a"), key: "k1"))
            #expect(retry.replayed && retry.decision == first.decision)
            #expect(try await test.store.database.integer("SELECT COUNT(*) FROM decisions") == 1)
        }
    }

    // MARK: Retention

    @Test(arguments: Backend.available)
    func anIdempotencyKeyIsRememberedForItsRetentionThenFreed(_ backend: Backend) async throws {
        try await TestStore.with(backend) { test in
            let lines = Lines()
            let first = try #require(await test.store.decide(try lines.submission(payment(id: "a"), key: "k1")).decision)
            let decided = test.clock.now
            let policy = RetentionPolicy(idempotencyKeys: .seconds(3600), sessionIdle: .minutes(5))

            // A minute before the hour is up, the key stays and a retry still gets the first answer.
            #expect(try await test.store.sweep(policy, now: decided + .seconds(3600 - 60)) == RetentionSweep())
            let retry = await test.store.decide(try lines.submission(payment(id: "a"), key: "k1"))
            #expect(retry.replayed && retry.decision == first)

            // A minute after, the key goes (the decision stays), recorded in the audit chain.
            #expect(try await test.store.sweep(policy, now: decided + .seconds(3600 + 60)) == RetentionSweep(idempotencyKeys: 1))
            #expect(try await test.store.database.integer("SELECT COUNT(*) FROM idempotency_keys") == 0)
            #expect(try await test.store.database.integer("SELECT COUNT(*) FROM decisions") == 1)
            let events = try await test.store.auditEvents(after: 0, limit: 10)
            #expect(events.map(\.kind) == ["decision", "retention_sweep"])
            #expect(events.last?.payload.contains(#""deleted":{"idempotency_keys":1,"tokens":0,"approvals":0,"sessions":0}"#) == true)
            #expect(try await test.store.verifyAudit() == .intact(events: 2, head: events[1].hash))
            // The state check replays the decisions and passes over the other events.
            #expect(try await test.store.checkState().isConsistent)

            // The key is free: the same request under it is decided anew.
            let again = try #require(await test.store.decide(try lines.submission(payment(id: "a"), key: "k1")).decision)
            #expect(again.id != first.id)
        }
    }

    @Test(arguments: Backend.available)
    func aSweepDeletesInBoundedTransactionsUntilNothingIsLeft(_ backend: Backend) async throws {
        try await TestStore.with(backend) { test in
            let lines = Lines()
            for index in 1...5 { _ = await test.store.decide(try lines.submission(payment(id: "p\(index)"), key: "key-\(index)")) }
            _ = await test.store.decide(try lines.submission(payment(id: "unkeyed")))
            let policy = RetentionPolicy(idempotencyKeys: .seconds(3600), sessionIdle: .minutes(5), rowsPerTransaction: 2)
            let swept = try await test.store.sweep(policy, now: test.clock.now + .days(1))
            #expect(swept == RetentionSweep(idempotencyKeys: 5))
            // 2 + 2 + 1 rows: three transactions, each with its audit event.
            let events = try await test.store.auditEvents(after: 0, limit: 100)
            #expect(events.filter { $0.kind == "retention_sweep" }.count == 3)
            #expect(try await test.store.database.integer("SELECT COUNT(*) FROM idempotency_keys") == 0)
            #expect(try await test.store.sweep(policy, now: test.clock.now + .days(1)) == RetentionSweep())
            #expect(try await test.store.verifyAudit() == .intact(events: 9, head: events.last!.hash))
        }
    }

    @Test(arguments: Backend.available)
    func nodesSweepingAtOnceDeleteEachRowOnce(_ backend: Backend) async throws {
        try await TestStore.with(backend) { test in
            let other = backend == .postgres ? try await test.secondNode() : test.store
            let lines = Lines()
            for index in 1...40 { _ = await test.store.decide(try lines.submission(payment(id: "s\(index)"), key: "key-\(index)")) }
            let policy = RetentionPolicy(idempotencyKeys: .seconds(3600), sessionIdle: .minutes(5), rowsPerTransaction: 3)
            let later = test.clock.now + .days(1)
            let sweeps = try await withThrowingTaskGroup(of: RetentionSweep.self) { group in
                for node in [test.store, other, test.store, other] { group.addTask { try await node.sweep(policy, now: later) } }
                return try await group.reduce(into: [RetentionSweep]()) { $0.append($1) }
            }
            #expect(sweeps.map(\.idempotencyKeys).reduce(0, +) == 40)
            #expect(try await test.store.database.integer("SELECT COUNT(*) FROM idempotency_keys") == 0)
            // Each sweep's events say what it deleted, and the counts add up to the rows.
            let events = try await test.store.auditEvents(after: 0, limit: 1000).filter { $0.kind == "retention_sweep" }
            let recorded = try events.map { event -> Int in
                guard case .object(let payload) = try JSONParser.parse(event.payload), case .object(let deleted)? = payload["deleted"],
                    case .number(let count)? = deleted["idempotency_keys"]
                else { throw StorageError.corrupt("unreadable retention_sweep payload") }
                return Int(count)
            }
            #expect(recorded.reduce(0, +) == 40)
            #expect(try await test.store.verifyAudit().isIntact)
            if backend == .postgres { await other.database.close() }
        }
    }

    // MARK: Pending SCA

    @Test(arguments: Backend.available)
    func aPassedSCAReportedLaterResetsTheCounters(_ backend: Backend) async throws {
        try await TestStore.with(backend) { test in
            let lines = Lines()
            for index in 1...5 { _ = await test.store.decide(try lines.submission(payment(id: "p\(index)", amount: "5.00"))) }
            let sixth = try #require(await test.store.decide(try lines.submission(payment(id: "p6", amount: "5.00"))).decision)
            #expect(sixth.json["outcome"] as? String == "sca_required")
            #expect(sixth.sca == .pending)
            // Pending: nothing reset yet.
            let seventh = try #require(await test.store.decide(try lines.submission(payment(id: "p7", amount: "5.00"))).decision)
            #expect(seventh.json["outcome"] as? String == "sca_required")

            guard
                case .recorded(let recorded, replayed: false) = await test.store.reportSCA(
                    decision: sixth.id, result: .passed, owner: .engine)
            else {
                Issue.record("the report was not recorded")
                return
            }
            #expect(recorded.sca == .passed && recorded.answer == sixth.answer)
            #expect(await test.store.reportSCA(decision: sixth.id, result: .passed, owner: .engine) == .recorded(recorded, replayed: true))
            guard case .notPending = await test.store.reportSCA(decision: sixth.id, result: .failed, owner: .engine) else {
                Issue.record("a second, different result was accepted")
                return
            }
            #expect(await test.store.reportSCA(decision: "dec_aaaaaaaaaaaaaaaaaaaaaaaaaa", result: .passed, owner: .engine) == .notFound)
            let first = try #require(await test.store.decide(try lines.submission(payment(id: "p1"))).decision)
            guard case .notPending = await test.store.reportSCA(decision: first.id, result: .passed, owner: .engine) else {
                Issue.record("an exempt decision accepted an SCA result")
                return
            }
            let eighth = try #require(await test.store.decide(try lines.submission(payment(id: "p8", amount: "5.00"))).decision)
            #expect(eighth.json["outcome"] as? String == "exempt", "the passed SCA reset the low-value counters")
            #expect(try await test.store.checkState().isConsistent)
        }
    }

    // MARK: Audit chain

    @Test(arguments: Backend.available)
    func tamperingWithTheAuditLogIsDetected(_ backend: Backend) async throws {
        for tamper in Tamper.allCases {
            try await TestStore.with(backend) { test in
                let lines = Lines()
                for index in 1...6 { _ = await test.store.decide(try lines.submission(payment(id: "t\(index)"))) }
                guard case .intact(events: 6, _) = try await test.store.verifyAudit() else {
                    Issue.record("\(tamper): not intact before tampering")
                    return
                }
                try await tamper.apply(to: test.store.database)
                let verification = try await test.store.verifyAudit()
                guard case .broken(let found) = verification else {
                    Issue.record("\(tamper) on \(backend) went unnoticed")
                    return
                }
                #expect(found.kind == tamper.expectedKind, "\(tamper): \(found)")
                #expect(found.sequence == tamper.expectedSequence, "\(tamper): \(found)")
            }
        }
    }

    @Test(arguments: Backend.available)
    func auditPagesFollowTheChain(_ backend: Backend) async throws {
        try await TestStore.with(backend) { test in
            let lines = Lines()
            for index in 1...7 { _ = await test.store.decide(try lines.submission(payment(id: "a\(index)"))) }
            let first = try await test.store.auditEvents(after: 0, limit: 3)
            let second = try await test.store.auditEvents(after: 3, limit: 3)
            let third = try await test.store.auditEvents(after: 6, limit: 3)
            #expect(first.map(\.sequence) == [1, 2, 3])
            #expect(second.map(\.sequence) == [4, 5, 6])
            #expect(third.map(\.sequence) == [7])
            #expect(second[0].previousHash == first[2].hash)
            #expect(first[0].kind == "decision" && first[0].payload.contains(#""answer":{"id":"a1""#))
        }
    }

    @Test(arguments: Backend.available)
    func migratingTwiceChangesNothing(_ backend: Backend) async throws {
        try await TestStore.with(backend) { test in
            #expect(try await Migrations.migrate(test.store.database, schema: EngineSchema.schema, now: "2026-11-21T00:00:00Z") == [])
            #expect(try await Migrations.currentVersion(test.store.database) == EngineSchema.schema.latestVersion)
            try await test.store.database.execute("INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', 'x')")
            await #expect(throws: StorageError.schemaTooNew(found: 999, known: EngineSchema.schema.latestVersion)) {
                try await Migrations.migrate(test.store.database, schema: EngineSchema.schema, now: "2026-11-21T00:00:00Z")
            }
        }
    }

    /// A store of schema version 4 with decisions in it, upgraded: its events are all
    /// there and still chain, new ones append to the same chain, and on SQLite the events
    /// are a row-id table (no whole rows in its interior pages).
    @Test(arguments: Backend.available)
    func upgradingFromVersion4KeepsTheAuditChain(_ backend: Backend) async throws {
        try await TestStore.withEmptyDatabase(backend) { database in
            #expect(
                try await Migrations.migrate(database, schema: EngineSchema.schema, now: "2026-11-21T00:00:00Z", upTo: 4) == [1, 2, 3, 4])
            let old = try await Self.writeDecisionsAsSchema5((1...5).map { payment(id: "old\($0)", amount: "5.00") }, to: database)
            let store = DecisionStore(database: database, engine: RulesEngine(), logger: TestStore.logger)
            let before = try await store.verifyAudit()
            #expect(before == .intact(events: 5, head: try await store.auditHead().1))

            #expect(try await Migrations.migrate(database, schema: EngineSchema.schema, now: "2026-11-21T00:00:00Z") == [5, 6, 7, 8])
            #expect(try await store.verifyAudit() == before)
            for decision in old { #expect(try await store.decision(id: decision.id) == decision) }
            let lines = Lines()
            let sixth = await store.decide(try lines.submission(payment(id: "new1", amount: "5.00")))
            #expect(sixth.decision?.auditSequence == 6)
            #expect(try await store.verifyAudit() == .intact(events: 6, head: try await store.auditHead().1))
            if backend == .sqlite {
                let rows = try await database.read("SELECT sql FROM sqlite_schema WHERE name = 'audit_events'")
                let sql = try #require(rows.first).decode(column: "sql", as: String.self)
                #expect(sql.contains("sequence INTEGER PRIMARY KEY") && !sql.contains("WITHOUT ROWID"))
            }
        }
    }

    /// Up to schema version 5 a decision's row repeated the answer its audit event holds;
    /// version 6 drops the repetition, and every decision reads back as it was.
    @Test(arguments: Backend.available)
    func upgradingFromVersion5KeepsEveryAnswer(_ backend: Backend) async throws {
        try await TestStore.withEmptyDatabase(backend) { database in
            #expect(
                try await Migrations.migrate(database, schema: EngineSchema.schema, now: "2026-11-21T00:00:00Z", upTo: 5) == [
                    1, 2, 3, 4, 5,
                ])
            let lines = (1...6).map { payment(id: "old\($0)", amount: $0 == 6 ? "80.00" : "20.00") }
            let old = try await Self.writeDecisionsAsSchema5(lines, to: database)
            #expect(Set(old.map(\.outcome)) == ["exempt", "sca_required"])

            #expect(try await Migrations.migrate(database, schema: EngineSchema.schema, now: "2026-11-21T00:00:00Z") == [6, 7, 8])
            let store = DecisionStore(database: database, engine: RulesEngine(), logger: TestStore.logger)
            for decision in old { #expect(try await store.decision(id: decision.id) == decision) }
            let columns = try #require(try await database.read("SELECT * FROM decisions").first).allColumns
            #expect(columns.contains("request") && !columns.contains("answer"))
            if backend == .sqlite {
                // Keyed by the audit sequence (its row id), with no index of its own for it.
                let rows = try await database.read("SELECT name, sql FROM sqlite_schema WHERE tbl_name = 'decisions'")
                let sql = try rows.map { try $0.decode(column: "sql", as: String?.self) ?? "" }
                #expect(sql.contains { $0.contains("audit_sequence INTEGER PRIMARY KEY") } && rows.count == 2)
            }
            #expect(try await store.verifyAudit().isIntact)
            let reported = await store.reportSCA(decision: old[5].id, result: .passed, owner: .engine)
            guard case .recorded(let completed, replayed: false) = reported else {
                Issue.record("an old pending decision's SCA was not recorded: \(reported)")
                return
            }
            #expect(completed.answer == old[5].answer && completed.sca == .passed)
        }
    }

    /// A version 5 store in which a decision's row and its audit event disagree on the
    /// answer is not upgraded: the migration names the decision and changes nothing.
    @Test(arguments: Backend.available)
    func upgradingFromVersion5RefusesAnAnswerItsEventDoesNotHold(_ backend: Backend) async throws {
        try await TestStore.withEmptyDatabase(backend) { database in
            try await Migrations.migrate(database, schema: EngineSchema.schema, now: "2026-11-21T00:00:00Z", upTo: 5)
            let old = try await Self.writeDecisionsAsSchema5((1...3).map { payment(id: "old\($0)") }, to: database)
            try await database.execute("UPDATE decisions SET answer = REPLACE(answer, 'exempt', 'refused') WHERE id = '\(old[1].id)'")

            await #expect {
                try await Migrations.migrate(database, schema: EngineSchema.schema, now: "2026-11-21T00:00:00Z")
            } throws: { error in
                guard case StorageError.corrupt(let message) = error else { return false }
                return message.hasPrefix("migration 6 refused for \(old[1].id):") && message.hasSuffix("nothing was changed")
            }
            #expect(try await Migrations.currentVersion(database) == 5)
            let answers = try await database.read("SELECT answer FROM decisions ORDER BY audit_sequence")
            #expect(try answers.map { try $0.decode(column: "answer", as: String.self) }[0] == old[0].answer)
        }
    }

    /// Decisions written as stores of schema version 5 and older held them: the answer in
    /// the decision's row as well as in its audit event (this build writes no such rows;
    /// an upgrade starts from them). Decided from empty rules state, chained on the head.
    static func writeDecisionsAsSchema5(_ lines: [String], to database: StoreDatabase) async throws -> [StoredDecision] {
        let engine = RulesEngine()
        let decoder = RequestDecoder(referenceRates: engine.configuration.referenceRates, absentSCA: nil)
        var memory = InMemoryState()
        let (sequence, hash) = try await DecisionStore(database: database, engine: engine, logger: TestStore.logger).auditHead()
        var chain = AuditChain(lastSequence: sequence, lastHash: hash)
        let now = "2026-11-21T08:00:00Z"
        var written: [StoredDecision] = []
        for line in lines {
            let request = try decoder.decode(line: Array(line.utf8)).get()
            let (decision, effects) = engine.decide(request, prior: memory.prior(for: request)).parts()
            memory.apply(effects, of: request, configuration: engine.configuration)
            let status = SCAStatus(outcome: decision.outcome, sca: request.sca)
            let id = DecisionID.make(now: TestStore.start)
            let (answer, payload) = DecisionStore.answerAndPayload(decision, id: id, status: status, digest: sha256Hex(line))
            let event = chain.append(kind: "decision", at: now, payload: payload)
            try await database.writer.raw(
                """
                INSERT INTO decisions (id, audit_sequence, created_at, payer, outcome, reason, sca, request, answer) VALUES (\
                \(bind: id), \(bind: Int64(event.sequence)), \(bind: now), \(bind: request.payer.id.value), \
                \(bind: decision.outcome.rawValue), \(bind: decision.reason.rawValue), \(bind: status.rawValue), \(bind: line), \(bind: answer))
                """
            ).run()
            try await database.writer.raw(
                """
                INSERT INTO audit_events (sequence, at, kind, payload, previous_hash, hash) VALUES (\
                \(bind: Int64(event.sequence)), \(bind: now), 'decision', \(bind: payload), \(bind: hex(event.previousHash)), \(bind: hex(event.hash)))
                """
            ).run()
            written.append(
                StoredDecision(
                    id: id, tenant: "", createdAt: now, answer: answer, outcome: decision.outcome.rawValue,
                    reason: decision.reason.rawValue,
                    sca: status, auditSequence: Int64(event.sequence)
                ))
        }
        try await database.writer.raw(
            "UPDATE audit_head SET sequence = \(bind: Int64(chain.lastSequence)), hash = \(bind: hex(chain.lastHash)) WHERE id = 1"
        ).run()
        return written
    }

    /// Nodes started together on a new database: none fails, and each migration is applied
    /// by exactly one of them.
    @Test(arguments: Backend.available)
    func nodesMigratingANewDatabaseAtOnceAllSucceed(_ backend: Backend) async throws {
        for _ in 0..<3 {
            let (location, cleanup) = try await TestStore.emptyDatabase(backend)
            var nodes: [StoreDatabase] = []
            for _ in 0..<4 { nodes.append(try await StoreDatabase.open(location, logger: TestStore.logger)) }
            let applied = await withTaskGroup(of: Result<[Int], any Error>.self) { group in
                for node in nodes {
                    group.addTask {
                        do {
                            return .success(try await Migrations.migrate(node, schema: EngineSchema.schema, now: "2026-11-21T00:00:00Z"))
                        } catch {
                            return .failure(error)
                        }
                    }
                }
                return await group.reduce(into: []) { $0.append($1) }
            }
            for case .failure(let error) in applied { Issue.record("a node's migration failed: \(String(reflecting: error))") }
            let versions = applied.flatMap { (try? $0.get()) ?? [] }
            #expect(versions.sorted() == EngineSchema.schema.migrations.map(\.version))
            #expect(try await Migrations.currentVersion(nodes[0]) == EngineSchema.schema.latestVersion)
            for node in nodes { await node.close() }
            await cleanup()
        }
    }
}

/// Ways to tamper with six audit events, and what the verifier must say.
enum Tamper: CaseIterable {
    case updatePayload, deleteMiddle, swapTwo, deleteLast, appendForged, relink

    func apply(to database: StoreDatabase) async throws {
        switch self {
        case .updatePayload:
            try await database.execute("UPDATE audit_events SET payload = REPLACE(payload, 'exempt', 'refused') WHERE sequence = 3")
        case .deleteMiddle:
            try await database.execute("DELETE FROM audit_events WHERE sequence = 4")
        case .swapTwo:
            // Exchange the sequence numbers of events 2 and 5.
            try await database.execute("UPDATE audit_events SET sequence = -2 WHERE sequence = 2")
            try await database.execute("UPDATE audit_events SET sequence = 2 WHERE sequence = 5")
            try await database.execute("UPDATE audit_events SET sequence = 5 WHERE sequence = -2")
        case .deleteLast:
            try await database.execute("DELETE FROM audit_events WHERE sequence = 6")
        case .appendForged:
            try await database.execute(
                """
                INSERT INTO audit_events (sequence, at, kind, payload, previous_hash, hash) \
                SELECT 7, at, kind, payload, hash, hash FROM audit_events WHERE sequence = 6
                """)
        case .relink:
            // An event whose content is rewritten with a fresh, self-consistent hash still
            // breaks the next event's link: here, event 3's stored hash changes.
            try await database.execute("UPDATE audit_events SET hash = previous_hash WHERE sequence = 3")
        }
    }

    var expectedKind: AuditBreak.Kind {
        switch self {
        case .updatePayload, .swapTwo, .appendForged, .relink: return .modified
        case .deleteMiddle: return .missing
        case .deleteLast: return .truncated
        }
    }

    var expectedSequence: UInt64 {
        switch self {
        case .updatePayload: return 3
        case .deleteMiddle: return 5
        case .swapTwo: return 2
        case .deleteLast: return 6
        case .appendForged: return 7
        case .relink: return 3
        }
    }
}

/// Each feature declares its own migrations; the engine's schema is them in one sequence.
@Suite struct EngineSchemaTests {
    @Test func eachFeaturesPartsMergeIntoOneSequence() {
        let schema = EngineSchema.schema
        #expect(schema.migrations.map(\.version) == Array(1...8))
        #expect(schema.migrations[1].name == "users, factors, one-time tokens, sessions; demo bank")
        #expect(schema.migrations[3].name == "indexes for the retention sweep; indexes for the retention sweep")
        #expect(Set(AuthSchema.migrations.map(\.version)) == [2, 4])
        #expect(BankSchema.migrations.map(\.version) == [2])
        #expect(PaymentSchema.migrations.map(\.version) == [3, 8])
        #expect(StoreSchema.migrations.map(\.version) == [1, 4, 5, 6, 8])
        #expect(ClientsSchema.migrations.map(\.version) == [7])
    }
}
