import Crypto
import CryptoExtras
import Foundation
import SCARules
import Testing

@testable import SCAAuth

@Suite struct FactorTests {
    @Test func twoFactorsOfOneCategoryAreNotStrong() {
        #expect(isStrong([FactorKind.pin, .totp]))
        #expect(isStrong([FactorKind.pin, .webauthn]))
        #expect(isStrong([FactorKind.deviceKey, .webauthn]))
        #expect(!isStrong([FactorKind.totp, .sms]))
        #expect(!isStrong([FactorKind.totp, .deviceKey, .sms]))
        #expect(!isStrong([FactorKind.pin]))
        #expect(!isStrong([FactorKind]()))
        #expect(FactorKind.sms.category == .possession)
        #expect(FactorKind.webauthn.category == .inherence)
    }
}

@Suite struct KnowledgeHasherTests {
    static let pepper = [UInt8](repeating: 7, count: 32)
    /// Cheap parameters so the tests run fast; production uses `.owasp`.
    static let fast = KnowledgeHasher.Parameters(logN: 10, blockSize: 8, parallelism: 1)

    @Test func theDefaultsAreOWASPsScryptMinimum() {
        #expect(KnowledgeHasher.Parameters.owasp == .init(logN: 17, blockSize: 8, parallelism: 1))
        #expect(KnowledgeHasher.Parameters.owasp.memoryBytes == 128 << 20)
    }

    @Test func aPINVerifiesAndNothingElseDoes() throws {
        let hasher = try KnowledgeHasher(pepper: Self.pepper, parameters: Self.fast)
        let stored = hasher.hash("482913", salt: KnowledgeHasher.makeSalt())
        #expect(stored.hasPrefix("scrypt-hmac-sha256$ln=10,r=8,p=1$"))
        #expect(!stored.contains("482913"))
        #expect(hasher.verify("482913", against: stored))
        #expect(!hasher.verify("482914", against: stored))
        #expect(!hasher.verify("", against: stored))
        #expect(!hasher.needsRehash(stored))
        // The same PIN with another salt gives another hash.
        #expect(hasher.hash("482913", salt: KnowledgeHasher.makeSalt()) != stored)
    }

    @Test func theHashIsKeyedWithThePepper() throws {
        let salt = KnowledgeHasher.makeSalt()
        let stored = try KnowledgeHasher(pepper: Self.pepper, parameters: Self.fast).hash("482913", salt: salt)
        let otherPepper = try KnowledgeHasher(pepper: [UInt8](repeating: 8, count: 32), parameters: Self.fast)
        #expect(!otherPepper.verify("482913", against: stored))
        // Plain scrypt of the PIN (no pepper) is not what is stored.
        let unkeyed = try KDF.Scrypt.deriveKey(
            from: Array("482913".utf8), salt: salt, outputByteCount: 32, rounds: 1 << 10, blockSize: 8, parallelism: 1
        ).withUnsafeBytes { Data($0).base64EncodedString() }
        #expect(!stored.hasSuffix(unkeyed))
    }

    @Test func storedValuesThatDoNotParseNeverMatch() throws {
        let hasher = try KnowledgeHasher(pepper: Self.pepper, parameters: Self.fast)
        let stored = hasher.hash("482913", salt: KnowledgeHasher.makeSalt())
        let parts = stored.split(separator: "$").map(String.init)
        func joined(_ pieces: [String]) -> String { pieces.joined(separator: "$") }
        var bad: [String] = ["", "482913", stored + "$"]
        bad.append(joined(Array(parts.dropLast())))
        bad.append(joined(["bcrypt", parts[1], parts[2], parts[3]]))
        bad.append(joined([parts[0], "ln=30,r=8,p=1", parts[2], parts[3]]))  // a cost bomb
        bad.append(joined([parts[0], "ln=10,r=8", parts[2], parts[3]]))
        bad.append(joined([parts[0], "ln=10,r=8,p=1,ln=11", parts[2], parts[3]]))
        bad.append(joined([parts[0], parts[1], "AAAA", parts[3]]))
        bad.append(joined([parts[0], parts[1], parts[2], String(parts[3].dropLast(4))]))
        for value in bad {
            #expect(!hasher.verify("482913", against: value), "\(value)")
        }
        #expect(hasher.needsRehash(stored.replacingOccurrences(of: "ln=10", with: "ln=11")))
    }

    @Test func weakConfigurationIsRefused() {
        #expect(throws: KnowledgeHasher.Failure.pepperTooShort) { try KnowledgeHasher(pepper: [1, 2, 3]) }
        #expect(throws: KnowledgeHasher.Failure.parametersOutOfBounds) {
            try KnowledgeHasher(pepper: Self.pepper, parameters: .init(logN: 8, blockSize: 8, parallelism: 1))
        }
    }

    @Test func pinsAndPasswordsAreCheckedBeforeHashing() {
        #expect(KnowledgeFormat.pin.check("482913") == nil)
        #expect(KnowledgeFormat.pin.check("123") == .pinLength)
        #expect(KnowledgeFormat.pin.check("1234567890123") == .pinLength)
        #expect(KnowledgeFormat.pin.check("12a4") == .pinDigits)
        #expect(KnowledgeFormat.pin.check("１２３４") != nil)
        for trivial in ["0000", "1234", "4321", "56789", "999999"] {
            #expect(KnowledgeFormat.pin.check(trivial) == .pinTrivial, "\(trivial)")
        }
        #expect(KnowledgeFormat.password.check("correct horse") == nil)
        #expect(KnowledgeFormat.password.check("short") == .passwordLength)
        #expect(KnowledgeFormat.password.check("with\ttab character") == .passwordControl)
    }
}

@Suite struct SecretBoxTests {
    @Test func sealedSecretsOpenOnlyInTheirContextAndUnchanged() throws {
        let box = try SecretBox(masterKey: [UInt8](repeating: 1, count: 32))
        let seed = Array("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP".utf8)
        let sealed = box.seal(seed, context: "totp:u1:f1")
        #expect(sealed.count == 12 + seed.count + 16)
        #expect(sealed.firstRange(of: seed) == nil)  // the seed appears nowhere in clear
        #expect(try box.open(sealed, context: "totp:u1:f1") == seed)
        #expect(box.seal(seed, context: "totp:u1:f1") != sealed)  // a fresh nonce each time
        #expect(throws: SecretBox.Failure.cannotOpen) { try box.open(sealed, context: "totp:u2:f1") }
        var flipped = sealed
        flipped[20] ^= 1
        #expect(throws: SecretBox.Failure.cannotOpen) { try box.open(flipped, context: "totp:u1:f1") }
        #expect(throws: SecretBox.Failure.cannotOpen) { try box.open(Array(sealed.prefix(20)), context: "totp:u1:f1") }
        let other = try SecretBox(masterKey: [UInt8](repeating: 2, count: 32))
        #expect(throws: SecretBox.Failure.cannotOpen) { try other.open(sealed, context: "totp:u1:f1") }
        #expect(throws: SecretBox.Failure.badKeyLength) { try SecretBox(masterKey: [1]) }
    }
}
