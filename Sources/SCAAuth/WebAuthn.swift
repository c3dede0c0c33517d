import Crypto
import CryptoExtras
import Foundation
import SCAAudit
import SCAContract
import SCAPrimitives

/// A credential public key in COSE form (RFC 9052/9053), as an authenticator returns it:
/// ES256 (EC2 on P-256) or RS256 (RSASSA-PKCS1-v1_5 with SHA-256).
public enum COSEKey: Sendable {
    case es256(P256.Signing.PublicKey)
    case rs256(_RSA.Signing.PublicKey)

    /// COSE algorithm identifiers.
    public static let es256Algorithm: Int64 = -7
    public static let rs256Algorithm: Int64 = -257

    /// RS256 moduli accepted: 2048 to 8192 bits (swift-crypto refuses smaller keys too).
    static let rsaModulusBytes = 256...1024

    public var algorithm: Int64 {
        switch self {
        case .es256: Self.es256Algorithm
        case .rs256: Self.rs256Algorithm
        }
    }

    public init(_ item: CBOR) throws(WebAuthnFailure) {
        guard case .map = item, let kty = item[.unsigned(1)]?.integer, let alg = item[.unsigned(3)]?.integer else {
            throw .malformed("credential public key")
        }
        switch (kty, alg) {
        case (2, Self.es256Algorithm):
            guard item[.negative(0)]?.integer == 1,  // crv -1: P-256
                case .bytes(let x) = item[.negative(1)], case .bytes(let y) = item[.negative(2)],
                x.count == 32, y.count == 32,
                let key = try? P256.Signing.PublicKey(x963Representation: [4] + x + y)
            else { throw .malformed("ES256 public key") }
            self = .es256(key)
        case (3, Self.rs256Algorithm):
            guard case .bytes(let n) = item[.negative(0)], case .bytes(let e) = item[.negative(1)],
                Self.rsaModulusBytes.contains(n.count), (1...8).contains(e.count),
                let key = try? _RSA.Signing.PublicKey(n: n, e: e)
            else { throw .malformed("RS256 public key") }
            self = .rs256(key)
        default:
            throw .unsupportedAlgorithm
        }
    }

    /// Whether `signature` signs `message` under this key and its algorithm.
    public func verify(signature: [UInt8], over message: [UInt8]) -> Bool {
        switch self {
        case .es256(let key):
            guard let parsed = try? P256.Signing.ECDSASignature(derRepresentation: signature) else { return false }
            return key.isValidSignature(parsed, for: message)
        case .rs256(let key):
            return key.isValidSignature(_RSA.Signing.RSASignature(rawRepresentation: signature), for: message, padding: .insecurePKCS1v1_5)
        }
    }
}

/// Why a WebAuthn ceremony was refused. The HTTP layer answers every one of them the same
/// way to the client; the kind goes to the audit trail.
public enum WebAuthnFailure: Error, Equatable, Sendable {
    case malformed(String)
    case trailingData
    case wrongType
    case challengeMismatch
    case originMismatch
    case rpIDHashMismatch
    case userNotPresent
    case userNotVerified
    case unsupportedAlgorithm
    case unsupportedAttestation
    case badAttestationSignature
    case credentialIDTooLong
    case badSignature
    case signCountRegression
}

/// The authenticator data structure (WebAuthn §6.1), parsed with every length checked.
public struct AuthenticatorData: Sendable {
    public let rpIDHash: [UInt8]
    public let flags: UInt8
    public let signCount: UInt32
    public let attested: (aaguid: [UInt8], credentialID: [UInt8], publicKey: CBOR, publicKeyBytes: [UInt8])?
    public let extensions: CBOR?

    public var userPresent: Bool { flags & 0x01 != 0 }
    public var userVerified: Bool { flags & 0x04 != 0 }
    public var backupEligible: Bool { flags & 0x08 != 0 }
    public var backedUp: Bool { flags & 0x10 != 0 }

    /// WebAuthn §7.1 step 23 (Level 3): credential ids are at most 1023 bytes.
    public static let credentialIDBytesMax = 1023
    /// rpIdHash (32), flags (1), signCount (4).
    static let fixedPartBytes = 37

    public init(_ bytes: [UInt8]) throws(WebAuthnFailure) {
        guard bytes.count >= Self.fixedPartBytes else { throw .malformed("authenticator data shorter than 37 bytes") }
        rpIDHash = Array(bytes[0..<32])
        flags = bytes[32]
        signCount = bytes[33..<37].reduce(0) { $0 << 8 | UInt32($1) }
        var rest = bytes[37...]
        if flags & 0x40 != 0 {
            guard rest.count >= 18 else { throw .malformed("attested credential data truncated") }
            let aaguid = Array(rest.prefix(16))
            let length = Int(rest[rest.startIndex + 16]) << 8 | Int(rest[rest.startIndex + 17])
            rest = rest.dropFirst(18)
            guard length <= Self.credentialIDBytesMax else { throw .credentialIDTooLong }
            guard rest.count >= length else { throw .malformed("credential id truncated") }
            let credentialID = Array(rest.prefix(length))
            rest = rest.dropFirst(length)
            let key: (item: CBOR, length: Int)
            do { key = try CBOR.decodePrefix(rest) } catch { throw .malformed("credential public key: \(error)") }
            let keyBytes = Array(rest.prefix(key.length))
            rest = rest.dropFirst(key.length)
            attested = (aaguid, credentialID, key.item, keyBytes)
        } else {
            attested = nil
        }
        if flags & 0x80 != 0 {
            let item: (item: CBOR, length: Int)
            do { item = try CBOR.decodePrefix(rest) } catch { throw .malformed("extensions: \(error)") }
            rest = rest.dropFirst(item.length)
            extensions = item.item
        } else {
            extensions = nil
        }
        guard rest.isEmpty else { throw .trailingData }
    }
}

/// The relying party's side of WebAuthn: registration (§7.1) and authentication (§7.2),
/// verified in the order the specification numbers its steps. User verification is what
/// makes a passkey an inherence element, so callers ask for it; user presence alone is
/// never enough.
public struct WebAuthnRelyingParty: Sendable {
    /// The RP ID: a registrable domain, e.g. "localhost" or "bank.example".
    public let id: String
    /// The exact origins pages may run on ("https://bank.example", "http://localhost:8080").
    public let origins: Set<String>

    /// Client data larger than this is refused unparsed (browsers send a few hundred bytes).
    public static let clientDataBytesMax = 8192

    public init(id: String, origins: Set<String>) {
        self.id = id
        self.origins = origins
    }

    /// A registered credential, as the engine stores it.
    public struct Credential: Sendable {
        public let id: [UInt8]
        public let publicKey: CBOR
        /// The COSE key as the authenticator encoded it, for storage (decoded again with
        /// `CBOR.decode` when the credential is loaded).
        public let publicKeyBytes: [UInt8]
        public let signCount: UInt32
        public let userVerified: Bool
        public let backupEligible: Bool
        public let attestationFormat: String

        public init(
            id: [UInt8], publicKey: CBOR, publicKeyBytes: [UInt8] = [], signCount: UInt32, userVerified: Bool = true,
            backupEligible: Bool = false, attestationFormat: String = "none"
        ) {
            self.id = id
            self.publicKey = publicKey
            self.publicKeyBytes = publicKeyBytes
            self.signCount = signCount
            self.userVerified = userVerified
            self.backupEligible = backupEligible
            self.attestationFormat = attestationFormat
        }
    }

    /// §7.1: checks a new credential against the challenge the engine issued, and returns it.
    public func register(
        clientDataJSON: [UInt8], attestationObject: [UInt8], challenge: [UInt8], requireUserVerification: Bool = true
    ) throws(WebAuthnFailure) -> Credential {
        // Steps 5-10: the client data.
        try checkClientData(clientDataJSON, type: "webauthn.create", challenge: challenge)
        // Step 11: its hash.
        let clientDataHash = Array(SHA256.hash(data: clientDataJSON))
        // Step 12: the attestation object: fmt, authData, attStmt.
        let object: CBOR
        do { object = try CBOR.decode(attestationObject) } catch CBOR.Failure.trailingBytes { throw .trailingData } catch {
            throw .malformed("attestation object: \(error)")
        }
        guard case .text(let format) = object[.text("fmt")], case .bytes(let authDataBytes) = object[.text("authData")],
            case .map = object[.text("attStmt")], let statement = object[.text("attStmt")]
        else { throw .malformed("attestation object fields") }
        let authData = try AuthenticatorData(authDataBytes)
        // Steps 13-15: RP ID hash, user present, user verified.
        try checkFlags(authData, requireUserVerification: requireUserVerification)
        guard let attested = authData.attested else { throw .malformed("no attested credential data") }
        // Step 17: an algorithm the engine accepts (ES256, RS256).
        let key = try COSEKey(attested.publicKey)
        // Steps 19-21: the attestation statement, for the formats accepted.
        switch format {
        case "none":
            guard statement == .map([]) else { throw .malformed("a none attestation has an empty statement") }
        case "packed":
            guard case .map(let pairs) = statement, let alg = statement[.text("alg")]?.integer,
                case .bytes(let signature) = statement[.text("sig")]
            else { throw .malformed("packed attestation statement") }
            // Only self attestation: no certificate chain, signed by the credential's own key.
            guard pairs.count == 2 else { throw .unsupportedAttestation }
            guard alg == key.algorithm else { throw .badAttestationSignature }
            guard key.verify(signature: signature, over: authDataBytes + clientDataHash) else { throw .badAttestationSignature }
        default:
            throw .unsupportedAttestation
        }
        return Credential(
            id: attested.credentialID, publicKey: attested.publicKey, publicKeyBytes: attested.publicKeyBytes,
            signCount: authData.signCount,
            userVerified: authData.userVerified, backupEligible: authData.backupEligible, attestationFormat: format
        )
    }

    /// §7.2: checks an assertion of a registered credential and returns its new signature
    /// counter (to be stored).
    public func authenticate(
        credential: Credential, clientDataJSON: [UInt8], authenticatorData: [UInt8], signature: [UInt8],
        challenge: [UInt8], requireUserVerification: Bool = true
    ) throws(WebAuthnFailure) -> UInt32 {
        let signCount = try verifyAssertion(
            publicKey: credential.publicKey, clientDataJSON: clientDataJSON, authenticatorData: authenticatorData,
            signature: signature, challenge: challenge, requireUserVerification: requireUserVerification
        )
        try Self.checkSignCount(signCount, stored: credential.signCount)
        return signCount
    }

    /// Steps 10-21 of an assertion (everything but the counter), the CPU-heavy part: it can
    /// run before the writer's transaction, which then checks the counter alone against the
    /// stored one (`checkSignCount`). Returns the authenticator's signature counter.
    public func verifyAssertion(
        publicKey: CBOR, clientDataJSON: [UInt8], authenticatorData: [UInt8], signature: [UInt8],
        challenge: [UInt8], requireUserVerification: Bool = true
    ) throws(WebAuthnFailure) -> UInt32 {
        // Steps 10-15: the client data.
        try checkClientData(clientDataJSON, type: "webauthn.get", challenge: challenge)
        // Steps 16-18: RP ID hash, user present, user verified.
        let authData = try AuthenticatorData(authenticatorData)
        try checkFlags(authData, requireUserVerification: requireUserVerification)
        // Steps 20-21: the signature over authenticatorData ‖ SHA-256(clientDataJSON).
        let key = try COSEKey(publicKey)
        let clientDataHash = Array(SHA256.hash(data: clientDataJSON))
        guard key.verify(signature: signature, over: authenticatorData + clientDataHash) else { throw .badSignature }
        return authData.signCount
    }

    /// Step 22: the signature counter must move forward, unless the authenticator keeps
    /// none (both zero: synced passkeys); a step back suggests a cloned authenticator.
    public static func checkSignCount(_ signCount: UInt32, stored: UInt32) throws(WebAuthnFailure) {
        if signCount != 0 || stored != 0, signCount <= stored { throw .signCountRegression }
    }

    private func checkClientData(_ json: [UInt8], type: String, challenge: [UInt8]) throws(WebAuthnFailure) {
        guard json.count <= Self.clientDataBytesMax else { throw .malformed("client data longer than 8 KiB") }
        // The engine's own strict parser (duplicate members, bad UTF-8 and trailing bytes
        // are refused); members other than these four are ignored, as the spec asks.
        guard case .object(let data)? = try? JSONParser.parse(json),
            case .string(let actualType)? = data["type"], case .string(let actualChallenge)? = data["challenge"],
            case .string(let origin)? = data["origin"]
        else { throw .malformed("client data JSON") }
        let crossOrigin: Bool
        switch data["crossOrigin"] {
        case nil, .null?: crossOrigin = false
        case .bool(let flag)?: crossOrigin = flag
        default: throw .malformed("client data JSON")
        }
        guard actualType == type else { throw .wrongType }
        guard let given = Base64URL.decode(actualChallenge), constantTimeEqual(given, challenge) else { throw .challengeMismatch }
        guard origins.contains(origin), !crossOrigin else { throw .originMismatch }
    }

    private func checkFlags(_ authData: AuthenticatorData, requireUserVerification: Bool) throws(WebAuthnFailure) {
        guard constantTimeEqual(authData.rpIDHash, Array(SHA256.hash(data: Array(id.utf8)))) else { throw .rpIDHashMismatch }
        guard authData.userPresent else { throw .userNotPresent }
        if requireUserVerification, !authData.userVerified { throw .userNotVerified }
    }
}
