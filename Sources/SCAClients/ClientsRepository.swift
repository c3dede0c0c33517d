import SCARules
import SCAStore
import SQLKit

/// The clients' SQL, all of it: its tables are `ClientsSchema`'s. Reads go to the store's
/// reader; writes run in the transaction they are given.
struct ClientsRepository: Sendable {
    let database: StoreDatabase

    /// Most clients a listing returns.
    static let listMax = 1000

    /// A stored key with its client.
    struct KeyRow: Sendable {
        let client: Client
        let expiresAt: Instant?
        let revokedAt: Instant?
    }

    // MARK: Reads

    func key(hash: String) async throws -> KeyRow? {
        try await database.read(
            """
            SELECT k.expires_at, k.revoked_at, \(raw: Self.clientColumns) FROM api_keys k \
            JOIN api_clients c ON c.id = k.client_id WHERE k.key_hash = \(bind: hash)
            """
        ).first.map(Self.keyRow)
    }

    /// Of `digests`, the keys live at `now`: not revoked (revoking a client revokes its
    /// keys) and not ended. The store runs it in the transaction that writes the decisions
    /// they came with (`CredentialCheck`).
    static func liveKeys(_ digests: [String], at now: Instant) -> SQLQueryString {
        """
        SELECT key_hash FROM api_keys WHERE key_hash IN (\(binds: digests)) AND revoked_at IS NULL \
        AND (expires_at IS NULL OR expires_at > \(bind: now.millisecondsSinceEpoch))
        """
    }

    func clients() async throws -> [Client] {
        try await database.read(
            "SELECT \(raw: Self.clientColumns) FROM api_clients c ORDER BY c.created_at, c.id LIMIT \(bind: Self.listMax)"
        ).map(Self.client)
    }

    // MARK: Writes, in a transaction

    nonisolated(nonsending) static func lockedClient(_ id: String, scope: TransactionScope) async throws -> Client? {
        try await scope.all("SELECT \(raw: clientColumns) FROM api_clients c WHERE c.id = \(bind: id)\(scope.forUpdate)").first.map(client)
    }

    nonisolated(nonsending) static func insertClient(_ client: Client, scope: TransactionScope) async throws {
        try await scope.run(
            """
            INSERT INTO api_clients (id, kind, name, tenant, environment, status, created_at) VALUES (\(bind: client.id), \
            \(bind: client.kind.rawValue), \(bind: client.name), \(bind: client.tenant), \(bind: client.environment.rawValue), \
            \(bind: client.status.rawValue), \(bind: client.createdAt.millisecondsSinceEpoch))
            """)
    }

    nonisolated(nonsending) static func insertKey(
        hash: String, hint: String, clientID: String, at now: Instant, scope: TransactionScope
    ) async throws {
        try await scope.run(
            """
            INSERT INTO api_keys (key_hash, client_id, hint, created_at) VALUES \
            (\(bind: hash), \(bind: clientID), \(bind: hint), \(bind: now.millisecondsSinceEpoch))
            """)
    }

    /// Gives every live key of the client an end (`until`), unless it already ends sooner.
    nonisolated(nonsending) static func endKeys(clientID: String, until: Instant, scope: TransactionScope) async throws {
        let end = until.millisecondsSinceEpoch
        try await scope.run(
            """
            UPDATE api_keys SET expires_at = \(bind: end) WHERE client_id = \(bind: clientID) AND revoked_at IS NULL \
            AND (expires_at IS NULL OR expires_at > \(bind: end))
            """)
    }

    nonisolated(nonsending) static func revoke(clientID: String, at now: Instant, scope: TransactionScope) async throws {
        let at = now.millisecondsSinceEpoch
        try await scope.run("UPDATE api_clients SET status = 'revoked', revoked_at = \(bind: at) WHERE id = \(bind: clientID)")
        try await scope.run("UPDATE api_keys SET revoked_at = \(bind: at) WHERE client_id = \(bind: clientID) AND revoked_at IS NULL")
    }

    // MARK: Rows

    static let clientColumns = "c.id, c.kind, c.name, c.tenant, c.environment, c.status, c.created_at"

    static func client(_ row: any SQLRow) throws -> Client {
        let kind = try row.decode(column: "kind", as: String.self)
        let environment = try row.decode(column: "environment", as: String.self)
        let status = try row.decode(column: "status", as: String.self)
        guard let kind = ClientKind(rawValue: kind), let environment = KeyEnvironment(rawValue: environment),
            let status = Client.Status(rawValue: status)
        else { throw StorageError.corrupt("a client row has an unknown kind, environment or status") }
        return Client(
            id: try row.decode(column: "id", as: String.self), kind: kind, name: try row.decode(column: "name", as: String.self),
            tenant: try row.decode(column: "tenant", as: String.self), environment: environment, status: status,
            createdAt: Instant(millisecondsSinceEpoch: try row.decode(column: "created_at", as: Int64.self)))
    }

    static func keyRow(_ row: any SQLRow) throws -> KeyRow {
        KeyRow(
            client: try client(row),
            expiresAt: try row.decode(column: "expires_at", as: Int64?.self).map(Instant.init(millisecondsSinceEpoch:)),
            revokedAt: try row.decode(column: "revoked_at", as: Int64?.self).map(Instant.init(millisecondsSinceEpoch:)))
    }
}
