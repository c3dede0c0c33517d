import SCAAudit
import SCAAuth
import SCAPrimitives
import SCARules
import SCAStore
import SQLKit

/// Why an operation was refused; each becomes one HTTP error.
public struct GateRefusal: TransactionRefusal, Equatable {
    public enum Kind: String, Sendable {
        case notFound = "not_found"
        case conflict
        case usernameTaken = "username_taken"
        case invalid = "invalid_value"
        case unauthenticated
        case verificationFailed = "verification_failed"
        case approvalInvalid = "approval_invalid"
        case rateLimited = "rate_limited"
        case busy
        case insufficientFunds = "insufficient_funds"
        case scaUnavailable = "sca_unavailable"
        case forbidden
    }
    public let kind: Kind
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    /// The one answer every failed verification gets: it never says which element was wrong.
    public static let verificationFailed = GateRefusal(.verificationFailed, "the verification was not accepted")
}

/// A factor as stored.
struct FactorRecord: Sendable {
    let id: String
    let userID: String
    let kind: FactorKind
    let label: String
    /// The PIN's scrypt hash, the sealed TOTP seed or phone number, or the public key.
    let secret: String
    let hint: String?
    let credentialID: String?
    var signCount: Int64
    var lastStep: Int64?
    var counter: AttemptCounter
    var status: String
    let createdAt: Int64

    static let columns: SQLQueryString = """
        id, user_id, kind, label, secret, hint, credential_id, sign_count, last_step, failures, blocks, \
        blocked_until, permanently_blocked, status, created_at
        """

    init(row: any SQLRow) throws {
        id = try row.decode(column: "id", as: String.self)
        userID = try row.decode(column: "user_id", as: String.self)
        let kindName = try row.decode(column: "kind", as: String.self)
        guard let kind = FactorKind(rawValue: kindName) else { throw StorageError.corrupt("unknown factor kind \(kindName)") }
        self.kind = kind
        label = try row.decode(column: "label", as: String.self)
        secret = try row.decode(column: "secret", as: String.self)
        hint = try row.decode(column: "hint", as: String?.self)
        credentialID = try row.decode(column: "credential_id", as: String?.self)
        signCount = try row.decode(column: "sign_count", as: Int64.self)
        lastStep = try row.decode(column: "last_step", as: Int64?.self)
        counter = AttemptCounter(
            consecutiveFailures: Int(try row.decode(column: "failures", as: Int64.self)),
            temporaryBlocks: Int(try row.decode(column: "blocks", as: Int64.self)),
            blockedUntil: try row.decode(column: "blocked_until", as: Int64?.self).map(Instant.init(millisecondsSinceEpoch:)),
            permanentlyBlocked: try row.decode(column: "permanently_blocked", as: Int64.self) != 0
        )
        status = try row.decode(column: "status", as: String.self)
        createdAt = try row.decode(column: "created_at", as: Int64.self)
    }

    var isActive: Bool { status == "active" }

    /// The factor's public view (`Factor` in docs/AUTH-API.md).
    func summary(at now: Instant, policy: AttemptPolicy) -> FactorSummary { FactorSummary(self, at: now, policy: policy) }

    /// Writes the attempt counter and what a success moves forward.
    nonisolated(nonsending) func saveCounters(_ scope: TransactionScope) async throws {
        try await AuthRepository.saveCounters(of: self, scope: scope)
    }
}

/// A one-time token as stored: the challenge, what it is bound to, and who may use it.
struct TokenRecord: Sendable {
    let hash: String
    let userID: String
    let action: String
    let binding: [UInt8]
    let linkDigest: [UInt8]?
    let displayText: String?
    let decisionID: String?
    let nonce: [UInt8]
    var challenge: Challenge
    var otpHash: String?
    var otpExpiresAt: Int64?

    static let columns: SQLQueryString = """
        token_hash, user_id, action, binding, link_digest, display_text, decision_id, nonce, offered, passed, \
        created_at, expires_at, consumed_at, failed_at, otp_hash, otp_expires_at
        """

    init(row: any SQLRow) throws {
        func hexColumn(_ column: String) throws -> [UInt8] {
            guard let value = bytes(fromHex: try row.decode(column: column, as: String.self)) else {
                throw StorageError.corrupt("\(column) is not hex")
            }
            return value
        }
        func kinds(_ column: String) throws -> [FactorKind] {
            let text = try row.decode(column: column, as: String.self)
            return try text.split(separator: ",").map { name in
                guard let kind = FactorKind(rawValue: String(name)) else { throw StorageError.corrupt("unknown factor kind \(name)") }
                return kind
            }
        }
        func instant(_ column: String) throws -> Instant? {
            try row.decode(column: column, as: Int64?.self).map(Instant.init(millisecondsSinceEpoch:))
        }
        hash = try row.decode(column: "token_hash", as: String.self)
        userID = try row.decode(column: "user_id", as: String.self)
        action = try row.decode(column: "action", as: String.self)
        binding = try hexColumn("binding")
        linkDigest = try row.decode(column: "link_digest", as: String?.self).flatMap { bytes(fromHex: $0) }
        displayText = try row.decode(column: "display_text", as: String?.self)
        decisionID = try row.decode(column: "decision_id", as: String?.self)
        nonce = try hexColumn("nonce")
        challenge = Challenge(
            restoring: try kinds("offered"), binding: binding,
            createdAt: try instant("created_at") ?? Instant(millisecondsSinceEpoch: 0),
            expiresAt: try instant("expires_at") ?? Instant(millisecondsSinceEpoch: 0),
            passed: try kinds("passed"), consumedAt: try instant("consumed_at"), failedAt: try instant("failed_at")
        )
        otpHash = try row.decode(column: "otp_hash", as: String?.self)
        otpExpiresAt = try row.decode(column: "otp_expires_at", as: Int64?.self)
    }

    /// What a device key signs and a passkey asserts: SHA-256 over the bound request, the
    /// payment link (when there is one) and the token's nonce. Any change to the amount,
    /// the payee or the request gives other bytes (RTS Art. 5).
    var signedChallenge: [UInt8] {
        Secrets.sha256(Array("sca-ott/1".utf8) + binding + (linkDigest ?? []) + nonce)
    }

    /// A short, non-secret name for audit payloads.
    var reference: String { String(hash.prefix(16)) }
}
