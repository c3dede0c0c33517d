import Foundation
import SCAAudit
import SCAAuth
import SCAContract
import SCAPrimitives
import SCARules
import SCAStore
import SQLKit

/// A factor enrolment as the API receives it (docs/AUTH-API.md, "Factor bodies").
public struct FactorRequest: Sendable {
    public var kind: FactorKind
    public var label: String
    public var pin: String?
    public var publicKey: String?
    public var phone: String?
    public var channel: String?
    public var clientDataJSON: String?
    public var attestationObject: String?

    public init(
        kind: FactorKind, label: String, pin: String? = nil, publicKey: String? = nil, phone: String? = nil,
        channel: String? = nil, clientDataJSON: String? = nil, attestationObject: String? = nil
    ) {
        self.kind = kind
        self.label = label
        self.pin = pin
        self.publicKey = publicKey
        self.phone = phone
        self.channel = channel
        self.clientDataJSON = clientDataJSON
        self.attestationObject = attestationObject
    }

    /// Reads a request body; refuses unknown kinds and fields of the wrong type.
    public init(json object: JSONObject) throws {
        func text(_ name: String) throws -> String? {
            switch object[name] {
            case nil, .null?: return nil
            case .string(let value)?: return value
            default: throw GateRefusal(.invalid, "\(name): must be a string")
            }
        }
        guard let kindName = try text("kind") else { throw GateRefusal(.invalid, "kind: required (pin, totp, device_key, sms, webauthn)") }
        guard let kind = FactorKind(rawValue: kindName) else {
            throw GateRefusal(.invalid, "kind: one of \(FactorKind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        self.init(
            kind: kind, label: try text("label") ?? Self.defaultLabel(kind), pin: try text("pin"),
            publicKey: try text("public_key"), phone: try text("phone"), channel: try text("channel"),
            clientDataJSON: try text("client_data_json"), attestationObject: try text("attestation_object")
        )
    }

    static func defaultLabel(_ kind: FactorKind) -> String {
        switch kind {
        case .pin: "PIN"
        case .totp: "Authenticator"
        case .deviceKey: "Device"
        case .sms: "Phone"
        case .webauthn: "Passkey"
        }
    }
}

/// A verified enrolment, ready to be stored (inside the protected call's transaction).
public struct FactorDraft: Sendable {
    let id: String
    let kind: FactorKind
    let label: String
    let secret: String
    let hint: String?
    let credentialID: String?
    let signCount: Int64
    /// Shown once in the answer: the TOTP seed and its provisioning URI.
    let onceOnly: [(String, String)]

    /// Inserts the factor; returns its public view with the once-only fields.
    nonisolated(nonsending) func insert(into scope: TransactionScope, userID: String, policy: AttemptPolicy) async throws -> String {
        if let credentialID {
            guard try await !AuthRepository.credentialRegistered(credentialID, scope: scope) else {
                throw GateRefusal(.conflict, "this passkey is already registered")
            }
        }
        try await AuthRepository.insertFactor(self, userID: userID, scope: scope)
        var payload = JSONBuilder()
        payload.string("user_id", userID)
        payload.string("factor_id", id)
        payload.string("kind", kind.rawValue)
        scope.audit("factor_enrolled", payload: payload.json)
        guard let record = try await AuthRepository.factor(id, scope: scope) else { throw StorageError.corrupt("factor vanished") }
        var view = record.summary(at: scope.now, policy: policy)
        view.onceOnly = onceOnly
        return view.json
    }
}

extension AuthService {
    public static let phoneDigits = 8...15
    public static let smsChannels = ["sms", "whatsapp", "voice"]

    /// Checks an enrolment and prepares what is stored: the PIN hashed (on the PIN pool),
    /// the TOTP seed made and sealed, the device key parsed, the phone number sealed, the
    /// passkey's attestation verified against a challenge this server issued to this user.
    public func prepareFactor(userID: String?, _ request: FactorRequest) async throws -> FactorDraft {
        try Self.checkText(request.label, field: "label", max: Self.labelCharactersMax)
        let id = Secrets.identifier("fac")
        switch request.kind {
        case .pin:
            guard let pin = request.pin else { throw GateRefusal(.invalid, "pin: required") }
            if let problem = KnowledgeFormat.pin.check(pin) { throw GateRefusal(.invalid, "pin: \(problem.rawValue)") }
            let hasher = self.hasher
            let salt = KnowledgeHasher.makeSalt()
            guard let hash = await pins.run({ hasher.hash(pin, salt: salt) }) else {
                throw GateRefusal(.busy, "too many PIN operations in progress; try again")
            }
            return FactorDraft(
                id: id, kind: .pin, label: request.label, secret: hash, hint: nil, credentialID: nil, signCount: 0, onceOnly: [])
        case .totp:
            let seed = TOTPVerifier.makeSeed()
            let sealed = Base64URL.encode(box.seal(Array(seed.utf8), context: "totp:" + id))
            let uri = totp.provisioningURI(seed: seed, account: userID ?? "customer", issuer: "SCA demo bank")
            // What an authenticator app is given: the URI's base32 secret (the HMAC key the
            // verifier uses, which is the seed's ASCII bytes).
            let appSecret = URLComponents(string: uri)?.queryItems?.first { $0.name == "secret" }?.value ?? ""
            return FactorDraft(
                id: id, kind: .totp, label: request.label, secret: sealed, hint: nil, credentialID: nil, signCount: 0,
                onceOnly: [("secret", appSecret), ("provisioning_uri", uri)]
            )
        case .deviceKey:
            guard let key = request.publicKey.flatMap(Base64URL.decode).flatMap({ try? DeviceKey(encoded: $0) }) else {
                throw GateRefusal(.invalid, "public_key: a P-256 public key, base64url (X9.63 or DER)")
            }
            return FactorDraft(
                id: id, kind: .deviceKey, label: request.label, secret: Base64URL.encode(key.encoded), hint: nil,
                credentialID: nil, signCount: 0, onceOnly: []
            )
        case .sms:
            guard let phone = request.phone, phone.hasPrefix("+"), Self.phoneDigits.contains(phone.utf8.count - 1),
                phone.utf8.dropFirst().allSatisfy({ $0 >= 48 && $0 <= 57 })
            else { throw GateRefusal(.invalid, "phone: E.164, e.g. +48600100200") }
            let channel = request.channel ?? "sms"
            guard Self.smsChannels.contains(channel) else { throw GateRefusal(.invalid, "channel: sms, whatsapp or voice") }
            let sealed = Base64URL.encode(box.seal(Array((channel + " " + phone).utf8), context: "phone:" + id))
            return FactorDraft(
                id: id, kind: .sms, label: request.label, secret: sealed, hint: Self.phoneHint(phone), credentialID: nil,
                signCount: 0, onceOnly: []
            )
        case .webauthn:
            guard let userID else { throw GateRefusal(.invalid, "a passkey is added after registration") }
            guard let clientData = request.clientDataJSON.flatMap(Base64URL.decode),
                let attestation = request.attestationObject.flatMap(Base64URL.decode)
            else { throw GateRefusal(.invalid, "client_data_json and attestation_object: required, base64url") }
            guard let challenge = Self.challenge(inClientData: clientData), registrationChallengeIsValid(challenge, userID: userID)
            else { throw GateRefusal(.invalid, "the registration challenge is unknown, expired or for another user") }
            let credential: WebAuthnRelyingParty.Credential
            do {
                credential = try settings.relyingParty.register(
                    clientDataJSON: clientData, attestationObject: attestation, challenge: challenge
                )
            } catch {
                throw GateRefusal(.invalid, "the passkey registration was not accepted: \(error)")
            }
            return FactorDraft(
                id: id, kind: .webauthn, label: request.label, secret: Base64URL.encode(credential.publicKeyBytes), hint: nil,
                credentialID: Base64URL.encode(credential.id), signCount: Int64(credential.signCount), onceOnly: []
            )
        }
    }

    /// "+48•••••200": the country code and the last three digits.
    static func phoneHint(_ phone: String) -> String {
        let digits = Array(phone.dropFirst())
        let shown = digits.count > 5 ? 2 : 0
        return "+" + String(digits.prefix(shown)) + String(repeating: "•", count: max(0, digits.count - shown - 3))
            + String(digits.suffix(3))
    }

    static func challenge(inClientData bytes: [UInt8]) -> [UInt8]? {
        guard bytes.count <= WebAuthnRelyingParty.clientDataBytesMax,
            case .object(let object)? = try? JSONParser.parse(bytes), case .string(let text)? = object["challenge"]
        else { return nil }
        return Base64URL.decode(text)
    }

    // MARK: Passkey registration challenges
    //
    // Stateless: the expiry (milliseconds, big-endian), random bytes, and a truncated HMAC
    // (under a key derived from the pepper) over the user, the expiry and the random part.
    // The credential id is unique in storage, so one attestation cannot be registered twice.

    static let registrationExpiryBytes = 8
    static let registrationRandomBytes = 16
    static let registrationMACBytes = 16
    static var registrationBodyBytes: Int { registrationExpiryBytes + registrationRandomBytes }

    func registrationMAC(userID: String, body: [UInt8]) -> [UInt8] {
        let key = Secrets.hmac(key: pepper, Array("webauthn-registration".utf8))
        return Array(Secrets.hmac(key: key, Array(userID.utf8) + [0] + body).prefix(Self.registrationMACBytes))
    }

    public func registrationOptions(userID: String) async throws -> PasskeyCreationOptions {
        guard let user = try await AuthRepository.user(userID, database: database) else { throw GateRefusal(.notFound, "user not found") }
        let expiry = (store.clock.now() + settings.challengeLifetime).millisecondsSinceEpoch
        let expiryBytes = (0..<Self.registrationExpiryBytes).map { UInt8(truncatingIfNeeded: UInt64(expiry) >> (56 - 8 * $0)) }
        let body = expiryBytes + Secrets.randomBytes(Self.registrationRandomBytes)
        let challenge = body + registrationMAC(userID: userID, body: body)
        let existing = try await factorRecords(userID: userID).filter { $0.kind == .webauthn && $0.isActive }.compactMap(\.credentialID)
        return PasskeyCreationOptions(
            challenge: challenge, relyingPartyID: settings.relyingParty.id, userHandle: Array(userID.utf8), username: user.username,
            displayName: user.name, excludeCredentials: existing, timeoutMilliseconds: settings.challengeLifetime.milliseconds)
    }

    func registrationChallengeIsValid(_ challenge: [UInt8], userID: String) -> Bool {
        guard challenge.count == Self.registrationBodyBytes + Self.registrationMACBytes else { return false }
        let body = Array(challenge.prefix(Self.registrationBodyBytes))
        guard constantTimeEqual(Array(challenge.dropFirst(Self.registrationBodyBytes)), registrationMAC(userID: userID, body: body))
        else { return false }
        let expiry = body.prefix(Self.registrationExpiryBytes).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        return Int64(clamping: expiry) > store.clock.now().millisecondsSinceEpoch
    }
}

extension AuthService {
    /// Stores a prepared factor (the effect of an enrolment call).
    public nonisolated(nonsending) func insertFactor(_ draft: FactorDraft, userID: String, scope: TransactionScope) async throws -> String {
        try await draft.insert(into: scope, userID: userID, policy: settings.attemptPolicy)
    }

    /// Active factors, counted inside a transaction.
    public nonisolated(nonsending) func activeFactorCount(userID: String, scope: TransactionScope) async throws -> Int {
        try await AuthRepository.activeFactorCount(userID: userID, scope: scope)
    }

    public static func checkPayeeName(_ name: String) throws {
        try checkText(name, field: "name", max: PaymentLink.payeeFieldCharactersMax)
    }
}
