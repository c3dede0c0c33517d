import Foundation
import HummingbirdOTP
import SCAAudit
import SCAPrimitives
import SCARules

/// Time-based one-time passwords (RFC 6238 over RFC 4226, HMAC-SHA-1, 30-second steps,
/// 6 digits: what authenticator apps and hardware tokens use), computed by
/// HummingbirdOTP. A code is accepted for the current step and one step either side, and
/// only for a step later than the last one accepted: each code works once.
public struct TOTPVerifier: Sendable {
    public let digits: Int
    public let stepSeconds: Int64
    /// Steps accepted either side of the current one.
    public let window: Int64

    public init(digits: Int = 6, stepSeconds: Int64 = 30, window: Int64 = 1) {
        self.digits = digits
        self.stepSeconds = stepSeconds
        self.window = window
    }

    /// The seed alphabet: RFC 4648 base32 letters, so the seed's bytes are plain ASCII
    /// (HummingbirdOTP keys HMAC with the seed string's UTF-8 bytes).
    static let seedAlphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".utf8)
    /// 32 characters of 32 symbols: 160 bits, RFC 4226's recommended seed length.
    public static let seedLength = 32

    public static func makeSeed() -> String {
        var generator = SystemRandomNumberGenerator()
        return String(decoding: (0..<seedLength).map { _ in seedAlphabet.randomElement(using: &generator)! }, as: UTF8.self)
    }

    /// The time step that `instant` falls in.
    public func step(at instant: Instant) -> Int64 {
        instant.millisecondsSinceEpoch / 1000 / stepSeconds
    }

    /// The code for one step (0 or later), zero-padded to `digits`.
    public func code(seed: String, step: Int64) -> String {
        precondition(step >= 0, "TOTP steps start at the Unix epoch")
        let totp = TOTP(secret: seed, length: digits, timeStep: Int(stepSeconds))
        let value = totp.compute(date: Date(timeIntervalSince1970: TimeInterval(step * stepSeconds)))
        let text = String(value)
        return String(repeating: "0", count: max(0, digits - text.count)) + text
    }

    /// The step `code` matches, if it matches one in the window that is later than
    /// `lastAcceptedStep`. Every step in the window is computed and compared, matching or
    /// not, so the time taken does not say which one matched.
    public func acceptedStep(code: String, seed: String, at instant: Instant, lastAcceptedStep: Int64?) -> Int64? {
        let now = step(at: instant)
        let given = Array(code.utf8)
        var accepted: Int64?
        for candidate in max(0, now - window)...max(0, now + window) {
            let matches = constantTimeEqual(Array(self.code(seed: seed, step: candidate).utf8), given)
            if matches, accepted == nil, candidate > (lastAcceptedStep ?? .min) { accepted = candidate }
        }
        return accepted
    }

    /// The `otpauth://` URI an authenticator app scans.
    public func provisioningURI(seed: String, account: String, issuer: String) -> String {
        TOTP(secret: seed, length: digits, timeStep: Int(stepSeconds)).createAuthenticatorURL(label: account, issuer: issuer)
    }
}
