import SCAContract
import SCARules
import SQLKit

/// What the store forgets, and when. Idempotency keys, one-time tokens, push approvals and
/// sessions only guard against a replay or carry a login; once they can no longer matter
/// they are deleted, so that their tables do not grow without end. Decisions, audit events,
/// the rules state, users, factors, payments and transfers are records: never pruned.
public struct RetentionPolicy: Sendable, Equatable {
    /// How long a decision's `Idempotency-Key` is remembered. A retry within it gets the
    /// first answer; after it the key is free, and a request under it is decided anew.
    public var idempotencyKeys: Instant.Duration
    /// How long a one-time token, a push approval or a session is kept once it can no
    /// longer be used (expired, or idle past `sessionIdle`): within it a late call is told
    /// that the token or session expired, after it that it is unknown.
    public var grace: Instant.Duration
    /// Sessions end after this much inactivity (`session.idle_seconds`).
    public var sessionIdle: Instant.Duration
    /// The most rows one transaction deletes from each table, so that a sweep never holds
    /// the writer for long; a sweep runs as many transactions as it needs.
    public var rowsPerTransaction: Int

    public static let idempotencyKeysDefault = Instant.Duration.days(7)
    public static let graceDefault = Instant.Duration.days(1)
    public static let rowsPerTransactionDefault = 1000

    public init(
        idempotencyKeys: Instant.Duration = RetentionPolicy.idempotencyKeysDefault,
        grace: Instant.Duration = RetentionPolicy.graceDefault, sessionIdle: Instant.Duration,
        rowsPerTransaction: Int = RetentionPolicy.rowsPerTransactionDefault
    ) {
        precondition(rowsPerTransaction >= 1, "a sweep deletes at least one row a transaction")
        self.idempotencyKeys = idempotencyKeys
        self.grace = grace
        self.sessionIdle = sessionIdle
        self.rowsPerTransaction = rowsPerTransaction
    }
}

/// The rows a sweep deleted, by table.
public struct RetentionSweep: Sendable, Equatable {
    public var idempotencyKeys = 0
    public var tokens = 0
    public var approvals = 0
    public var sessions = 0

    public init(idempotencyKeys: Int = 0, tokens: Int = 0, approvals: Int = 0, sessions: Int = 0) {
        self.idempotencyKeys = idempotencyKeys
        self.tokens = tokens
        self.approvals = approvals
        self.sessions = sessions
    }

    public var total: Int { RetentionTable.all.reduce(0) { $0 + self[keyPath: $1.count] } }

    /// `{"idempotency_keys":N,"tokens":N,"approvals":N,"sessions":N}`
    public var json: String {
        "{" + RetentionTable.all.map { #""\#($0.name)":\#(self[keyPath: $0.count])"# }.joined(separator: ",") + "}"
    }
}

/// A table the sweep prunes, described once for the sweep, its counts and the metrics:
/// rows whose `column` is below the table's cutoff go, oldest first.
public struct RetentionTable: Sendable {
    /// The SQL table (and the `table` label of the metrics).
    public let table: String
    /// Its field in `RetentionSweep.json`.
    let name: String
    let key: String
    let column: String
    let age: Age
    public let count: WritableKeyPath<RetentionSweep, Int> & Sendable

    /// What makes a row old enough to go.
    enum Age {
        /// Created before the idempotency keys' retention (an RFC 3339 text column).
        case created
        /// Expired before the grace (milliseconds since the epoch).
        case expired
        /// Idle past the session limit before the grace (milliseconds since the epoch); one
        /// ended by logout was last active no later than that, so the same test covers it.
        case idle
    }

    /// Every table the sweep prunes, in the order it prunes them.
    public static let all = [
        RetentionTable(
            table: "idempotency_keys", name: "idempotency_keys", key: "key", column: "created_at", age: .created, count: \.idempotencyKeys),
        RetentionTable(table: "auth_tokens", name: "tokens", key: "token_hash", column: "expires_at", age: .expired, count: \.tokens),
        RetentionTable(table: "auth_approvals", name: "approvals", key: "id", column: "expires_at", age: .expired, count: \.approvals),
        RetentionTable(table: "auth_sessions", name: "sessions", key: "token_hash", column: "last_activity", age: .idle, count: \.sessions),
    ]

    /// The value below which a row goes, as a bind for `column`, and as the audit event
    /// records it. Idempotency keys' cutoff is in whole seconds (compared as text), so a
    /// key is at most a second early to go.
    func cutoff(_ policy: RetentionPolicy, now: Instant) -> (bind: any Encodable & Sendable, text: String) {
        let milliseconds: Int64
        switch age {
        case .created:
            let before = now.millisecondsSinceEpoch - policy.idempotencyKeys.milliseconds
            let text = Instant(millisecondsSinceEpoch: before - before % 1000).rfc3339
            return (text, text)
        case .expired:
            milliseconds = now.millisecondsSinceEpoch - policy.grace.milliseconds
        case .idle:
            milliseconds = now.millisecondsSinceEpoch - policy.grace.milliseconds - policy.sessionIdle.milliseconds
        }
        return (milliseconds, Instant(millisecondsSinceEpoch: milliseconds).rfc3339)
    }

    /// Deletes up to `limit` rows below `cutoff`, oldest first; returns how many went.
    nonisolated(nonsending) func delete(below cutoff: any Encodable & Sendable, upTo limit: Int, in scope: TransactionScope) async throws
        -> Int
    {
        try await scope.all(
            """
            DELETE FROM \(ident: table) WHERE \(ident: key) IN (SELECT \(ident: key) FROM \(ident: table) \
            WHERE \(ident: column) < \(bind: cutoff) ORDER BY \(ident: column) LIMIT \(bind: limit)) RETURNING \(ident: key)
            """
        ).count
    }
}

extension DecisionStore {
    /// Deletes, as of `now`, every row the policy no longer keeps: in transactions of the
    /// group commit (so in order with the decisions around them), each deleting at most
    /// `rowsPerTransaction` rows a table, oldest first, until nothing is left. Each
    /// transaction that deletes anything appends a `retention_sweep` audit event with its
    /// counts and cutoffs. Several nodes may sweep at once: a row is deleted by one of them.
    public nonisolated func sweep(_ policy: RetentionPolicy, now: Instant) async throws -> RetentionSweep {
        let targets = RetentionTable.all.map { (table: $0, cutoff: $0.cutoff(policy, now: now)) }
        let cutoffs = targets.map { #""\#($0.table.table)":"\#($0.cutoff.text)""# }.joined(separator: ",")
        var swept = RetentionSweep()
        while true {
            let step = try await transact { scope in
                var step = RetentionSweep()
                for target in targets {
                    step[keyPath: target.table.count] = try await target.table.delete(
                        below: target.cutoff.bind, upTo: policy.rowsPerTransaction, in: scope
                    )
                }
                if step.total > 0 {
                    scope.audit("retention_sweep", payload: #"{"deleted":\#(step.json),"before":{\#(cutoffs)}}"#)
                }
                return step
            }
            for table in RetentionTable.all { swept[keyPath: table.count] += step[keyPath: table.count] }
            guard RetentionTable.all.contains(where: { step[keyPath: $0.count] == policy.rowsPerTransaction }) else { return swept }
        }
    }
}
