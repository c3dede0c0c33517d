import SCAAuth
import SCAPrimitives
import SCARules
import SCAStore
import SQLKit

/// The gate's SQL: users, sessions, factors, one-time tokens and decoupled approvals (the
/// tables of `AuthSchema`). Reads go to the store's reader; writes and locked reads run in
/// the transaction they are given. Times are milliseconds since the epoch.
enum AuthRepository {
    // MARK: Users

    nonisolated(nonsending) static func usernameTaken(_ username: String, scope: TransactionScope) async throws -> Bool {
        !(try await scope.all("SELECT id FROM auth_users WHERE username = \(bind: username)")).isEmpty
    }

    nonisolated(nonsending) static func insertUser(id: String, username: String, name: String, scope: TransactionScope) async throws {
        try await scope.run(
            """
            INSERT INTO auth_users (id, username, name, created_at, sms_window_start, sms_window_count) \
            VALUES (\(bind: id), \(bind: username), \(bind: name), \(bind: scope.now.millisecondsSinceEpoch), 0, 0)
            """)
    }

    static func userID(username: String, database: StoreDatabase) async throws -> String? {
        try await database.read("SELECT id FROM auth_users WHERE username = \(bind: username)").first?.decode(column: "id", as: String.self)
    }

    // MARK: Sessions

    struct Session {
        let userID: String
        let kind: String
        let lastActivity: Instant
        let ended: Bool
    }

    nonisolated(nonsending) static func insertSession(hash: String, userID: String, kind: String, scope: TransactionScope) async throws {
        let now = scope.now.millisecondsSinceEpoch
        try await scope.run(
            """
            INSERT INTO auth_sessions (token_hash, user_id, kind, created_at, last_activity) \
            VALUES (\(bind: hash), \(bind: userID), \(bind: kind), \(bind: now), \(bind: now))
            """)
    }

    nonisolated(nonsending) static func lockedSession(hash: String, scope: TransactionScope) async throws -> Session? {
        try await scope.all(
            "SELECT user_id, kind, last_activity, ended_at FROM auth_sessions WHERE token_hash = \(bind: hash)" + scope.forUpdate
        ).first.map {
            Session(
                userID: try $0.decode(column: "user_id", as: String.self), kind: try $0.decode(column: "kind", as: String.self),
                lastActivity: Instant(millisecondsSinceEpoch: try $0.decode(column: "last_activity", as: Int64.self)),
                ended: try $0.decode(column: "ended_at", as: Int64?.self) != nil
            )
        }
    }

    nonisolated(nonsending) static func touchSession(hash: String, scope: TransactionScope) async throws {
        try await scope.run(
            "UPDATE auth_sessions SET last_activity = \(bind: scope.now.millisecondsSinceEpoch) WHERE token_hash = \(bind: hash)")
    }

    nonisolated(nonsending) static func endSession(hash: String, scope: TransactionScope) async throws {
        try await scope.run(
            "UPDATE auth_sessions SET ended_at = \(bind: scope.now.millisecondsSinceEpoch) WHERE token_hash = \(bind: hash) AND ended_at IS NULL"
        )
    }

    // MARK: Factors

    static func factors(userID: String, database: StoreDatabase) async throws -> [FactorRecord] {
        try await database.read(
            "SELECT " + FactorRecord.columns + " FROM auth_factors WHERE user_id = \(bind: userID) ORDER BY created_at, id"
        ).map(FactorRecord.init(row:))
    }

    nonisolated(nonsending) static func lockedFactor(_ id: String, userID: String, scope: TransactionScope) async throws -> FactorRecord? {
        try await scope.all(
            "SELECT " + FactorRecord.columns + " FROM auth_factors WHERE id = \(bind: id) AND user_id = \(bind: userID)" + scope.forUpdate
        ).first.map(FactorRecord.init(row:))
    }

    nonisolated(nonsending) static func revokeFactor(_ id: String, scope: TransactionScope) async throws {
        try await scope.run(
            "UPDATE auth_factors SET status = 'revoked', revoked_at = \(bind: scope.now.millisecondsSinceEpoch) WHERE id = \(bind: id)")
    }

    nonisolated(nonsending) static func credentialRegistered(_ credentialID: String, scope: TransactionScope) async throws -> Bool {
        !(try await scope.all("SELECT id FROM auth_factors WHERE credential_id = \(bind: credentialID)")).isEmpty
    }

    nonisolated(nonsending) static func insertFactor(_ draft: FactorDraft, userID: String, scope: TransactionScope) async throws {
        try await scope.run(
            """
            INSERT INTO auth_factors (id, user_id, kind, label, secret, hint, credential_id, sign_count, last_step, \
            failures, blocks, blocked_until, permanently_blocked, status, created_at) VALUES \
            (\(bind: draft.id), \(bind: userID), \(bind: draft.kind.rawValue), \(bind: draft.label), \(bind: draft.secret), \
            \(bind: draft.hint), \(bind: draft.credentialID), \(bind: draft.signCount), NULL, 0, 0, NULL, 0, 'active', \
            \(bind: scope.now.millisecondsSinceEpoch))
            """)
    }

    nonisolated(nonsending) static func factor(_ id: String, scope: TransactionScope) async throws -> FactorRecord? {
        try await scope.all("SELECT " + FactorRecord.columns + " FROM auth_factors WHERE id = \(bind: id)").first.map(
            FactorRecord.init(row:))
    }

    /// The user's active factors, counted with their rows locked.
    nonisolated(nonsending) static func activeFactorCount(userID: String, scope: TransactionScope) async throws -> Int {
        try await scope.all("SELECT id FROM auth_factors WHERE user_id = \(bind: userID) AND status = 'active'" + scope.forUpdate).count
    }

    /// A factor's attempt counter and what a success moves forward.
    nonisolated(nonsending) static func saveCounters(of factor: FactorRecord, scope: TransactionScope) async throws {
        let counter = factor.counter
        try await scope.run(
            """
            UPDATE auth_factors SET failures = \(bind: Int64(counter.consecutiveFailures)), \
            blocks = \(bind: Int64(counter.temporaryBlocks)), \
            blocked_until = \(bind: counter.blockedUntil?.millisecondsSinceEpoch), \
            permanently_blocked = \(bind: counter.permanentlyBlocked ? Int64(1) : Int64(0)), \
            sign_count = \(bind: factor.signCount), last_step = \(bind: factor.lastStep) WHERE id = \(bind: factor.id)
            """)
    }

    static func user(_ id: String, database: StoreDatabase) async throws -> (username: String, name: String)? {
        try await database.read("SELECT username, name FROM auth_users WHERE id = \(bind: id)").first.map {
            (try $0.decode(column: "username", as: String.self), try $0.decode(column: "name", as: String.self))
        }
    }

    /// The user's active device keys (the phones a push goes to).
    nonisolated(nonsending) static func activeDevices(userID: String, scope: TransactionScope) async throws -> [FactorRecord] {
        try await scope.all(
            "SELECT " + FactorRecord.columns
                + " FROM auth_factors WHERE user_id = \(bind: userID) AND kind = 'device_key' AND status = 'active'"
        ).map(FactorRecord.init(row:))
    }

    static func activeDevice(_ id: String, database: StoreDatabase) async throws -> FactorRecord? {
        try await database.read(
            "SELECT " + FactorRecord.columns + " FROM auth_factors WHERE id = \(bind: id) AND kind = 'device_key' AND status = 'active'"
        ).first.map(FactorRecord.init(row:))
    }

    // MARK: Decoupled approvals

    struct Approval {
        let id: String
        let number: Int64
        let status: String
        let expiresAt: Instant
        let tokenHash: String
    }

    private static let approvalColumns = "id, number, status, expires_at, token_hash"

    private static func approval(_ row: any SQLRow) throws -> Approval {
        Approval(
            id: try row.decode(column: "id", as: String.self), number: try row.decode(column: "number", as: Int64.self),
            status: try row.decode(column: "status", as: String.self),
            expiresAt: Instant(millisecondsSinceEpoch: try row.decode(column: "expires_at", as: Int64.self)),
            tokenHash: try row.decode(column: "token_hash", as: String.self)
        )
    }

    /// Approvals of `userID` waiting and alive, locked.
    nonisolated(nonsending) static func pendingApprovalCount(userID: String, scope: TransactionScope) async throws -> Int {
        try await scope.all(
            """
            SELECT id FROM auth_approvals WHERE user_id = \(bind: userID) AND status = 'pending' \
            AND expires_at > \(bind: scope.now.millisecondsSinceEpoch)
            """ + scope.forUpdate
        ).count
    }

    nonisolated(nonsending) static func insertApproval(
        id: String, userID: String, tokenHash: String, number: Int64, expiresAt: Instant, scope: TransactionScope
    ) async throws {
        try await scope.run(
            """
            INSERT INTO auth_approvals (id, user_id, token_hash, number, status, created_at, expires_at) VALUES \
            (\(bind: id), \(bind: userID), \(bind: tokenHash), \(bind: number), 'pending', \(bind: scope.now.millisecondsSinceEpoch), \
            \(bind: expiresAt.millisecondsSinceEpoch))
            """)
    }

    /// `userID`'s approvals waiting and alive at `now`, oldest first.
    static func pendingApprovals(userID: String, at now: Instant, database: StoreDatabase) async throws -> [Approval] {
        try await database.read(
            """
            SELECT \(unsafeRaw: approvalColumns) FROM auth_approvals WHERE user_id = \(bind: userID) \
            AND status = 'pending' AND expires_at > \(bind: now.millisecondsSinceEpoch) ORDER BY created_at
            """
        ).map(approval)
    }

    static func approval(_ id: String, database: StoreDatabase) async throws -> Approval? {
        try await database.read("SELECT \(unsafeRaw: approvalColumns) FROM auth_approvals WHERE id = \(bind: id)").first.map(approval)
    }

    /// The approval `id` of the token `tokenHash`, locked.
    nonisolated(nonsending) static func lockedApproval(_ id: String, tokenHash: String, scope: TransactionScope) async throws -> Approval? {
        try await scope.all(
            "SELECT \(unsafeRaw: approvalColumns) FROM auth_approvals WHERE id = \(bind: id) AND token_hash = \(bind: tokenHash)"
                + scope.forUpdate
        ).first.map(approval)
    }

    nonisolated(nonsending) static func setApprovalStatus(
        _ id: String, to status: String, onlyIfPending: Bool = false, scope: TransactionScope
    )
        async throws
    {
        try await scope.run(
            "UPDATE auth_approvals SET status = \(bind: status) WHERE id = \(bind: id)" + (onlyIfPending ? " AND status = 'pending'" : ""))
    }

    static func tokens(hashes: [String], database: StoreDatabase) async throws -> [TokenRecord] {
        guard !hashes.isEmpty else { return [] }
        return try await database.read("SELECT " + TokenRecord.columns + " FROM auth_tokens WHERE token_hash IN (\(binds: hashes))").map(
            TokenRecord.init(row:))
    }

    // MARK: One-time tokens

    /// The kinds of the user's usable factors: active and not blocked for good.
    nonisolated(nonsending) static func usableFactorKinds(userID: String, scope: TransactionScope) async throws -> [String] {
        try await scope.all(
            "SELECT kind FROM auth_factors WHERE user_id = \(bind: userID) AND status = 'active' AND permanently_blocked = 0"
        ).map { try $0.decode(column: "kind", as: String.self) }
    }

    nonisolated(nonsending) static func insertToken(
        hash: String, userID: String, action: String, binding: [UInt8], link: PaymentLink?, decisionID: String?, nonce: [UInt8],
        offered: [FactorKind], expiresAt: Instant, scope: TransactionScope
    ) async throws {
        try await scope.run(
            """
            INSERT INTO auth_tokens (token_hash, user_id, action, binding, link_digest, display_text, decision_id, nonce, \
            offered, passed, created_at, expires_at) VALUES (\(bind: hash), \(bind: userID), \(bind: action), \
            \(bind: hex(binding)), \(bind: link.map { hex($0.digest) }), \(bind: link?.displayText), \(bind: decisionID), \
            \(bind: hex(nonce)), \(bind: offered.map(\.rawValue).joined(separator: ",")), '', \
            \(bind: scope.now.millisecondsSinceEpoch), \(bind: expiresAt.millisecondsSinceEpoch))
            """)
    }

    static func token(hash: String, database: StoreDatabase) async throws -> TokenRecord? {
        try await database.read("SELECT " + TokenRecord.columns + " FROM auth_tokens WHERE token_hash = \(bind: hash)").first.map(
            TokenRecord.init(row:))
    }

    nonisolated(nonsending) static func lockedToken(hash: String, scope: TransactionScope) async throws -> TokenRecord? {
        try await scope.all("SELECT " + TokenRecord.columns + " FROM auth_tokens WHERE token_hash = \(bind: hash)" + scope.forUpdate)
            .first.map(TokenRecord.init(row:))
    }

    /// The factors passed so far and the SMS code's state.
    nonisolated(nonsending) static func savePasses(of record: TokenRecord, scope: TransactionScope) async throws {
        try await scope.run(
            """
            UPDATE auth_tokens SET passed = \(bind: record.challenge.passed.map(\.rawValue).joined(separator: ",")), \
            otp_hash = \(bind: record.otpHash), otp_expires_at = \(bind: record.otpExpiresAt) \
            WHERE token_hash = \(bind: record.hash)
            """)
    }

    nonisolated(nonsending) static func saveCode(of record: TokenRecord, expiresAt: Int64, scope: TransactionScope) async throws {
        try await scope.run(
            "UPDATE auth_tokens SET otp_hash = \(bind: record.otpHash), otp_expires_at = \(bind: expiresAt) WHERE token_hash = \(bind: record.hash)"
        )
    }

    nonisolated(nonsending) static func consumeToken(hash: String, scope: TransactionScope) async throws {
        try await scope.run(
            "UPDATE auth_tokens SET consumed_at = \(bind: scope.now.millisecondsSinceEpoch) WHERE token_hash = \(bind: hash)")
    }

    /// Which of a user's active factors of a kind an answer names.
    enum FactorSelector {
        case any
        case id(String)
        case credential(String)

        var condition: SQLQueryString {
            switch self {
            case .any: return ""
            case .id(let id): return " AND id = \(bind: id)"
            case .credential(let id): return " AND credential_id = \(bind: id)"
            }
        }
    }

    /// The user's active factors of `kind` that `selector` names, oldest first, locked.
    nonisolated(nonsending) static func lockedFactors(
        userID: String, kind: FactorKind, _ selector: FactorSelector, scope: TransactionScope
    ) async throws -> [FactorRecord] {
        try await scope.all(
            "SELECT " + FactorRecord.columns + " FROM auth_factors WHERE user_id = \(bind: userID) AND kind = \(bind: kind.rawValue) "
                + "AND status = 'active'" + selector.condition + " ORDER BY created_at, id" + scope.forUpdate
        ).map(FactorRecord.init(row:))
    }

    static func activeFactor(userID: String, kind: FactorKind, _ selector: FactorSelector, database: StoreDatabase) async throws
        -> FactorRecord?
    {
        try await database.read(
            "SELECT " + FactorRecord.columns + " FROM auth_factors WHERE user_id = \(bind: userID) AND kind = \(bind: kind.rawValue) "
                + "AND status = 'active'" + selector.condition
        ).first.map(FactorRecord.init(row:))
    }

    /// The user's SMS sending window (its start in milliseconds, and the codes sent in it), locked.
    nonisolated(nonsending) static func lockedSMSWindow(userID: String, scope: TransactionScope) async throws -> (
        start: Int64, count: Int64
    )? {
        try await scope.all("SELECT sms_window_start, sms_window_count FROM auth_users WHERE id = \(bind: userID)" + scope.forUpdate).first
            .map { (try $0.decode(column: "sms_window_start", as: Int64.self), try $0.decode(column: "sms_window_count", as: Int64.self)) }
    }

    nonisolated(nonsending) static func saveSMSWindow(userID: String, start: Int64, count: Int64, scope: TransactionScope) async throws {
        try await scope.run(
            "UPDATE auth_users SET sms_window_start = \(bind: start), sms_window_count = \(bind: count) WHERE id = \(bind: userID)")
    }
}
