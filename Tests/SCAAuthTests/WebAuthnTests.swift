import Crypto
import CryptoExtras
import Foundation
import SCAPrimitives
import Testing

@testable import SCAAuth

/// A minimal CBOR writer for building authenticator output in tests.
enum CBORWriter {
    static func head(_ major: UInt8, _ value: UInt64) -> [UInt8] {
        switch value {
        case 0..<24: return [major << 5 | UInt8(value)]
        case 24..<256: return [major << 5 | 24, UInt8(value)]
        case 256..<65536: return [major << 5 | 25, UInt8(value >> 8), UInt8(value & 0xFF)]
        default: return [major << 5 | 26] + (0..<4).reversed().map { UInt8(value >> (8 * UInt64($0)) & 0xFF) }
        }
    }

    static func encode(_ item: CBOR) -> [UInt8] {
        switch item {
        case .unsigned(let value): return head(0, value)
        case .negative(let value): return head(1, value)
        case .bytes(let bytes): return head(2, UInt64(bytes.count)) + bytes
        case .text(let text): return head(3, UInt64(text.utf8.count)) + Array(text.utf8)
        case .array(let items): return head(4, UInt64(items.count)) + items.flatMap(encode)
        case .map(let pairs): return head(5, UInt64(pairs.count)) + pairs.flatMap { encode($0.key) + encode($0.value) }
        case .bool(let flag): return [flag ? 0xF5 : 0xF4]
        case .null: return [0xF6]
        }
    }

    static func int(_ value: Int64) -> CBOR { value >= 0 ? .unsigned(UInt64(value)) : .negative(UInt64(-1 - value)) }
    static func map(_ pairs: [(CBOR, CBOR)]) -> CBOR { .map(pairs.map { CBORPair(key: $0.0, value: $0.1) }) }
}

/// A software authenticator: what a browser and a platform authenticator would return.
struct SoftAuthenticator {
    enum Key {
        case p256(P256.Signing.PrivateKey)
        case rsa(_RSA.Signing.PrivateKey)
    }

    let key: Key
    let credentialID: [UInt8] = Array((0..<32).map { UInt8($0) })
    var rpID = "localhost"
    var origin = "http://localhost:8080"

    var coseKey: CBOR {
        switch key {
        case .p256(let key):
            let point = Array(key.publicKey.x963Representation)
            return CBORWriter.map([
                (.unsigned(1), .unsigned(2)), (.unsigned(3), CBORWriter.int(-7)), (CBORWriter.int(-1), .unsigned(1)),
                (CBORWriter.int(-2), .bytes(Array(point[1..<33]))), (CBORWriter.int(-3), .bytes(Array(point[33..<65]))),
            ])
        case .rsa(let key):
            let primitives = try! key.publicKey.getKeyPrimitives()
            return CBORWriter.map([
                (.unsigned(1), .unsigned(3)), (.unsigned(3), CBORWriter.int(-257)),
                (CBORWriter.int(-1), .bytes(Array(primitives.modulus))), (CBORWriter.int(-2), .bytes(Array(primitives.publicExponent))),
            ])
        }
    }

    func sign(_ message: [UInt8]) -> [UInt8] {
        switch key {
        case .p256(let key): return Array(try! key.signature(for: message).derRepresentation)
        case .rsa(let key): return Array(try! key.signature(for: message, padding: .insecurePKCS1v1_5).rawRepresentation)
        }
    }

    func clientData(type: String, challenge: [UInt8], origin: String? = nil, extra: String = "") -> [UInt8] {
        Array(#"{"type":"\#(type)","challenge":"\#(Base64URL.encode(challenge))","origin":"\#(origin ?? self.origin)"\#(extra)}"#.utf8)
    }

    func authData(flags: UInt8, signCount: UInt32, attested: Bool, rpID: String? = nil) -> [UInt8] {
        var out = Array(SHA256.hash(data: Array((rpID ?? self.rpID).utf8)))
        out.append(attested ? flags | 0x40 : flags)
        out += [UInt8(signCount >> 24), UInt8(signCount >> 16 & 0xFF), UInt8(signCount >> 8 & 0xFF), UInt8(signCount & 0xFF)]
        if attested {
            out += [UInt8](repeating: 0, count: 16)
            out += [UInt8(credentialID.count >> 8), UInt8(credentialID.count & 0xFF)] + credentialID
            out += CBORWriter.encode(coseKey)
        }
        return out
    }

    /// (clientDataJSON, attestationObject) for a registration.
    func register(challenge: [UInt8], format: String = "none", flags: UInt8 = 0x05, statement: CBOR? = nil) -> ([UInt8], [UInt8]) {
        let clientData = clientData(type: "webauthn.create", challenge: challenge)
        let authData = authData(flags: flags, signCount: 0, attested: true)
        var attStmt = statement ?? CBORWriter.map([])
        if format == "packed", statement == nil {
            let alg: Int64 = if case .rsa = key { -257 } else { -7 }
            let sig = sign(authData + Array(SHA256.hash(data: clientData)))
            attStmt = CBORWriter.map([(.text("alg"), CBORWriter.int(alg)), (.text("sig"), .bytes(sig))])
        }
        let object = CBORWriter.map([(.text("fmt"), .text(format)), (.text("attStmt"), attStmt), (.text("authData"), .bytes(authData))])
        return (clientData, CBORWriter.encode(object))
    }

    /// (clientDataJSON, authenticatorData, signature) for an assertion.
    func assert(challenge: [UInt8], flags: UInt8 = 0x05, signCount: UInt32 = 1) -> ([UInt8], [UInt8], [UInt8]) {
        let clientData = clientData(type: "webauthn.get", challenge: challenge)
        let authData = authData(flags: flags, signCount: signCount, attested: false)
        return (clientData, authData, sign(authData + Array(SHA256.hash(data: clientData))))
    }
}

@Suite struct WebAuthnTests {
    let rp = WebAuthnRelyingParty(id: "localhost", origins: ["http://localhost:8080"])
    let challenge = Array("a random challenge of 32 bytes..".utf8)
    static let rsaKey = try! _RSA.Signing.PrivateKey(keySize: .bits2048)

    @Test(arguments: ["none", "packed"])
    func es256RegistrationAndAssertion(format: String) throws {
        let device = SoftAuthenticator(key: .p256(P256.Signing.PrivateKey()))
        let (clientData, attestation) = device.register(challenge: challenge, format: format)
        let credential = try rp.register(clientDataJSON: clientData, attestationObject: attestation, challenge: challenge)
        #expect(credential.id == device.credentialID)
        #expect(credential.attestationFormat == format)
        #expect(credential.userVerified)
        let (assertData, authData, signature) = device.assert(challenge: challenge, signCount: 1)
        let count = try rp.authenticate(
            credential: credential, clientDataJSON: assertData, authenticatorData: authData, signature: signature, challenge: challenge
        )
        #expect(count == 1)
    }

    @Test func rs256PackedSelfAttestationAndAssertion() throws {
        let device = SoftAuthenticator(key: .rsa(Self.rsaKey))
        let (clientData, attestation) = device.register(challenge: challenge, format: "packed")
        let credential = try rp.register(clientDataJSON: clientData, attestationObject: attestation, challenge: challenge)
        let (assertData, authData, signature) = device.assert(challenge: challenge, signCount: 0)
        // Both counters zero: an authenticator without a counter (synced passkeys) is fine.
        #expect(
            try rp.authenticate(
                credential: credential, clientDataJSON: assertData, authenticatorData: authData, signature: signature, challenge: challenge
            ) == 0)
    }

    @Test func eachRegistrationCheckRejectsItsBadInput() throws {
        let device = SoftAuthenticator(key: .p256(P256.Signing.PrivateKey()))
        func refusal(_ clientData: [UInt8], _ attestation: [UInt8], requireUV: Bool = true) -> WebAuthnFailure? {
            do {
                _ = try rp.register(
                    clientDataJSON: clientData, attestationObject: attestation, challenge: challenge, requireUserVerification: requireUV)
                return nil
            } catch { return error }
        }
        let (goodData, goodObject) = device.register(challenge: challenge)
        #expect(refusal(goodData, goodObject) == nil)
        #expect(refusal(device.clientData(type: "webauthn.get", challenge: challenge), goodObject) == .wrongType)
        #expect(refusal(device.clientData(type: "webauthn.create", challenge: challenge + [0]), goodObject) == .challengeMismatch)
        #expect(
            refusal(device.clientData(type: "webauthn.create", challenge: challenge, origin: "http://evil.example"), goodObject)
                == .originMismatch)
        #expect(
            refusal(device.clientData(type: "webauthn.create", challenge: challenge, extra: #","crossOrigin":true"#), goodObject)
                == .originMismatch)
        #expect(refusal(Array("{".utf8), goodObject) == .malformed("client data JSON"))
        var otherRP = device
        otherRP.rpID = "evil.example"
        #expect(refusal(goodData, otherRP.register(challenge: challenge).1) == .rpIDHashMismatch)
        #expect(refusal(goodData, device.register(challenge: challenge, flags: 0x01).1) == .userNotVerified)
        #expect(refusal(goodData, device.register(challenge: challenge, flags: 0x01).1, requireUV: false) == nil)
        #expect(refusal(goodData, device.register(challenge: challenge, flags: 0x04).1) == .userNotPresent)
        #expect(refusal(goodData, goodObject + [0]) == .trailingData)
        #expect(refusal(goodData, Array(goodObject.dropLast(3))) != nil)
        #expect(refusal(goodData, device.register(challenge: challenge, format: "fido-u2f").1) == .unsupportedAttestation)
        let withChain = CBORWriter.map([
            (.text("alg"), CBORWriter.int(-7)), (.text("sig"), .bytes([1])), (.text("x5c"), .array([.bytes([1, 2])])),
        ])
        #expect(
            refusal(goodData, device.register(challenge: challenge, format: "packed", statement: withChain).1) == .unsupportedAttestation)
        let wrongAlg = CBORWriter.map([(.text("alg"), CBORWriter.int(-257)), (.text("sig"), .bytes([1]))])
        #expect(
            refusal(goodData, device.register(challenge: challenge, format: "packed", statement: wrongAlg).1) == .badAttestationSignature)
        let badSig = CBORWriter.map([(.text("alg"), CBORWriter.int(-7)), (.text("sig"), .bytes(device.sign([1])))])
        #expect(refusal(goodData, device.register(challenge: challenge, format: "packed", statement: badSig).1) == .badAttestationSignature)
    }

    @Test func eachAssertionCheckRejectsItsBadInput() throws {
        let device = SoftAuthenticator(key: .p256(P256.Signing.PrivateKey()))
        let (registerData, attestation) = device.register(challenge: challenge)
        let stored = try rp.register(clientDataJSON: registerData, attestationObject: attestation, challenge: challenge)
        let counted = WebAuthnRelyingParty.Credential(id: stored.id, publicKey: stored.publicKey, signCount: 5)
        func refusal(_ parts: ([UInt8], [UInt8], [UInt8]), credential: WebAuthnRelyingParty.Credential? = nil, requireUV: Bool = true)
            -> WebAuthnFailure?
        {
            do {
                _ = try rp.authenticate(
                    credential: credential ?? stored, clientDataJSON: parts.0, authenticatorData: parts.1, signature: parts.2,
                    challenge: challenge, requireUserVerification: requireUV
                )
                return nil
            } catch { return error }
        }
        let good = device.assert(challenge: challenge, signCount: 6)
        #expect(refusal(good) == nil)
        #expect(refusal(good, credential: counted) == nil)
        #expect(refusal(device.assert(challenge: challenge, signCount: 5), credential: counted) == .signCountRegression)
        #expect(refusal(device.assert(challenge: challenge, signCount: 0), credential: counted) == .signCountRegression)
        #expect(refusal(device.assert(challenge: challenge + [1])) == .challengeMismatch)
        #expect(refusal((device.clientData(type: "webauthn.create", challenge: challenge), good.1, good.2)) == .wrongType)
        let evil = device.clientData(type: "webauthn.get", challenge: challenge, origin: "https://localhost:8080")
        #expect(refusal((evil, good.1, device.sign(good.1 + Array(SHA256.hash(data: evil))))) == .originMismatch)
        #expect(refusal(device.assert(challenge: challenge, flags: 0x01)) == .userNotVerified)
        #expect(refusal(device.assert(challenge: challenge, flags: 0x01), requireUV: false) == nil)
        #expect(refusal(device.assert(challenge: challenge, flags: 0x04)) == .userNotPresent)
        var otherRP = device
        otherRP.rpID = "localhost.evil"
        let foreign = otherRP.authData(flags: 0x05, signCount: 7, attested: false)
        #expect(refusal((good.0, foreign, device.sign(foreign + Array(SHA256.hash(data: good.0))))) == .rpIDHashMismatch)
        var tampered = good.2
        tampered[tampered.count - 1] ^= 1
        #expect(refusal((good.0, good.1, tampered)) == .badSignature)
        // The signature covers the authenticator data: a raised counter without re-signing fails.
        var raised = good.1
        raised[36] &+= 1
        #expect(refusal((good.0, raised, good.2)) == .badSignature)
        #expect(refusal((good.0, Array(good.1.prefix(36)), good.2)) == .malformed("authenticator data shorter than 37 bytes"))
        let trailing = good.1 + [0]
        #expect(refusal((good.0, trailing, device.sign(trailing + Array(SHA256.hash(data: good.0))))) == .trailingData)
        let other = SoftAuthenticator(key: .p256(P256.Signing.PrivateKey())).assert(challenge: challenge, signCount: 9)
        #expect(refusal(other) == .badSignature)
    }

    @Test func credentialIDsLongerThan1023BytesAreRefused() {
        var data = Array(SHA256.hash(data: Array("localhost".utf8))) + [0x45, 0, 0, 0, 0] + [UInt8](repeating: 0, count: 16)
        data += [0x04, 0x00] + [UInt8](repeating: 1, count: 1024)
        #expect(throws: WebAuthnFailure.credentialIDTooLong) { try AuthenticatorData(data) }
    }

    @Test func base64URLRoundTripsAndRefusesOtherAlphabets() {
        for length in 0..<40 {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 * 37 + 250) }
            #expect(Base64URL.decode(Base64URL.encode(bytes)) == bytes)
        }
        #expect(Base64URL.decode("a+b/") == nil)
        #expect(Base64URL.decode("YQ==") == nil)
        #expect(Base64URL.decode("Y") == nil)
        #expect(Base64URL.decode("YR") == nil)  // left-over bits that are not zero
        #expect(Base64URL.decode("YQ") == [0x61])
    }
}

@Suite struct CBORTests {
    @Test func decodesWhatWebAuthnUses() throws {
        let item = CBORWriter.map([
            (.text("fmt"), .text("none")), (.unsigned(1), .negative(6)), (.text("list"), .array([.bool(true), .null, .bytes([1, 2])])),
            (.unsigned(500), .unsigned(70_000)),
        ])
        #expect(try CBOR.decode(CBORWriter.encode(item)) == item)
        #expect(try CBOR.decode([0x20]).integer == -1)
        #expect(try CBOR.decode([0x1B, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]).integer == Int64.max)
        #expect(try CBOR.decode([0x1B, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]).integer == nil)
    }

    @Test func refusesLiesAndEverythingOutsideTheSubset() {
        let cases: [([UInt8], CBOR.Failure)] = [
            ([], .truncated),
            ([0x42, 0x01], .truncated),  // two bytes announced, one given
            ([0x5B, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF], .truncated),  // 2^64-1 bytes announced
            ([0x9A, 0x00, 0x10, 0x00, 0x00, 0x01], .truncated),  // a million elements announced
            ([0xBA, 0x00, 0x10, 0x00, 0x00, 0x01, 0x01], .truncated),
            ([0x5F, 0x41, 0x01, 0xFF], .unsupported("indefinite length")),
            ([0xC2, 0x41, 0x01], .unsupported("tag")),
            ([0xF9, 0x3C, 0x00], .unsupported("simple value or float 25")),
            ([0x1C], .unsupported("reserved additional information 28")),
            ([0x62, 0xC3, 0x28], .invalidText),
            ([0xA2, 0x01, 0x02, 0x01, 0x03], .duplicateKey),
            ([0x01, 0x02], .trailingBytes),
            ([UInt8](repeating: 0x81, count: 40) + [0x01], .tooDeep),
        ]
        for (bytes, failure) in cases {
            #expect(throws: failure, "\(bytes.prefix(8))") { try CBOR.decode(bytes) }
        }
    }
}
