import Crypto
import SCAAudit
import SCAPrimitives
import SCARules

/// A primary account number: 12 to 19 digits whose last one is the Luhn check digit.
/// Never logged or stored in clear: storage keeps its fingerprint, BIN and last four digits,
/// and the number itself only sealed.
public struct CardNumber: Sendable, Equatable, CustomStringConvertible {
    public let digits: String

    public static let lengths = 12...19

    /// Accepts digits with optional spaces; `nil` for anything else or a bad check digit.
    public init?(_ text: String) {
        let digits = text.filter { $0 != " " }
        guard Self.lengths.contains(digits.count), digits.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }),
            Self.luhnValid(digits)
        else { return nil }
        self.digits = digits
    }

    /// The first eight digits: the issuer identification number, as directories match it.
    public var bin: String { String(digits.prefix(8)) }
    /// The first six digits, as receipts and payment answers show them.
    public var bin6: String { String(digits.prefix(6)) }
    public var last4: String { String(digits.suffix(4)) }

    /// Keyed digest of the number: one card is one fingerprint, and the fingerprint does
    /// not give the number back without the key.
    public func fingerprint(key: [UInt8]) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Array("card-fingerprint/1:\(digits)".utf8), using: SymmetricKey(data: key))
        return "fp_" + hex(Array(Array(mac).prefix(12)))
    }

    /// Masked, so that printing a card by mistake shows no number.
    public var description: String { bin6 + "******" + last4 }

    static func luhnValid(_ digits: String) -> Bool {
        var sum = 0
        for (index, byte) in digits.utf8.reversed().enumerated() {
            var digit = Int(byte) - 48
            if index % 2 == 1 {
                digit *= 2
                if digit > 9 { digit -= 9 }
            }
            sum += digit
        }
        return sum % 10 == 0
    }
}

/// The card schemes the directory knows.
public enum CardScheme: String, Sendable, CaseIterable, Codable {
    case visa = "Visa"
    case mastercard = "Mastercard"
    case amex = "American Express"
    case diners = "Diners Club"

    /// The electronic commerce indicator an authentication result carries: Visa, American
    /// Express and Diners use 05 (authenticated), 06 (attempted), 07 (not authenticated);
    /// Mastercard 02, 01, 00.
    public func eci(_ level: AuthenticationLevel) -> String {
        switch (self, level) {
        case (.mastercard, .authenticated): "02"
        case (.mastercard, .attempted): "01"
        case (.mastercard, .none): "00"
        case (_, .authenticated): "05"
        case (_, .attempted): "06"
        case (_, .none): "07"
        }
    }

    public enum AuthenticationLevel: Sendable {
        case authenticated, attempted, none
    }
}

/// The exemptions a merchant can ask for in the payments API, by the API's names, and how
/// they map onto the rules engine's reason codes (SCA-RULES §6).
public enum CardExemption: String, Sendable, CaseIterable, Codable {
    case lowValue = "low_value"
    case transactionRiskAssessment = "transaction_risk_assessment"
    case trustedListing = "trusted_listing"
    case trustedListingPrompt = "trusted_listing_prompt"
    case secureCorporatePayment = "secure_corporate_payment"

    /// The exemption of SCA-RULES §4 it asks for; a prompt to be trusted asks for none (it
    /// asks for a challenge that ends with the merchant on the trusted list).
    public var ruleExemption: Exemption? {
        switch self {
        case .lowValue: .lowValue
        case .transactionRiskAssessment: .transactionRiskAnalysis
        case .trustedListing: .trustedBeneficiary
        case .trustedListingPrompt: nil
        case .secureCorporatePayment: .secureCorporate
        }
    }
}

/// The merchant's wish about a challenge (EMV 3DS `threeDSRequestorChallengeInd`).
public enum ChallengeIndicator: String, Sendable, CaseIterable, Codable {
    case noPreference = "no_preference"
    case noChallengeRequested = "no_challenge_requested"
    case challengeRequested = "challenge_requested"
    case challengeRequestedMandate = "challenge_requested_mandate"

    /// The EMV 3DS 2.2 code.
    public var emvCode: String {
        switch self {
        case .noPreference: "01"
        case .noChallengeRequested: "02"
        case .challengeRequested: "03"
        case .challengeRequestedMandate: "04"
        }
    }

    public var wantsChallenge: Bool { self == .challengeRequested || self == .challengeRequestedMandate }
}

/// Where an exemption is asked for: in the 3DS authentication (a refusal turns into a
/// challenge) or in the authorisation without 3DS (a refusal is soft decline 20154).
public enum ExemptionStage: String, Sendable, CaseIterable, Codable {
    case authentication
    case authorisation
}
