import SCAAudit
import SCARules
import SQLKit

/// Work that runs inside a group-commit transaction (see `DecisionStore.transact`). It runs
/// on the writer's thread, which is where the scope's connection must be used.
public typealias TransactionWork<T> = nonisolated(nonsending) @Sendable (TransactionScope) async throws -> T

/// An error that rolls back the work that threw it, and only that work, and reaches its
/// caller: a business refusal (a used token, a wrong code) rather than a storage failure.
public protocol TransactionRefusal: Error, Sendable {}

/// What one piece of work sees of the transaction it runs in: the writer's statements, the
/// transaction's instant, and the audit chain to append its events to.
public final class TransactionScope {
    let database: StoreDatabase
    /// The instant the transaction started: the `now` of every rule the work applies.
    public let now: Instant
    var chain: AuditChain
    var events: [AuditEvent] = []

    init(database: StoreDatabase, now: Instant, chain: AuditChain) {
        self.database = database
        self.now = now
        self.chain = chain
    }

    public var backend: StoreDatabase.Backend { database.backend }

    /// Appended to a SELECT whose rows the work will change (locks them on PostgreSQL; SQLite
    /// already holds the database's write lock).
    public var forUpdate: SQLQueryString { database.forUpdate }

    public nonisolated(nonsending) func all(_ query: SQLQueryString) async throws -> [any SQLRow] {
        try await database.transaction.all(query)
    }

    public nonisolated(nonsending) func run(_ query: SQLQueryString) async throws {
        try await database.transaction.run(query)
    }

    /// Appends an event to the audit chain, committed with the work's changes.
    public func audit(_ kind: String, payload: String) {
        events.append(chain.append(kind: kind, at: now.rfc3339, payload: payload))
    }
}

extension DecisionStore {
    /// A stored decision, read inside a transaction (a gate's protected call finds the
    /// decision its token was issued for).
    public nonisolated(nonsending) static func decision(_ id: String, scope: TransactionScope) async throws -> StoredDecision? {
        try await scope.all(selectDecisions([id])).map(storedDecision).first
    }
}
