import Foundation
import Logging
import SQLKit

/// The schema, as numbered migrations. Each feature owns its tables and declares its
/// migrations (`StoreSchema`, `AuthSchema`, `BankSchema`, `PaymentSchema`); a `Schema`
/// merges them into the engine's one versioned sequence, a version's parts in the order
/// given. A database records the versions it has; `migrate` applies the missing ones in
/// order, each in its own transaction, and refuses a database newer than this build. The
/// SQL is the common subset of SQLite and PostgreSQL.
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

        public init(
            version: Int, name: String, statements: [String], sqliteStatements: [String]? = nil,
            refusal: (query: String, reason: String)? = nil
        ) {
            self.version = version
            self.name = name
            self.statements = statements
            self.sqliteStatements = sqliteStatements
            self.refusal = refusal
        }

        func statements(for backend: StoreDatabase.Backend) -> [String] {
            backend == .sqlite ? sqliteStatements ?? statements : statements
        }

        /// This migration and `other` (of the same version) as one: names joined, statements
        /// in turn.
        func merged(with other: Migration) -> Migration {
            precondition(version == other.version && (refusal == nil || other.refusal == nil))
            let sqlite =
                sqliteStatements == nil && other.sqliteStatements == nil
                ? nil : statements(for: .sqlite) + other.statements(for: .sqlite)
            return Migration(
                version: version, name: name + "; " + other.name, statements: statements + other.statements,
                sqliteStatements: sqlite, refusal: refusal ?? other.refusal
            )
        }
    }

    /// The engine's migrations in one sequence: versions 1, 2, … with none missing.
    public struct Schema: Sendable {
        public let migrations: [Migration]

        public init(_ parts: [[Migration]]) {
            var byVersion: [Int: Migration] = [:]
            for migration in parts.joined() {
                byVersion[migration.version] = byVersion[migration.version].map { $0.merged(with: migration) } ?? migration
            }
            migrations = byVersion.keys.sorted().map { byVersion[$0]! }
            precondition(migrations.map(\.version) == Array(1...max(1, migrations.count)), "schema versions must run 1, 2, … without gaps")
        }

        public var latestVersion: Int { migrations.last?.version ?? 0 }
    }
}

/// The storage module's own tables: the rules state, decisions, idempotency keys, the audit
/// log; its parts of the engine's one versioned sequence.
public enum StoreSchema {
    public typealias Migration = Migrations.Migration

    public static let migrations: [Migration] = [
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
            version: 4, name: "indexes for the retention sweep",
            statements: [
                // What `DecisionStore.sweep` looks rows up by: the oldest first, a bounded
                // number at a time, without reading the whole table.
                "CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at)"
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
        Migration(
            version: 8, name: "decisions owned by a tenant",
            // Whose namespace of the rules state a decision uses (`ResourceOwner`); the
            // decisions made before there were tenants are the engine's own ('').
            statements: ["ALTER TABLE decisions ADD COLUMN tenant TEXT NOT NULL DEFAULT ''"]
        ),
    ]

}

extension Migrations {
    /// Applies what is missing; returns the versions applied. Safe to run on several nodes
    /// at once: every step runs in a transaction that holds the migration lock and re-checks
    /// the version under it.
    @discardableResult
    public static func migrate(_ database: StoreDatabase, schema: Schema, now: String) async throws -> [Int] {
        try await migrate(database, schema: schema, now: now, upTo: schema.latestVersion)
    }

    /// The same, stopping after `version` (tests of upgrades from an older schema).
    @discardableResult
    public static func migrate(_ database: StoreDatabase, schema: Schema, now: String, upTo version: Int) async throws -> [Int] {
        let latestVersion = schema.latestVersion
        let db = database.writer
        try await underMigrationLock(database) {
            try await db.raw(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
            ).run()
        }
        var applied: [Int] = []
        for migration in schema.migrations where migration.version <= version {
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
        _ location: StorageLocation, schema: Schema, logger: Logger, tunings: StorageTunings = StorageTunings()
    ) async throws -> StoreDatabase {
        let latestVersion = schema.latestVersion
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
