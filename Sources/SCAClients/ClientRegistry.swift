import SCAGate
import SCAHTTP
import SCAPrimitives
import SCARules
import SCAStore
import Synchronization

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
    let hasher: APIKeyHasher
    /// Deciders' clients by key digest, as read from the store (`decisionCaller`).
    let seenDeciders = SeenKeys()
    /// The most deciders' keys kept; past it the memory is emptied and filled again.
    public static let seenDecidersMax = 10_000

    /// How long a rotated key keeps working beside its successor, unless told otherwise.
    public static let rotationOverlapDefault = Instant.Duration.days(1)
    /// The longest overlap a rotation may give (a week): a key that must go, goes.
    public static let rotationOverlapMax = Instant.Duration.days(7)
    public static let nameCharactersMax = 100
    public static let tenantCharactersMax = 64

    public init(store: DecisionStore, pepper: [UInt8]) {
        self.store = store
        self.repository = ClientsRepository(database: store.database)
        self.hasher = APIKeyHasher(pepper: pepper)
        store.credentials.install(ClientsRepository.liveKeys)
    }

    // MARK: Administration

    /// A new client of `kind` with its first key; its own tenant unless one is named.
    public func create(kind: ClientKind, name: String, tenant: String? = nil, environment: KeyEnvironment) async throws -> IssuedKey {
        try AuthService.checkText(name, field: "name", max: Self.nameCharactersMax)
        if let tenant { try Self.checkTenant(tenant) }
        let key = APIKey.generate(environment)
        let hash = hasher.digest(key)
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
            throw GateRefusal(.invalid, "overlap: from 0 to \(Self.rotationOverlapMax.milliseconds / 1000) seconds")
        }
        let hasher = self.hasher
        return try await store.transact { scope in
            guard let client = try await ClientsRepository.lockedClient(clientID, scope: scope) else {
                throw GateRefusal(.notFound, "client not found")
            }
            guard client.status == .active else { throw GateRefusal(.conflict, "the client is revoked") }
            let key = APIKey.generate(client.environment)
            let until = scope.now + overlap
            try await ClientsRepository.endKeys(clientID: clientID, until: until, scope: scope)
            try await ClientsRepository.insertKey(
                hash: hasher.digest(key), hint: APIKey.hint(key), clientID: clientID, at: scope.now, scope: scope)
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
                throw GateRefusal(.notFound, "client not found")
            }
            guard client.status == .active else { throw GateRefusal(.conflict, "the client is already revoked") }
            try await ClientsRepository.revoke(clientID: clientID, at: scope.now, scope: scope)
            scope.audit("client_revoked", payload: Self.auditPayload(client))
            var revoked = client
            revoked.status = .revoked
            return revoked
        }
    }

    // MARK: Authentication

    /// The client whose live key `key` is, or nil: for a missing or malformed key, an
    /// unknown one, a revoked client's, or a rotated key past its overlap.
    ///
    /// The key is found by its keyed hash, so no comparison with a stored secret runs here:
    /// timing can only tell an attacker about HMAC values they cannot compute without the
    /// pepper.
    public func authenticate(_ key: String?) async throws -> Client? {
        guard let key, APIKey.environment(of: key) != nil else { return nil }
        return try await client(digest: hasher.digest(key))
    }

    private func client(digest: String) async throws -> Client? {
        guard let row = try await repository.key(hash: digest), row.revokedAt == nil, row.client.status == .active else { return nil }
        if let end = row.expiresAt, store.clock.now() >= end { return nil }
        return row.client
    }

    /// A decision's caller and its key's digest, read from the store and remembered, so
    /// that the key is not read again (`seenDecisionCaller`): `POST /v1/decisions` is the hot
    /// path, and the decision's own transaction checks the key once more
    /// (`DecisionStore.credentials`), so a revocation or a rotated key's end holds at once on
    /// every node all the same. Only decisions may skip the read.
    public func readDecisionCaller(_ authorization: String?) async throws -> (client: Client, credential: String) {
        guard let key = BearerCredential.parse(authorization), APIKey.environment(of: key) != nil else {
            throw AccessRefusal.unauthenticated
        }
        let digest = hasher.digest(key)
        guard let client = try await client(digest: digest) else { throw AccessRefusal.unauthenticated }
        guard client.may(.decisions) else { throw AccessRefusal.insufficientScope }
        seenDeciders.insert(client, digest: digest, max: Self.seenDecidersMax)
        return (client, digest)
    }

    /// A decision's caller from the deciders' keys seen before alone, with no read: nil for
    /// a key not seen (then `readDecisionCaller`).
    public func seenDecisionCaller(_ authorization: String?) -> Result<(client: Client, credential: String), AccessRefusal>? {
        guard let key = BearerCredential.parse(authorization), APIKey.environment(of: key) != nil else {
            return .failure(.unauthenticated)
        }
        let digest = hasher.digest(key)
        return seenDeciders.client(digest: digest).map { .success(($0, digest)) }
    }

    /// Forgets a key its decision's transaction found no longer live.
    public func forget(credential: String) { seenDeciders.remove(digest: credential) }

    /// The client of `authorization` (`Bearer <key>`) when it may use `scope`.
    public func authorize(_ authorization: String?, for scope: ClientScope) async throws -> Result<Client, AccessRefusal> {
        guard let client = try await authenticate(BearerCredential.parse(authorization)) else { return .failure(.unauthenticated) }
        return client.may(scope) ? .success(client) : .failure(.insufficientScope)
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

    /// A tenant names a namespace: a-z, 0-9, `_` and `-`.
    static func checkTenant(_ tenant: String) throws {
        let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789_-".utf8)
        guard (1...tenantCharactersMax).contains(tenant.utf8.count), tenant.utf8.allSatisfy(allowed.contains) else {
            throw GateRefusal(.invalid, "tenant: 1 to \(tenantCharactersMax) of a-z, 0-9, _ and -")
        }
    }
}

/// The deciders' clients a node has read, by key digest; bounded by its caller.
final class SeenKeys: Sendable {
    private let clients = Mutex<[String: Client]>([:])

    func client(digest: String) -> Client? { clients.withLock { $0[digest] } }

    func insert(_ client: Client, digest: String, max: Int) {
        clients.withLock { clients in
            if clients.count >= max { clients.removeAll(keepingCapacity: true) }
            clients[digest] = client
        }
    }

    func remove(digest: String) { _ = clients.withLock { $0.removeValue(forKey: digest) } }
}
