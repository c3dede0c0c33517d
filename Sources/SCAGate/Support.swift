import Crypto
import SCAAudit
import SCAAuth
import SCAContract
import SCAPrimitives
import SCARules

/// Random values and digests for tokens, ids and codes.
public enum Secrets {
    public static func randomBytes(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    }

    /// 256 bits, base64url: a one-time token or a session.
    public static func bearerToken() -> String { Base64URL.encode(randomBytes(bearerBytes)) }
    public static let bearerBytes = 32
    /// Longer values are refused unread: a token or session is 43 characters.
    public static let bearerCharactersMax = 128

    /// `text` when it could be a token or a session (present, not empty, not too long).
    public static func bearer(_ text: String?) -> String? {
        guard let text, !text.isEmpty, text.utf8.count <= bearerCharactersMax else { return nil }
        return text
    }

    /// `prefix_` and 16 random hex digits: an id that is not a secret.
    public static func identifier(_ prefix: String) -> String { prefix + "_" + hex(randomBytes(8)) }

    public static func sha256(_ bytes: [UInt8]) -> [UInt8] { Array(SHA256.hash(data: bytes)) }

    public static func hmac(key: [UInt8], _ message: [UInt8]) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: key)))
    }
}
