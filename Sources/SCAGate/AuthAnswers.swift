import SCAAuth
import SCAPrimitives
import SCARules

// The values the authentication API answers with (docs/AUTH-API.md), each written by the
// one JSON writer at the edge. The services return these; the controller encodes them.

/// A factor's public view (`Factor`): never its secret.
public struct FactorSummary: JSONAnswer {
    public let id: String
    public let kind: FactorKind
    public let label: String
    public let status: String
    public let createdAt: Instant
    public let blockedUntil: Instant?
    public let blocked: Bool
    public let permanentlyBlocked: Bool
    /// The warning before a permanent block (RTS Art. 4(3)(b), SCA-RULES §5): the failures
    /// now counting lead to the permanent block, not another temporary one.
    public let permanentBlockNext: Bool
    public let failedAttempts: Int
    public let credentialID: String?
    public let phoneHint: String?
    /// Shown once, in the answer to the enrolment: the TOTP seed and its provisioning URI.
    public var onceOnly: [(String, String)] = []

    init(_ record: FactorRecord, at now: Instant, policy: AttemptPolicy) {
        id = record.id
        kind = record.kind
        label = record.label
        status = record.status
        createdAt = Instant(millisecondsSinceEpoch: record.createdAt)
        let availability = policy.availability(record.counter, at: now)
        blocked = availability != .open
        if case .blocked(let until) = availability { blockedUntil = until } else { blockedUntil = nil }
        permanentlyBlocked = record.counter.permanentlyBlocked
        permanentBlockNext =
            !record.counter.permanentlyBlocked && record.counter.temporaryBlocks >= policy.temporaryBlockDurations.count
        failedAttempts = record.counter.consecutiveFailures
        credentialID = record.credentialID
        phoneHint = record.kind == .sms ? record.hint : nil
    }

    public func write(to out: inout JSONBuilder) {
        out.string("id", id)
        out.string("kind", kind.rawValue)
        out.string("category", kind.category.rawValue)
        out.string("label", label)
        out.string("status", status)
        out.string("created_at", createdAt.rfc3339)
        out.bool("blocked", blocked)
        out.string("blocked_until", blockedUntil?.rfc3339)
        out.bool("permanently_blocked", permanentlyBlocked)
        out.bool("permanent_block_next", permanentBlockNext)
        out.integer("failed_attempts", Int64(failedAttempts))
        if let credentialID { out.string("credential_id", credentialID) }
        if kind == .sms { out.string("phone_hint", phoneHint) }
        for (name, value) in onceOnly { out.string(name, value) }
    }
}

/// `GET /v1/one-time-token/status`: what the token still asks for.
public struct TokenStatus: JSONAnswer {
    /// One category of factors on offer: the preferred kind and the others.
    public struct Group: JSONAnswer {
        public let category: FactorCategory
        public let primary: FactorKind
        public let alternatives: [FactorKind]
        /// Required when the other categories on offer cannot make two without it.
        public let required: Bool
        public let passed: Bool

        public func write(to out: inout JSONBuilder) {
            out.string("category", category.rawValue)
            out.raw("primary_challenge", Self.kindJSON(primary))
            out.array("alternatives", alternatives.map(Self.kindJSON))
            out.bool("required", required)
            out.bool("passed", passed)
        }

        static func kindJSON(_ kind: FactorKind) -> String { #"{"type":"# + JSONBuilder.quoted(kind.rawValue) + "}" }
    }

    public let oneTimeToken: String
    public let actionType: String
    public let state: String
    public let validitySeconds: Int64
    public let expiresAt: Instant
    public let displayText: String?
    public let categoriesRequired: Int
    public let challenges: [Group]

    public func write(to out: inout JSONBuilder) {
        out.string("one_time_token", oneTimeToken)
        out.string("action_type", actionType)
        out.string("state", state)
        out.integer("validity_seconds", validitySeconds)
        out.string("expires_at", expiresAt.rfc3339)
        out.string("display_text", displayText)
        out.integer("categories_required", Int64(categoriesRequired))
        out.objects("challenges", challenges)
    }
}

/// The challenge a device key signs for a token.
public struct SigningChallenge: JSONAnswer {
    public let challenge: [UInt8]

    public func write(to out: inout JSONBuilder) { out.string("challenge", Base64URL.encode(challenge)) }
}

/// A credential a passkey ceremony allows or excludes.
struct PublicKeyCredential: JSONAnswer {
    let id: String

    func write(to out: inout JSONBuilder) {
        out.string("type", "public-key")
        out.string("id", id)
    }
}

/// `PublicKeyCredentialRequestOptions` for a passkey assertion, under `public_key`.
public struct PasskeyRequestOptions: JSONAnswer {
    public let challenge: [UInt8]
    public let relyingPartyID: String
    public let allowCredentials: [String]
    public let timeoutMilliseconds: Int64

    public func write(to out: inout JSONBuilder) {
        var options = JSONBuilder()
        options.string("challenge", Base64URL.encode(challenge))
        options.string("rp_id", relyingPartyID)
        options.objects("allow_credentials", allowCredentials.map(PublicKeyCredential.init))
        options.string("user_verification", "required")
        options.integer("timeout", timeoutMilliseconds)
        out.raw("public_key", options.json)
    }
}

/// `PublicKeyCredentialCreationOptions` for registering a passkey, under `public_key`.
public struct PasskeyCreationOptions: JSONAnswer {
    public let challenge: [UInt8]
    public let relyingPartyID: String
    public let userHandle: [UInt8]
    public let username: String
    public let displayName: String
    public let excludeCredentials: [String]
    public let timeoutMilliseconds: Int64

    public func write(to out: inout JSONBuilder) {
        var rp = JSONBuilder()
        rp.string("id", relyingPartyID)
        rp.string("name", "SCA demo bank")
        var user = JSONBuilder()
        user.string("id", Base64URL.encode(userHandle))
        user.string("name", username)
        user.string("display_name", displayName)
        var selection = JSONBuilder()
        selection.string("resident_key", "preferred")
        selection.string("user_verification", "required")
        var options = JSONBuilder()
        options.string("challenge", Base64URL.encode(challenge))
        options.raw("rp", rp.json)
        options.raw("user", user.json)
        options.raw("pub_key_cred_params", #"[{"type":"public-key","alg":-7},{"type":"public-key","alg":-257}]"#)
        options.integer("timeout", timeoutMilliseconds)
        options.string("attestation", "none")
        options.raw("authenticator_selection", selection.json)
        options.objects("exclude_credentials", excludeCredentials.map(PublicKeyCredential.init))
        out.raw("public_key", options.json)
    }
}

/// A one-time code sent: where to, how, and for how long it is valid.
public struct CodeSent: JSONAnswer {
    public let sentTo: String
    public let channel: String
    public let expiresInSeconds: Int64

    public func write(to out: inout JSONBuilder) {
        out.string("sent_to", sentTo)
        out.string("channel", channel)
        out.integer("expires_in", expiresInSeconds)
    }
}

/// A push sent to the user's devices: the approval and the number the page shows.
public struct PushSent: JSONAnswer {
    public let approvalID: String
    public let number: Int
    public let expiresAt: Instant

    public func write(to out: inout JSONBuilder) {
        out.string("approval_id", approvalID)
        out.integer("number", Int64(number))
        out.string("expires_at", expiresAt.rfc3339)
    }
}

/// A push waiting on the device: what it approves and the numbers to pick from.
public struct PendingApproval: JSONAnswer {
    public let id: String
    public let actionType: String
    public let displayText: String
    public let numbers: [Int]
    public let challenge: [UInt8]
    public let expiresAt: Instant

    public func write(to out: inout JSONBuilder) {
        out.string("id", id)
        out.string("action_type", actionType)
        out.string("display_text", displayText)
        out.array("numbers", numbers.map(String.init))
        out.string("challenge", Base64URL.encode(challenge))
        out.string("expires_at", expiresAt.rfc3339)
    }
}

/// The device's answer to a push, as it was applied.
public enum PushResult: String, JSONAnswer {
    case approved, denied

    public func write(to out: inout JSONBuilder) { out.string("status", rawValue) }
}
