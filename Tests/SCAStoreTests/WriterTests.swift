import SCAContract
import SCAStore
import SQLKit
import Synchronization
import Testing

/// The single writer's guarantees: a bounded queue that answers `busy` instead of waiting
/// without end, and jobs isolated from each other inside one group-commit transaction.
@Suite struct WriterTests {
    /// Holds the writer inside a job until released, so that the calls made meanwhile queue
    /// up and go into the next transaction together.
    final class WriterHold: Sendable {
        private let entered: AsyncStream<Void>
        private let enteredSignal: AsyncStream<Void>.Continuation
        private let release: AsyncStream<Void>
        private let releaseSignal: AsyncStream<Void>.Continuation
        private let holding: Task<Void, any Error>

        init(_ store: DecisionStore) async {
            (entered, enteredSignal) = AsyncStream<Void>.makeStream()
            (release, releaseSignal) = AsyncStream<Void>.makeStream()
            let enteredSignal = self.enteredSignal
            let release = self.release
            holding = Task {
                _ = try await store.transact { _ in
                    enteredSignal.yield()
                    for await _ in release { break }
                    return 0
                }
            }
            for await _ in entered { break }
        }

        /// Lets the held job finish, and waits for its transaction.
        func open() async throws {
            releaseSignal.yield()
            try await holding.value
        }
    }

    /// Waits until `count` jobs wait for the writer (bounded: fails after about 10 s).
    static func waitForQueue(_ store: DecisionStore, count: Int) async throws {
        for _ in 0..<10_000 {
            if store.queuedJobs >= count { return }
            try await Task.sleep(for: .milliseconds(1))
        }
        Issue.record("only \(store.queuedJobs) of \(count) jobs reached the queue")
    }

    /// The value of `call` if it answers within a few seconds (bounded: a call that waits
    /// for the held writer instead of being refused makes the test fail, not hang), else nil.
    static func answeredAtOnce<T: Sendable>(_ call: @escaping @Sendable () async -> T) async throws -> T? {
        let answer = Mutex<T?>(nil)
        Task {
            let value = await call()
            answer.withLock { $0 = value }
        }
        for _ in 0..<5_000 {
            if let value = answer.withLock({ $0 }) { return value }
            try await Task.sleep(for: .milliseconds(1))
        }
        return nil
    }

    @Test(arguments: Backend.available)
    func oneFailingJobAmongAHundredRollsBackAloneAndTheOtherNinetyNineCommit(_ backend: Backend) async throws {
        try await TestStore.with(backend) { test in
            let store = test.store
            let hold = await WriterHold(store)
            let commitsBefore = await store.commits
            let failing = 37
            let results = try await withThrowingTaskGroup(of: (Int, Result<Int, any Error>).self) { group in
                for index in 0..<100 {
                    group.addTask {
                        do {
                            let value = try await store.transact { scope in
                                scope.audit("writer_test", payload: #"{"n":\#(index)}"#)
                                // A failed statement: on PostgreSQL it aborts the transaction
                                // unless the job's savepoint is rolled back.
                                if index == failing { try await scope.run("SELECT no_such_column FROM no_such_table") }
                                return index
                            }
                            return (index, .success(value))
                        } catch {
                            return (index, .failure(error))
                        }
                    }
                }
                try await Self.waitForQueue(store, count: 100)
                try await hold.open()
                var results: [Int: Result<Int, any Error>] = [:]
                for try await (index, result) in group { results[index] = result }
                return results
            }
            let succeeded = results.filter { if case .success = $0.value { return true } else { return false } }
            #expect(succeeded.count == 99)
            guard case .failure(let error)? = results[failing] else {
                Issue.record("the failing job did not fail")
                return
            }
            // Its own error (here the failed statement's), not the batch's "unavailable".
            #expect(String(reflecting: error).contains("no_such_table"), "\(String(reflecting: error))")
            // The held job's transaction, then one for the hundred.
            #expect(await store.commits == commitsBefore + 2)
            let events = try await store.auditEvents(after: 0, limit: 1000).filter { $0.kind == "writer_test" }
            #expect(events.count == 99)
            #expect(!events.contains { $0.payload == #"{"n":\#(failing)}"# })
            #expect(try await store.verifyAudit().isIntact)
        }
    }

    @Test(arguments: Backend.available)
    func aFullQueueAnswersBusyAtOnceAndWritesNothing(_ backend: Backend) async throws {
        try await TestStore.with(backend, queueMax: 10) { test in
            let store = test.store
            let lines = Lines()
            let hold = await WriterHold(store)
            let queued = Task {
                try await withThrowingTaskGroup(of: DecisionResult.self) { group in
                    for index in 0..<10 {
                        let submission = try lines.submission(payment(id: "queued-\(index)", payer: "p\(index)"))
                        group.addTask { await store.decide(submission) }
                    }
                    var results: [DecisionResult] = []
                    for try await result in group { results.append(result) }
                    return results
                }
            }
            try await Self.waitForQueue(store, count: 10)

            // The queue holds its bound: every kind of call is refused without waiting.
            let over = try lines.submission(payment(id: "over", payer: "over"))
            #expect(try await Self.answeredAtOnce { await store.decide(over) } == .busy)
            #expect(
                try await Self.answeredAtOnce {
                    await store.reportSCA(decision: "dec_2222222222222222222222222a", result: .passed, owner: .engine)
                }
                    == .busy)
            let work = try await Self.answeredAtOnce { () -> Result<Int, StorageError> in
                do { return .success(try await store.transact { _ in 1 }) } catch { return .failure(error as! StorageError) }
            }
            #expect(work == .failure(.busy))
            #expect(store.refusedBusy == 3)

            try await hold.open()
            let results = try await queued.value
            #expect(results.allSatisfy { $0.decision != nil })
            let decided = try await store.auditEvents(after: 0, limit: 1000).filter { $0.kind == "decision" }
            #expect(decided.count == 10, "the refused decision wrote nothing")
            #expect(!decided.contains { $0.payload.contains(#""id":"over""#) })
            // Once the queue drains, calls are taken again.
            #expect(await store.decide(try lines.submission(payment(id: "after", payer: "after"))).decision != nil)
        }
    }
}
