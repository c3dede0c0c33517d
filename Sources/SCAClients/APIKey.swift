import SCAGate
import SCAPrimitives

/// A secret API key: `sk_<environment>_` and 256 random bits in base64url (43 characters).
/// It is shown once; the store keeps only an HMAC-SHA-256 of it under a key derived from
/// the pepper, so that a copy of the database does not hold a usable key, and a lookup by
/// that hash reveals nothing without the pepper.
public enum APIKey {
    public static let secretBytes = 32
    /// Unpadded base64url: four characters per three bytes, rounded up.
    static let secretCharacters = (secretBytes * 4 + 2) / 3
    public static func prefix(_ environment: KeyEnvironment) -> String { "sk_\(environment.rawValue)_" }
    /// What a listing shows of a key: its prefix and first four secret characters.
    static let hintCharacters = 12

    public static func generate(_ environment: KeyEnvironment) -> String {
        prefix(environment) + Base64URL.encode(Secrets.randomBytes(secretBytes))
    }

    /// The environment `text` claims, when it has the shape of a key; nil otherwise.
    public static func environment(of text: String) -> KeyEnvironment? {
        for environment in KeyEnvironment.allCases where text.hasPrefix(prefix(environment)) {
            let secret = text.dropFirst(prefix(environment).count)
            guard secret.utf8.count == secretCharacters, let bytes = Base64URL.decode(String(secret)), bytes.count == secretBytes
            else { return nil }
            return environment
        }
        return nil
    }

    static func hint(_ key: String) -> String { String(key.prefix(hintCharacters)) }
}

/// The keyed hash the store keeps of a key: HMAC-SHA-256 under a key derived from the
/// pepper once, not at every call.
public struct APIKeyHasher: Sendable {
    let hashKey: [UInt8]

    public init(pepper: [UInt8]) { hashKey = Secrets.hmac(key: pepper, Array("api-key".utf8)) }

    /// As hex.
    public func digest(_ key: String) -> String { hex(Secrets.hmac(key: hashKey, Array(key.utf8))) }
}
