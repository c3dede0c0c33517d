import SCAGate
import SCAPrimitives

/// A secret API key: `sk_<environment>_` and 256 random bits in base64url (43 characters).
/// It is shown once; the store keeps only an HMAC-SHA-256 of it under a key derived from
/// the pepper, so that a copy of the database does not hold a usable key, and a lookup by
/// that hash reveals nothing without the pepper.
public enum APIKey {
    public static let secretBytes = 32
    static let secretCharacters = 43
    public static func prefix(_ environment: KeyEnvironment) -> String { "sk_\(environment.rawValue)_" }
    /// Longer texts are refused unread.
    public static let charactersMax = 64
    /// What a listing shows of a key: its prefix and first four secret characters.
    static let hintCharacters = 12

    public static func generate(_ environment: KeyEnvironment) -> String {
        prefix(environment) + Base64URL.encode(Secrets.randomBytes(secretBytes))
    }

    /// The environment `text` claims, when it has the shape of a key; nil otherwise.
    public static func environment(of text: String) -> KeyEnvironment? {
        guard text.utf8.count <= charactersMax else { return nil }
        for environment in KeyEnvironment.allCases where text.hasPrefix(prefix(environment)) {
            let secret = text.dropFirst(prefix(environment).count)
            guard secret.utf8.count == secretCharacters, let bytes = Base64URL.decode(String(secret)), bytes.count == secretBytes
            else { return nil }
            return environment
        }
        return nil
    }

    /// The keyed hash the store keeps, as hex.
    public static func digest(_ key: String, pepper: [UInt8]) -> String {
        let hashKey = Secrets.hmac(key: pepper, Array("api-key".utf8))
        return hex(Secrets.hmac(key: hashKey, Array(key.utf8)))
    }

    static func hint(_ key: String) -> String { String(key.prefix(hintCharacters)) }
}
