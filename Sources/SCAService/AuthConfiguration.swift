/// The authentication side's settings, as configured (`auth.*`, `bank.*`).
public struct AuthConfiguration: Sendable {
    /// The server-side pepper mixed into every knowledge-factor hash and the master key that
    /// seals TOTP seeds and phone numbers: 32 bytes each. When absent, `sca serve` creates
    /// them once in the data directory (a file only its user can read).
    public var pepper: [UInt8]?
    public var masterKey: [UInt8]?
    public static let keyBytes = 32
    /// The WebAuthn relying party id and the page origins allowed to use it; by default
    /// `localhost` and `http://localhost:<port>`, `http://127.0.0.1:<port>`.
    public var rpID = "localhost"
    public var origins: [String]?
    /// scrypt's cost, log2(N). 17 is OWASP's minimum for scrypt (N=2^17, r=8, p=1); lower
    /// values exist for tests only and are logged as a warning.
    public var scryptLogN = 17
    public static let scryptLogNRange = 10...20
    public static let scryptLogNRecommended = 17
    /// PIN checks run on their own threads, never on the request threads; when this many
    /// are queued, further ones are refused with 503 (and do not count as attempts).
    public var pinCheckThreads = 1
    public var pinCheckQueueMax = 32
    public enum SMSSender: String, Sendable, CaseIterable {
        /// Nothing is sent; SMS factors cannot be used.
        case none
        /// Messages are kept in memory and readable at `GET /v1/dev/messages`.
        case development
    }
    public var smsSender: SMSSender?
    public var smsSendsPerHour = 5
    /// Pending decoupled approvals a user may have at once (push bombing).
    public var pushPendingMax = 3
    /// Demo mode: open registration funds a PLN account, and the SMS sender defaults to
    /// the development one.
    public var demo = false
    /// The demo bank's country (the payer's PSP country in its decisions).
    public var bankCountry = "PL"

    public init() {}

    public var effectiveSMSSender: SMSSender { smsSender ?? (demo ? .development : .none) }
}

/// The payments API's settings (`payments.*`). The names of exemptions and the issuer
/// profiles are checked where they are used (`sca serve` refuses to start on a bad one).
public struct PaymentsConfiguration: Sendable {
    public var merchantID = "demo-shop"
    public var merchantName = "Demo Shop"
    /// The acquirer's country: with the card issuer's, it decides the SCA regime.
    public var acquirerCountry = "NL"
    /// The exemptions the merchant has enabled, by the payments API's names; `nil` is the
    /// default set (all but transaction_risk_assessment, which needs activation).
    public var exemptions: [String]?
    public var threeDS1Fallback = false
    /// A JSON file with a list of issuer profiles; without it, the sandbox issuers.
    public var issuersFile: String?
    /// What a completed sale is worth to the merchant, as a fraction of its amount (the
    /// optimizer's economics).
    public var optimizerMargin = 0.1

    public init() {}
}
