import Crypto
import Foundation

/// A P-256 key pair made on the customer's registered device (in its secure hardware where
/// there is one). The engine keeps the public key; the app proves possession by signing
/// the challenge (SHA-256 with ECDSA).
public struct DeviceKey: Sendable {
    public let publicKey: P256.Signing.PublicKey

    public enum Failure: Error, Equatable {
        case notAP256Key
    }

    /// From the key's uncompressed point (65 bytes, `04 ‖ X ‖ Y`) or its DER
    /// SubjectPublicKeyInfo.
    public init(encoded bytes: [UInt8]) throws(Failure) {
        if let key = try? P256.Signing.PublicKey(x963Representation: bytes) {
            publicKey = key
        } else if let key = try? P256.Signing.PublicKey(derRepresentation: bytes) {
            publicKey = key
        } else {
            throw .notAP256Key
        }
    }

    /// The uncompressed point, as stored.
    public var encoded: [UInt8] { Array(publicKey.x963Representation) }

    /// Whether `signature` (DER, or the 64-byte raw r ‖ s) signs `message`.
    public func verify(signature: [UInt8], over message: [UInt8]) -> Bool {
        if let der = try? P256.Signing.ECDSASignature(derRepresentation: signature) {
            return publicKey.isValidSignature(der, for: message)
        }
        if signature.count == 64, let raw = try? P256.Signing.ECDSASignature(rawRepresentation: signature) {
            return publicKey.isValidSignature(raw, for: message)
        }
        return false
    }
}
