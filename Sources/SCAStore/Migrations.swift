import Foundation
import Logging
import SQLKit

/// The schema, as numbered migrations. A database records the versions it has; `migrate`
/// applies the missing ones in order, each in its own transaction, and refuses a database
/// newer than this build. The SQL is the common subset of SQLite and PostgreSQL.
public enum Migrations {
    public struct Migration: Sendable {
        public let version: Int
        public let name: String
        let statements: [String]
        /// What SQLite runs instead of `statements`, when the two differ.
        var sqliteStatements: [String]? = nil
        /// A query run first, under the migration's lock: any row it returns names what the
        /// statements would lose, and the migration is refused with nothing changed.
        var refusal: (query: String, reason: String)? = nil

        func statements(for backend: StoreDatabase.Backend) -> [String] {
            backend == .sqlite ? sqliteStatements ?? statements : statements
        }
    }

    public static let all: [Migration] = [
        Migration(
            version: 1, name: "rules state, decisions, idempotency keys, audit log",
            statements: [
                // One row per payer: the row lock (and version) that serialises its decisions
                // across nodes, and its login session (RTS Art. 4(3)(d)).
                """
                CREATE TABLE payers (
                    payer TEXT PRIMARY KEY,
                    version BIGINT NOT NULL,
                    session_last_activity BIGINT
                ) {WITHOUT_ROWID}
                """,
                // RTS Art. 11 and 16 counters per instrument, amounts in the regime's minor units.
                """
                CREATE TABLE instrument_counters (
                    payer TEXT NOT NULL,
                    instrument TEXT NOT NULL,
                    regime TEXT NOT NULL,
                    low_value_count BIGINT NOT NULL,
                    low_value_total BIGINT NOT NULL,
                    low_value_since BIGINT,
                    contactless_count BIGINT NOT NULL,
                    contactless_total BIGINT NOT NULL,
                    PRIMARY KEY (payer, instrument)
                ) {WITHOUT_ROWID}
                """,
                // RTS Art. 14 series whose first payment passed SCA.
                """
                CREATE TABLE recurring_series (
                    payer TEXT NOT NULL,
                    payee TEXT NOT NULL,
                    currency TEXT NOT NULL,
                    amount BIGINT NOT NULL,
                    PRIMARY KEY (payer, payee, currency, amount)
                ) {WITHOUT_ROWID}
                """,
                // RTS Art. 13 trusted beneficiaries.
                """
                CREATE TABLE trusted_payees (
                    payer TEXT NOT NULL,
                    payee TEXT NOT NULL,
                    PRIMARY KEY (payer, payee)
                ) {WITHOUT_ROWID}
                """,
                // RTS Art. 10 / 10a consents.
                """
                CREATE TABLE consents (
                    payer TEXT NOT NULL,
                    consent TEXT NOT NULL,
                    last_sca BIGINT NOT NULL,
                    unattended_day BIGINT NOT NULL,
                    unattended_count BIGINT NOT NULL,
                    PRIMARY KEY (payer, consent)
                ) {WITHOUT_ROWID}
                """,
                // Authenticated requests that merchant-initiated payments may reference;
                // `kind` is the retention class, `recorded` the audit sequence that made it.
                """
                CREATE TABLE mandates (
                    payer TEXT NOT NULL,
                    kind TEXT NOT NULL,
                    request_id TEXT NOT NULL,
                    payee TEXT,
                    origin TEXT NOT NULL,
                    recorded BIGINT NOT NULL,
                    PRIMARY KEY (payer, kind, request_id)
                ) {WITHOUT_ROWID}
                """,
                """
                CREATE TABLE decisions (
                    id TEXT PRIMARY KEY,
                    audit_sequence BIGINT NOT NULL UNIQUE,
                    created_at TEXT NOT NULL,
                    payer TEXT NOT NULL,
                    outcome TEXT NOT NULL,
                    reason TEXT NOT NULL,
                    sca TEXT NOT NULL,
                    request TEXT NOT NULL,
                    answer TEXT NOT NULL
                )
                """,
                """
                CREATE TABLE idempotency_keys (
                    key TEXT PRIMARY KEY,
                    request_digest TEXT NOT NULL,
                    decision_id TEXT NOT NULL,
                    created_at TEXT NOT NULL
                ) {WITHOUT_ROWID}
                """,
                """
                CREATE TABLE audit_events (
                    sequence BIGINT PRIMARY KEY,
                    at TEXT NOT NULL,
                    kind TEXT NOT NULL,
                    payload TEXT NOT NULL,
                    previous_hash TEXT NOT NULL,
                    hash TEXT NOT NULL
                ) {WITHOUT_ROWID}
                """,
                // The chain's head, kept apart from the events so that cutting events off
                // the end is detected, and locked to append in order across nodes.
                """
                CREATE TABLE audit_head (
                    id BIGINT PRIMARY KEY,
                    sequence BIGINT NOT NULL,
                    hash TEXT NOT NULL
                )
                """,
                "INSERT INTO audit_head (id, sequence, hash) VALUES (1, 0, '\(String(repeating: "0", count: 64))')",
            ]
        ),
        Migration(
            version: 2, name: "users, factors, one-time tokens, sessions, demo bank",
            statements: [
                // Times are milliseconds since the epoch. Nothing secret is stored in clear:
                // tokens and sessions by their SHA-256, PINs as scrypt hashes, TOTP seeds and
                // phone numbers sealed with AES-GCM under the master key.
                """
                CREATE TABLE auth_users (
                    id TEXT PRIMARY KEY,
                    username TEXT NOT NULL UNIQUE,
                    name TEXT NOT NULL,
                    created_at BIGINT NOT NULL,
                    sms_window_start BIGINT NOT NULL,
                    sms_window_count BIGINT NOT NULL
                )
                """,
                // One row per factor; the attempt counter lives on it, so every token,
                // session and node shares it (RTS Art. 4(3)(b)).
                """
                CREATE TABLE auth_factors (
                    id TEXT PRIMARY KEY,
                    user_id TEXT NOT NULL,
                    kind TEXT NOT NULL,
                    label TEXT NOT NULL,
                    secret TEXT NOT NULL,
                    hint TEXT,
                    credential_id TEXT UNIQUE,
                    sign_count BIGINT NOT NULL,
                    last_step BIGINT,
                    failures BIGINT NOT NULL,
                    blocks BIGINT NOT NULL,
                    blocked_until BIGINT,
                    permanently_blocked BIGINT NOT NULL,
                    status TEXT NOT NULL,
                    created_at BIGINT NOT NULL,
                    revoked_at BIGINT
                )
                """,
                "CREATE INDEX auth_factors_user ON auth_factors (user_id)",
                """
                CREATE TABLE auth_tokens (
                    token_hash TEXT PRIMARY KEY,
                    user_id TEXT NOT NULL,
                    action TEXT NOT NULL,
                    binding TEXT NOT NULL,
                    link_digest TEXT,
                    display_text TEXT,
                    decision_id TEXT,
                    nonce TEXT NOT NULL,
                    offered TEXT NOT NULL,
                    passed TEXT NOT NULL,
                    created_at BIGINT NOT NULL,
                    expires_at BIGINT NOT NULL,
                    consumed_at BIGINT,
                    failed_at BIGINT,
                    otp_hash TEXT,
                    otp_expires_at BIGINT
                )
                """,
                """
                CREATE TABLE auth_sessions (
                    token_hash TEXT PRIMARY KEY,
                    user_id TEXT NOT NULL,
                    kind TEXT NOT NULL,
                    created_at BIGINT NOT NULL,
                    last_activity BIGINT NOT NULL,
                    ended_at BIGINT
                )
                """,
                // Decoupled approvals pushed to a user's device keys (number matching).
                """
                CREATE TABLE auth_approvals (
                    id TEXT PRIMARY KEY,
                    user_id TEXT NOT NULL,
                    token_hash TEXT NOT NULL,
                    number BIGINT NOT NULL,
                    status TEXT NOT NULL,
                    created_at BIGINT NOT NULL,
                    expires_at BIGINT NOT NULL
                )
                """,
                "CREATE INDEX auth_approvals_user ON auth_approvals (user_id, status)",
                // The demo bank. Balances in minor units; a transfer debits with a
                // conditional update, so a balance never goes below zero.
                """
                CREATE TABLE bank_accounts (
                    id TEXT PRIMARY KEY,
                    user_id TEXT NOT NULL,
                    name TEXT NOT NULL,
                    currency TEXT NOT NULL,
                    balance BIGINT NOT NULL
                )
                """,
                "CREATE INDEX bank_accounts_user ON bank_accounts (user_id)",
                """
                CREATE TABLE bank_beneficiaries (
                    id TEXT PRIMARY KEY,
                    user_id TEXT NOT NULL,
                    name TEXT NOT NULL,
                    iban TEXT NOT NULL,
                    created_at BIGINT NOT NULL
                )
                """,
                "CREATE INDEX bank_beneficiaries_user ON bank_beneficiaries (user_id)",
                """
                CREATE TABLE bank_transfers (
                    id TEXT PRIMARY KEY,
                    user_id TEXT NOT NULL,
                    account_id TEXT NOT NULL,
                    beneficiary_id TEXT NOT NULL,
                    amount BIGINT NOT NULL,
                    currency TEXT NOT NULL,
                    reference TEXT NOT NULL,
                    decision_id TEXT NOT NULL,
                    sca TEXT NOT NULL,
                    created_at BIGINT NOT NULL
                )
                """,
                "CREATE INDEX bank_transfers_account ON bank_transfers (account_id, created_at)",
            ]
        ),
        Migration(
            version: 3, name: "card payments, stored cards, captures, optimizer statistics, notifications",
            statements: [
                // A card number is never stored in clear: a payment keeps the card sealed only
                // while it is pending (to authorise after the challenge), a stored card keeps
                // it sealed; both keep the keyed fingerprint, the BIN and the last four digits.
                // `request` and `outcome` are the validated request and the flow's state as
                // JSON; `first_answer` is what an idempotent retry gets back.
                """
                CREATE TABLE card_payments (
                    id TEXT PRIMARY KEY,
                    idempotency_key TEXT UNIQUE,
                    request_digest TEXT NOT NULL,
                    status TEXT NOT NULL,
                    fingerprint TEXT NOT NULL,
                    sealed_card TEXT,
                    amount BIGINT NOT NULL,
                    currency TEXT NOT NULL,
                    captured BIGINT NOT NULL,
                    authenticated_cit BIGINT NOT NULL,
                    acs_trans_id TEXT,
                    request TEXT NOT NULL,
                    outcome TEXT NOT NULL,
                    first_answer TEXT NOT NULL,
                    created_at BIGINT NOT NULL,
                    updated_at BIGINT NOT NULL
                )
                """,
                "CREATE INDEX card_payments_acs ON card_payments (acs_trans_id)",
                """
                CREATE TABLE card_sources (
                    id TEXT PRIMARY KEY,
                    fingerprint TEXT NOT NULL,
                    sealed_card TEXT NOT NULL,
                    created_at BIGINT NOT NULL
                )
                """,
                """
                CREATE TABLE card_captures (
                    id TEXT PRIMARY KEY,
                    payment_id TEXT NOT NULL,
                    idempotency_key TEXT UNIQUE,
                    request_digest TEXT NOT NULL,
                    amount BIGINT NOT NULL,
                    reference TEXT NOT NULL,
                    answer TEXT NOT NULL,
                    created_at BIGINT NOT NULL
                )
                """,
                "CREATE INDEX card_captures_payment ON card_captures (payment_id)",
                """
                CREATE TABLE card_optimizer_stats (
                    stat_key TEXT PRIMARY KEY,
                    successes BIGINT NOT NULL,
                    failures BIGINT NOT NULL
                )
                """,
                """
                CREATE TABLE card_notifications (
                    id TEXT PRIMARY KEY,
                    payment_id TEXT NOT NULL,
                    kind TEXT NOT NULL,
                    message TEXT NOT NULL,
                    created_at BIGINT NOT NULL
                )
                """,
            ]
        ),
        Migration(
            version: 4, name: "indexes for the retention sweep",
            statements: [
                // What `DecisionStore.sweep` looks rows up by: the oldest first, a bounded
                // number at a time, without reading the whole table.
                "CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at)",
                "CREATE INDEX auth_tokens_expires ON auth_tokens (expires_at)",
                "CREATE INDEX auth_approvals_expires ON auth_approvals (expires_at)",
                "CREATE INDEX auth_sessions_activity ON auth_sessions (last_activity)",
            ]
        ),
        Migration(
            version: 5, name: "audit events in a row-id table on SQLite",
            // Version 1 made `audit_events` a WITHOUT ROWID table, whose interior B-tree pages
            // hold whole rows: at about 850 bytes an event, four to a page, so appending
            // rewrote several interior pages a commit (about 14 pages of the log a commit
            // for the audit trail alone). Keyed by its row id (`INTEGER PRIMARY KEY`), the
            // interior pages hold only sequence numbers. PostgreSQL has no such choice.
            statements: [],
            sqliteStatements: [
                """
                CREATE TABLE audit_events_by_row_id (
                    sequence INTEGER PRIMARY KEY,
                    at TEXT NOT NULL,
                    kind TEXT NOT NULL,
                    payload TEXT NOT NULL,
                    previous_hash TEXT NOT NULL,
                    hash TEXT NOT NULL
                )
                """,
                """
                INSERT INTO audit_events_by_row_id (sequence, at, kind, payload, previous_hash, hash)
                SELECT sequence, at, kind, payload, previous_hash, hash FROM audit_events ORDER BY sequence
                """,
                "DROP TABLE audit_events",
                "ALTER TABLE audit_events_by_row_id RENAME TO audit_events",
            ]
        ),
        Migration(
            version: 6, name: "decision answers kept once, in their audit events",
            // A decision's audit event has always held its answer whole, after `,"answer":`
            // and before the closing brace. The decision's row repeated it: about 600 more
            // bytes a decision, and the rows four to a page instead of nine. Dropped only if
            // every decision's event holds exactly its answer.
            statements: ["ALTER TABLE decisions DROP COLUMN answer"],
            // SQLite rebuilds the table instead, keyed by its audit sequence as the row id:
            // rows append in order, and the sequence, unique as every row id is, needs no
            // index of its own (one B-tree fewer to write a commit).
            sqliteStatements: [
                """
                CREATE TABLE decisions_by_sequence (
                    audit_sequence INTEGER PRIMARY KEY,
                    id TEXT NOT NULL UNIQUE,
                    created_at TEXT NOT NULL,
                    payer TEXT NOT NULL,
                    outcome TEXT NOT NULL,
                    reason TEXT NOT NULL,
                    sca TEXT NOT NULL,
                    request TEXT NOT NULL
                )
                """,
                """
                INSERT INTO decisions_by_sequence (audit_sequence, id, created_at, payer, outcome, reason, sca, request)
                SELECT audit_sequence, id, created_at, payer, outcome, reason, sca, request FROM decisions ORDER BY audit_sequence
                """,
                "DROP TABLE decisions",
                "ALTER TABLE decisions_by_sequence RENAME TO decisions",
            ],
            refusal: (
                query: """
                SELECT d.id AS id FROM decisions d LEFT JOIN audit_events e ON e.sequence = d.audit_sequence \
                WHERE e.payload IS NULL OR e.kind <> 'decision' \
                OR substr(e.payload, length(e.payload) - length(',"answer":' || d.answer || '}') + 1) \
                <> (',"answer":' || d.answer || '}') \
                LIMIT 1
                """,
                reason: "its audit event does not hold its answer, which the migration would drop from the decision's row"
            )
        ),
    ]

    public static var latestVersion: Int { all.last?.version ?? 0 }

    /// Applies what is missing; returns the versions applied. Safe to run on several nodes
    /// at once: every step runs in a transaction that holds the migration lock and re-checks
    /// the version under it.
    @discardableResult
    public static func migrate(_ database: StoreDatabase, now: String) async throws -> [Int] {
        try await migrate(database, now: now, upTo: latestVersion)
    }

    /// The same, stopping after `version` (tests of upgrades from an older schema).
    @discardableResult
    static func migrate(_ database: StoreDatabase, now: String, upTo version: Int) async throws -> [Int] {
        let db = database.writer
        try await underMigrationLock(database) {
            try await db.raw(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
            ).run()
        }
        var applied: [Int] = []
        for migration in all where migration.version <= version {
            try await underMigrationLock(database) {
                let current = try await currentVersion(db)
                if current > latestVersion {
                    throw StorageError.schemaTooNew(found: current, known: latestVersion)
                }
                guard current < migration.version else { return }
                if let refusal = migration.refusal,
                    let row = try await db.raw(SQLQueryString(stringLiteral: refusal.query)).first()
                {
                    let id = (try? row.decode(column: "id", as: String.self)) ?? "?"
                    throw StorageError.corrupt("migration \(migration.version) refused for \(id): \(refusal.reason); nothing was changed")
                }
                for statement in migration.statements(for: database.backend) {
                    // Tables keyed by their primary key are stored in that key's B-tree on
                    // SQLite (one tree to update instead of two); PostgreSQL has no such clause.
                    let text = statement.replacingOccurrences(
                        of: "{WITHOUT_ROWID}", with: database.backend == .sqlite ? "WITHOUT ROWID" : ""
                    )
                    try await db.raw(SQLQueryString(text)).run()
                }
                try await db.raw(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (\(bind: migration.version), \(bind: migration.name), \(bind: now))"
                ).run()
                applied.append(migration.version)
            }
        }
        return applied
    }

    /// The key of the PostgreSQL advisory lock that migrations hold ("SCA" and 1).
    static let advisoryLockKey: Int64 = 0x5343_4100_0000_0001

    /// Runs `body` in a write transaction that only one node's migration holds at a time:
    /// on SQLite the write lock of `BEGIN IMMEDIATE`; on PostgreSQL a transaction-scoped
    /// advisory lock. (Without it, two nodes creating the same table at once collide in
    /// PostgreSQL's catalog, `IF NOT EXISTS` notwithstanding.)
    private static func underMigrationLock(
        _ database: StoreDatabase, _ body: () async throws -> Void
    ) async throws {
        let db = database.writer
        try await db.raw(database.beginWrite).run()
        do {
            if database.backend == .postgres {
                try await db.raw("SELECT pg_advisory_xact_lock(\(bind: advisoryLockKey))").run()
            }
            try await body()
            try await db.raw("COMMIT").run()
        } catch {
            try? await db.raw("ROLLBACK").run()
            throw error
        }
    }

    /// Opens a store that must already exist at this build's schema, for commands that only
    /// read: nothing is created, migrated or left behind when it is missing.
    public static func openExisting(
        _ location: StorageLocation, logger: Logger, tunings: StorageTunings = StorageTunings()
    ) async throws -> StoreDatabase {
        if case .sqlite(let path) = location, !FileManager.default.fileExists(atPath: path) {
            throw StorageError.unavailable("there is no store at \(path)")
        }
        let database = try await StoreDatabase.open(location, logger: logger, tunings: tunings)
        let version = (try? await currentVersion(database)) ?? 0
        guard version == latestVersion else {
            await database.close()
            if version > latestVersion { throw StorageError.schemaTooNew(found: version, known: latestVersion) }
            throw StorageError.unavailable("the store has schema version \(version), not \(latestVersion): run sca migrate")
        }
        return database
    }

    public static func currentVersion(_ database: StoreDatabase) async throws -> Int {
        try await currentVersion(database.reader)
    }

    static func currentVersion(_ db: any SQLDatabase) async throws -> Int {
        let rows = try await db.raw("SELECT MAX(version) AS version FROM schema_migrations").all()
        return try rows.first?.decode(column: "version", as: Int?.self) ?? 0
    }
}
