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

    public var total: Int { idempotencyKeys + tokens + approvals + sessions }

    /// `{"idempotency_keys":N,"tokens":N,"approvals":N,"sessions":N}`
    public var json: String {
        #"{"idempotency_keys":\#(idempotencyKeys),"tokens":\#(tokens),"approvals":\#(approvals),"sessions":\#(sessions)}"#
    }
}

extension DecisionStore {
    /// Deletes, as of `now`, every row the policy no longer keeps: in transactions of the
    /// group commit (so in order with the decisions around them), each deleting at most
    /// `rowsPerTransaction` rows a table, oldest first, until nothing is left. Each
    /// transaction that deletes anything appends a `retention_sweep` audit event with its
    /// counts and cutoffs. Several nodes may sweep at once: a row is deleted by one of them.
    public nonisolated func sweep(_ policy: RetentionPolicy, now: Instant) async throws -> RetentionSweep {
        let targets = RetentionTarget.all(policy, now: now)
        var swept = RetentionSweep()
        while true {
            let step = try await transact { scope in
                var step = RetentionSweep()
                for target in targets {
                    step[keyPath: target.count] = try await target.delete(upTo: policy.rowsPerTransaction, in: scope)
                }
                if step.total > 0 {
                    let cutoffs = targets.map { #""\#($0.table)":"\#($0.cutoffText)""# }.joined(separator: ",")
                    scope.audit("retention_sweep", payload: #"{"deleted":\#(step.json),"before":{\#(cutoffs)}}"#)
                }
                return step
            }
            for target in targets { swept[keyPath: target.count] += step[keyPath: target.count] }
            guard targets.contains(where: { step[keyPath: $0.count] == policy.rowsPerTransaction }) else { return swept }
        }
    }
}

/// One table the sweep prunes: rows whose `column` is below `cutoff` go.
struct RetentionTarget: Sendable {
    enum Cutoff: Sendable {
        /// Milliseconds since the epoch (the gate's tables).
        case milliseconds(Int64)
        /// An RFC 3339 timestamp, compared as text (`idempotency_keys.created_at`); whole
        /// seconds, so that a row is at most a second early to go.
        case timestamp(String)
    }

    let table: String
    let key: String
    let column: String
    let cutoff: Cutoff
    let count: WritableKeyPath<RetentionSweep, Int> & Sendable

    static func all(_ policy: RetentionPolicy, now: Instant) -> [RetentionTarget] {
        let unusable = now.millisecondsSinceEpoch - policy.grace.milliseconds
        let keysBefore = now.millisecondsSinceEpoch - policy.idempotencyKeys.milliseconds
        return [
            RetentionTarget(
                table: "idempotency_keys", key: "key", column: "created_at",
                cutoff: .timestamp(Instant(millisecondsSinceEpoch: keysBefore - keysBefore % 1000).rfc3339),
                count: \.idempotencyKeys
            ),
            RetentionTarget(
                table: "auth_tokens", key: "token_hash", column: "expires_at", cutoff: .milliseconds(unusable), count: \.tokens
            ),
            RetentionTarget(
                table: "auth_approvals", key: "id", column: "expires_at", cutoff: .milliseconds(unusable), count: \.approvals
            ),
            // A session is unusable once idle past the limit; one ended by logout was last
            // active no later than that, so the same test covers it.
            RetentionTarget(
                table: "auth_sessions", key: "token_hash", column: "last_activity",
                cutoff: .milliseconds(unusable - policy.sessionIdle.milliseconds), count: \.sessions
            ),
        ]
    }

    /// The cutoff as the audit event records it.
    var cutoffText: String {
        switch cutoff {
        case .milliseconds(let value): Instant(millisecondsSinceEpoch: value).rfc3339
        case .timestamp(let text): text
        }
    }

    /// Deletes up to `limit` rows below the cutoff, oldest first; returns how many went.
    nonisolated(nonsending) func delete(upTo limit: Int, in scope: TransactionScope) async throws -> Int {
        let below: SQLQueryString
        switch cutoff {
        case .milliseconds(let value): below = "\(ident: column) < \(bind: value)"
        case .timestamp(let text): below = "\(ident: column) < \(bind: text)"
        }
        let query: SQLQueryString = "DELETE FROM \(ident: table) WHERE \(ident: key) IN (SELECT \(ident: key) FROM \(ident: table) WHERE "
            + below + " ORDER BY \(ident: column) LIMIT \(bind: limit)) RETURNING \(ident: key)"
        return try await scope.all(query).count
    }
}
