import SCAGate
import SCAPrimitives
import SCARules
import SCAStore

/// A refusal of a client administration call, with its stable code.
public struct ClientRefusal: TransactionRefusal, Equatable {
    public enum Kind: String, Sendable {
        case notFound = "not_found"
        case conflict
        case invalid = "invalid_value"
    }

    public let kind: Kind
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }
}

/// Why a call's credential does not let it through. The answer says no more than this:
/// not whether the key was unknown, revoked, expired or of the other environment.
public enum AccessRefusal: Error, Sendable, Equatable {
    /// No key, or a key that is not a live key of any client: 401.
    case unauthenticated
    /// A live key of a client whose kind lacks the scope: 403.
    case insufficientScope
}

/// The engine's clients and their keys: created, listed, rotated and revoked by the `sca
/// clients` commands and the operator API, on the same store as `sca serve`; every change
/// in the audit chain. Keys are looked up on each call (no cache), so that a revocation
/// takes effect at once on every node.
public struct ClientRegistry: Sendable {
    public let store: DecisionStore
    let repository: ClientsRepository
    let pepper: [UInt8]

    /// How long a rotated key keeps working beside its successor, unless told otherwise.
    public static let rotationOverlapDefault = Instant.Duration.days(1)
    /// The longest overlap a rotation may give (a week): a key that must go, goes.
    public static let rotationOverlapMax = Instant.Duration.days(7)
    public static let nameCharactersMax = 100
    public static let tenantCharactersMax = 64

    public init(store: DecisionStore, pepper: [UInt8]) {
        self.store = store
        self.repository = ClientsRepository(database: store.database)
        self.pepper = pepper
    }

    // MARK: Administration

    /// A new client of `kind` with its first key; its own tenant unless one is named.
    public func create(kind: ClientKind, name: String, tenant: String? = nil, environment: KeyEnvironment) async throws -> IssuedKey {
        try Self.check(name, field: "name", max: Self.nameCharactersMax)
        if let tenant { try Self.checkIdentifier(tenant, field: "tenant", max: Self.tenantCharactersMax) }
        let key = APIKey.generate(environment)
        let hash = APIKey.digest(key, pepper: pepper)
        let client = try await store.transact { scope in
            let id = Secrets.identifier("cli")
            let client = Client(
                id: id, kind: kind, name: name, tenant: tenant ?? "ten_" + id.dropFirst(4), environment: environment, status: .active,
                createdAt: scope.now)
            try await ClientsRepository.insertClient(client, scope: scope)
            try await ClientsRepository.insertKey(hash: hash, hint: APIKey.hint(key), clientID: id, at: scope.now, scope: scope)
            scope.audit("client_created", payload: Self.auditPayload(client))
            return client
        }
        return IssuedKey(client: client, key: key, previousKeyExpiresAt: nil)
    }

    public func list() async throws -> [Client] { try await repository.clients() }

    /// A new key for the client; its current keys keep working for `overlap`, then stop.
    public func rotate(_ clientID: String, overlap: Instant.Duration = rotationOverlapDefault) async throws -> IssuedKey {
        guard overlap.milliseconds >= 0, overlap <= Self.rotationOverlapMax else {
            throw ClientRefusal(.invalid, "overlap: from 0 to \(Self.rotationOverlapMax.milliseconds / 1000) seconds")
        }
        let pepper = self.pepper
        return try await store.transact { scope in
            guard let client = try await ClientsRepository.lockedClient(clientID, scope: scope) else {
                throw ClientRefusal(.notFound, "client not found")
            }
            guard client.status == .active else { throw ClientRefusal(.conflict, "the client is revoked") }
            let key = APIKey.generate(client.environment)
            let until = scope.now + overlap
            try await ClientsRepository.endKeys(clientID: clientID, until: until, scope: scope)
            try await ClientsRepository.insertKey(
                hash: APIKey.digest(key, pepper: pepper), hint: APIKey.hint(key), clientID: clientID, at: scope.now, scope: scope)
            var payload = JSONBuilder()
            payload.string("client_id", clientID)
            payload.string("previous_keys_expire_at", until.rfc3339)
            scope.audit("client_key_rotated", payload: payload.json)
            return IssuedKey(client: client, key: key, previousKeyExpiresAt: until)
        }
    }

    /// Revokes the client and every key it has, at once.
    public func revoke(_ clientID: String) async throws -> Client {
        try await store.transact { scope in
            guard let client = try await ClientsRepository.lockedClient(clientID, scope: scope) else {
                throw ClientRefusal(.notFound, "client not found")
            }
            guard client.status == .active else { throw ClientRefusal(.conflict, "the client is already revoked") }
            try await ClientsRepository.revoke(clientID: clientID, at: scope.now, scope: scope)
            scope.audit("client_revoked", payload: Self.auditPayload(client))
            return Client(
                id: client.id, kind: client.kind, name: client.name, tenant: client.tenant, environment: client.environment,
                status: .revoked, createdAt: client.createdAt)
        }
    }

    // MARK: Authentication

    /// The client whose live key `key` is, or nil: for a missing or malformed key, an
    /// unknown one, a revoked client's, or a rotated key past its overlap.
    public func authenticate(_ key: String?) async throws -> Client? {
        guard let key, APIKey.environment(of: key) != nil else { return nil }
        let hash = APIKey.digest(key, pepper: pepper)
        guard let row = try await repository.key(hash: hash),
            constantTimeEqual(Array(row.keyHash.utf8), Array(hash.utf8)),
            row.revokedAt == nil, row.client.status == .active
        else { return nil }
        if let end = row.expiresAt, store.clock.now() >= end { return nil }
        return row.client
    }

    /// The client of `authorization` (`Bearer <key>`) when it may use `scope`.
    public func authorize(_ authorization: String?, for scope: ClientScope) async throws -> Result<Client, AccessRefusal> {
        guard let client = try await authenticate(Self.bearerKey(authorization)) else { return .failure(.unauthenticated) }
        return client.may(scope) ? .success(client) : .failure(.insufficientScope)
    }

    /// The key of an `Authorization: Bearer <key>` header value.
    public static func bearerKey(_ authorization: String?) -> String? {
        guard let authorization, authorization.utf8.count <= APIKey.charactersMax + 16 else { return nil }
        let parts = authorization.split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        return String(parts[1])
    }

    // MARK: Checks

    static func auditPayload(_ client: Client) -> String {
        var payload = JSONBuilder()
        payload.string("client_id", client.id)
        payload.string("kind", client.kind.rawValue)
        payload.string("name", client.name)
        payload.string("tenant", client.tenant)
        payload.string("environment", client.environment.rawValue)
        return payload.json
    }

    static func check(_ text: String, field: String, max: Int) throws {
        guard !text.isEmpty, text.count <= max, !text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
        else { throw ClientRefusal(.invalid, "\(field): 1 to \(max) characters, no control characters") }
    }

    static func checkIdentifier(_ text: String, field: String, max: Int) throws {
        let allowed = text.utf8.allSatisfy { byte in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
        }
        guard !text.isEmpty, text.utf8.count <= max, allowed else {
            throw ClientRefusal(.invalid, "\(field): 1 to \(max) of a-z, 0-9, _ and -")
        }
    }
}
