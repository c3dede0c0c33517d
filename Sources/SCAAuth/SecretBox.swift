import Crypto

/// Seals factor secrets (TOTP seeds) at rest with AES-256-GCM under the master key from
/// the configuration. The context (e.g. "totp:<user>:<factor>") is authenticated as
/// associated data, so a sealed secret copied into another user's row does not open.
public struct SecretBox: Sendable {
    private let key: SymmetricKey

    public enum Failure: Error, Equatable {
        /// The master key is not 32 bytes.
        case badKeyLength
        /// The sealed bytes were changed, truncated, or belong to another context or key.
        case cannotOpen
    }

    public init(masterKey: [UInt8]) throws(Failure) {
        guard masterKey.count == 32 else { throw .badKeyLength }
        key = SymmetricKey(data: masterKey)
    }

    /// nonce ‖ ciphertext ‖ tag, with a fresh random nonce.
    public func seal(_ plaintext: [UInt8], context: String) -> [UInt8] {
        // AES-GCM sealing cannot fail for a 256-bit key and a random nonce.
        let box = try! AES.GCM.seal(plaintext, using: key, authenticating: Array(context.utf8))
        return Array(box.combined!)
    }

    public func open(_ sealed: [UInt8], context: String) throws(Failure) -> [UInt8] {
        do {
            let box = try AES.GCM.SealedBox(combined: sealed)
            return Array(try AES.GCM.open(box, using: key, authenticating: Array(context.utf8)))
        } catch {
            throw .cannotOpen
        }
    }
}
