import Foundation
import Logging
import SCAAudit
import SCAAuth
import SCAContract
import SCAPrimitives
import SCARules
import SCAStore
import SQLKit
import Synchronization

/// The settings the authentication side runs with (from `AuthConfiguration` and the rules').
public struct AuthSettings: Sendable {
    public var relyingParty: WebAuthnRelyingParty
    /// How long a one-time token (and an SMS code) lives: at most five minutes.
    public var challengeLifetime: Instant.Duration
    public var attemptPolicy: AttemptPolicy
    /// A session ends after this long without a request (RTS Art. 4(3)(d)).
    public var sessionIdle: Instant.Duration
    public var smsSendsPerHour: Int
    public var pushPendingMax: Int
    /// Registration funds a demo account.
    public var demo: Bool
    public var bankCountry: String

    public init(
        relyingParty: WebAuthnRelyingParty, challengeLifetime: Instant.Duration, attemptPolicy: AttemptPolicy,
        sessionIdle: Instant.Duration, smsSendsPerHour: Int = 5, pushPendingMax: Int = 3, demo: Bool = false,
        bankCountry: String = "PL"
    ) {
        self.relyingParty = relyingParty
        self.challengeLifetime = challengeLifetime
        self.attemptPolicy = attemptPolicy
        self.sessionIdle = sessionIdle
        self.smsSendsPerHour = smsSendsPerHour
        self.pushPendingMax = pushPendingMax
        self.demo = demo
        self.bankCountry = bankCountry
    }
}

/// Users, sessions, factors and one-time tokens on the durable store. Every change runs
/// in a group-commit transaction with its audit events; secrets are never stored or
/// logged in clear.
public final class AuthService: Sendable {
    public let store: DecisionStore
    public let settings: AuthSettings
    let hasher: KnowledgeHasher
    let box: SecretBox
    let pepper: [UInt8]
    let totp = TOTPVerifier()
    /// Reads the decision requests the gate builds (absent `sca` = pending, as over HTTP).
    let decoder: RequestDecoder
    public let pins: PinCheckPool
    /// The development SMS sender, when it is the configured one.
    public let messages: DevMessages?
    let logger: Logger
    /// Signatures checked (device keys, pushes, passkeys), and how many of them on the
    /// writer's thread: none should be (a test holds it to zero).
    let signatureChecks = Mutex((total: 0, onWriter: 0))
    public var signatureCheckCounts: (total: Int, onWriter: Int) { signatureChecks.withLock { $0 } }

    /// What another feature adds to a registration, in its transaction (the demo bank
    /// opens a funded account).
    public typealias RegistrationWork = nonisolated(nonsending) @Sendable (_ userID: String, TransactionScope) async throws -> Void
    let onRegistration: RegistrationWork?

    public init(
        store: DecisionStore, settings: AuthSettings, pepper: [UInt8], masterKey: [UInt8],
        scrypt: KnowledgeHasher.Parameters, pins: PinCheckPool, messages: DevMessages?, onRegistration: RegistrationWork? = nil,
        logger: Logger
    ) throws {
        self.onRegistration = onRegistration
        self.store = store
        self.settings = settings
        self.hasher = try KnowledgeHasher(pepper: pepper, parameters: scrypt)
        self.box = try SecretBox(masterKey: masterKey)
        self.pepper = pepper
        self.decoder = RequestDecoder(referenceRates: store.engine.configuration.referenceRates, absentSCA: nil)
        self.pins = pins
        self.messages = messages
        self.logger = logger
    }

    var database: StoreDatabase { store.database }

    // MARK: Users

    public struct Registration: Sendable {
        public let userID: String
        public let username: String
        public let session: String
    }

    public static let usernameLength = 3...32
    public static let nameCharactersMax = 140
    public static let labelCharactersMax = 64
    /// The balance of a demo account opened at registration, in grosze.

    static func checkUsername(_ username: String) throws {
        let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789._-".utf8)
        guard usernameLength.contains(username.utf8.count), username.utf8.allSatisfy(allowed.contains) else {
            throw GateRefusal(.invalid, "username: 3 to 32 of a-z, 0-9, '.', '_', '-'")
        }
    }

    /// A name or label for people: not blank, at most `max` characters, no control characters.
    public static func checkText(_ text: String, field: String, max: Int) throws {
        guard !text.trimmingCharacters(in: .whitespaces).isEmpty, text.count <= max,
            !text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
        else { throw GateRefusal(.invalid, "\(field): 1 to \(max) characters, no control characters") }
    }

    /// Creates a user with a PIN and returns an enrolment session (it can only enrol the
    /// user's factors). In demo mode the user also gets a funded PLN account.
    public func register(username: String, name: String, pin: String) async throws -> Registration {
        try Self.checkUsername(username)
        try Self.checkText(name, field: "name", max: Self.nameCharactersMax)
        let draft = try await prepareFactor(userID: nil, FactorRequest(kind: .pin, label: "PIN", pin: pin))
        let userID = Secrets.identifier("usr")
        let session = Secrets.bearerToken()
        let policy = settings.attemptPolicy
        try await store.transact { scope in
            guard try await !AuthRepository.usernameTaken(username, scope: scope) else {
                throw GateRefusal(.usernameTaken, "username: already taken")
            }
            try await AuthRepository.insertUser(id: userID, username: username, name: name, scope: scope)
            _ = try await draft.insert(into: scope, userID: userID, policy: policy)
            try await Self.openSession(session, userID: userID, kind: .enrolment, scope: scope)
            if let onRegistration = self.onRegistration { try await onRegistration(userID, scope) }
            var payload = JSONBuilder()
            payload.string("user_id", userID)
            payload.string("username", username)
            scope.audit("user_registered", payload: payload.json)
        }
        return Registration(userID: userID, username: username, session: session)
    }

    public func userID(username: String) async throws -> String? {
        try await AuthRepository.userID(username: username, database: database)
    }

    // MARK: Sessions

    public enum SessionKind: String, Sendable {
        /// Opened at registration: may only list and enrol the user's own factors.
        case enrolment
        /// Opened by a login with SCA.
        case authenticated
    }

    public struct Caller: Sendable {
        public let userID: String
        public let kind: SessionKind
    }

    nonisolated(nonsending) static func openSession(_ token: String, userID: String, kind: SessionKind, scope: TransactionScope)
        async throws
    {
        try await AuthRepository.insertSession(hash: sha256Hex(token), userID: userID, kind: kind.rawValue, scope: scope)
        var payload = JSONBuilder()
        payload.string("user_id", userID)
        payload.string("kind", kind.rawValue)
        scope.audit("session_opened", payload: payload.json)
    }

    /// The caller behind a bearer session, which this request keeps alive; refused when
    /// unknown, ended, idle past the limit, or of the wrong kind.
    public func caller(bearer: String?, authenticatedOnly: Bool) async throws -> Caller {
        guard let bearer = Secrets.bearer(bearer) else {
            throw GateRefusal(.unauthenticated, "a session is required: Authorization: Bearer <session>")
        }
        let hash = sha256Hex(bearer)
        let idle = settings.sessionIdle
        return try await store.transact { scope in
            guard let session = try await AuthRepository.lockedSession(hash: hash, scope: scope), !session.ended,
                let kind = SessionKind(rawValue: session.kind)
            else { throw GateRefusal(.unauthenticated, "the session is unknown or has ended") }
            guard scope.now < session.lastActivity + idle else { throw GateRefusal(.unauthenticated, "the session ended after inactivity") }
            if authenticatedOnly, kind != .authenticated {
                throw GateRefusal(.unauthenticated, "this call needs a session opened by a login with SCA")
            }
            try await AuthRepository.touchSession(hash: hash, scope: scope)
            return Caller(userID: session.userID, kind: kind)
        }
    }

    public func endSession(bearer: String) async throws {
        let hash = sha256Hex(bearer)
        try await store.transact { scope in
            try await AuthRepository.endSession(hash: hash, scope: scope)
            scope.audit("session_ended", payload: "{}")
        }
    }

    // MARK: Factors

    func factorRecords(userID: String) async throws -> [FactorRecord] {
        try await AuthRepository.factors(userID: userID, database: database)
    }

    public func factors(userID: String) async throws -> JSONList<FactorSummary> {
        let now = store.clock.now()
        return JSONList("factors", try await factorRecords(userID: userID).map { $0.summary(at: now, policy: settings.attemptPolicy) })
    }

    public func activeFactorCount(userID: String) async throws -> Int {
        try await factorRecords(userID: userID).filter(\.isActive).count
    }

    /// Revokes a factor of `userID` (as the effect of a protected call).
    public func revokeFactor(_ factorID: String, userID: String) -> TransactionWork<String> {
        let policy = settings.attemptPolicy
        return { scope in
            guard var factor = try await AuthRepository.lockedFactor(factorID, userID: userID, scope: scope) else {
                throw GateRefusal(.notFound, "factor not found")
            }
            guard factor.isActive else { throw GateRefusal(.conflict, "the factor is already revoked") }
            try await AuthRepository.revokeFactor(factorID, scope: scope)
            factor.status = "revoked"
            var payload = JSONBuilder()
            payload.string("user_id", userID)
            payload.string("factor_id", factorID)
            payload.string("kind", factor.kind.rawValue)
            scope.audit("factor_revoked", payload: payload.json)
            return factor.summary(at: scope.now, policy: policy).json
        }
    }
}

extension AuthService {
    /// Opens an authenticated session (the effect of a login).
    public func openingSession(userID: String, token: String, idleSeconds: Int64) -> TransactionWork<String> {
        { scope in
            try await Self.openSession(token, userID: userID, kind: .authenticated, scope: scope)
            var out = JSONBuilder()
            out.string("session", token)
            out.string("user_id", userID)
            out.integer("idle_timeout_seconds", idleSeconds)
            return out.json
        }
    }
}
