import SCARules

/// The authorisation answers of the payments API (Checkout.com's codes).
public enum ResponseCode {
    public static let approved = "10000"
    public static let doNotHonour = "20005"
    public static let invalidTransaction = "20012"
    public static let invalidCardNumber = "20014"
    public static let insufficientFunds = "20051"
    public static let expiredCard = "20054"
    public static let notEnrolled = "20150"
    public static let authenticationFailed = "20151"
    public static let authenticationNotCompleted = "20152"
    public static let authenticationRequired = "20154"
    public static let invalidAuthenticationValue = "20155"

    /// Codes an issuer profile may decline every authorisation with.
    public static let declines: Set<String> = [doNotHonour, insufficientFunds, expiredCard, invalidTransaction]

    public static func summary(_ code: String) -> String {
        switch code {
        case approved: "Approved"
        case doNotHonour: "Declined - Do not honour"
        case invalidTransaction: "Invalid transaction"
        case invalidCardNumber: "Invalid card number"
        case insufficientFunds: "Insufficient funds"
        case expiredCard: "Expired card"
        case notEnrolled: "Card not 3D Secure enabled"
        case authenticationFailed: "Cardholder failed 3DS authentication"
        case authenticationNotCompleted: "3DS authentication not completed in time"
        case authenticationRequired: "Authentication required (3DS)"
        case invalidAuthenticationValue: "Invalid 3DS authentication value"
        default: "Declined"
        }
    }
}

/// EMV 3DS `transStatus`.
public enum TransStatus: String, Sendable, Codable {
    /// Authenticated (frictionless or after a challenge).
    case authenticated = "Y"
    /// Not authenticated; the payment must not go on as authenticated.
    case notAuthenticated = "N"
    /// Authentication could not be performed.
    case unavailable = "U"
    /// Attempted: the issuer or its attempts server stands in (liability still shifts).
    case attempted = "A"
    /// A challenge is required.
    case challenge = "C"
    /// Decoupled authentication confirmed.
    case decoupled = "D"
    /// Rejected: the issuer refuses the payment outright.
    case rejected = "R"
    /// Informational only: the requestor's exemption or preference is acknowledged, no SCA.
    case informational = "I"

    /// What the result is worth for the liability shift and the ECI.
    public var level: CardScheme.AuthenticationLevel {
        switch self {
        case .authenticated: .authenticated
        case .attempted: .attempted
        default: .none
        }
    }
}

/// One message of the 3DS conversation (PRes, AReq/ARes, RReq/RRes, 3DS1 PARes) or one
/// decision, kept in the payment's trace with the fields EMV 3DS 2.2 names. Card numbers
/// appear masked only; the challenge's own CReq/CRes stay between the cardholder and the ACS.
public struct TraceEntry: Sendable, Codable, Equatable {
    public var at: String
    /// The message type ("AReq", "ARes", ...) or a step ("acquirer_decision", "optimizer",
    /// "authorisation_request", "authorisation_response"); the issuer's reasons are in
    /// the payment's notes.
    public var step: String
    public var from: String
    public var to: String
    public var fields: [String: String]

    public init(at: Instant, step: String, from: String, to: String, fields: [String: String]) {
        self.at = at.rfc3339
        self.step = step
        self.from = from
        self.to = to
        self.fields = fields
    }
}

/// The 3DS server's authentication request.
public struct AuthenticationRequest: Sendable {
    public enum Channel: String, Sendable {
        /// A browser: the cardholder is there and can be challenged.
        case browser = "02"
        /// 3DS requestor initiated: nobody to challenge.
        case requestorInitiated = "03"
    }
    public enum Purpose: String, Sendable {
        case payment = "01"
        case recurring = "02"
        case installment = "03"
        case addCard = "04"
    }

    public var threeDSServerTransID: String
    public var card: CardNumber
    public var amount: Money
    public var merchant: Merchant
    public var challengeIndicator: ChallengeIndicator
    public var exemption: CardExemption?
    public var channel: Channel
    public var purpose: Purpose
    public var version: String

    public init(
        threeDSServerTransID: String, card: CardNumber, amount: Money, merchant: Merchant,
        challengeIndicator: ChallengeIndicator, exemption: CardExemption?, channel: Channel = .browser,
        purpose: Purpose = .payment, version: String = ThreeDSVersion.current
    ) {
        self.threeDSServerTransID = threeDSServerTransID
        self.card = card
        self.amount = amount
        self.merchant = merchant
        self.challengeIndicator = challengeIndicator
        self.exemption = exemption
        self.channel = channel
        self.purpose = purpose
        self.version = version
    }

    /// `threeDSRequestorChallengeInd`: 05 TRA, 08 trusted list, 09 trusted-list prompt;
    /// low value and secure corporate go in the scheme's extension (`scaExemption`) with 02.
    var challengeIndicatorCode: String {
        switch exemption {
        case .transactionRiskAssessment?: "05"
        case .trustedListing?: "08"
        case .trustedListingPrompt?: "09"
        case .lowValue?, .secureCorporatePayment?: "02"
        case nil: challengeIndicator.emvCode
        }
    }

    func fields() -> [String: String] {
        var out = [
            "messageType": "AReq", "messageVersion": version, "messageCategory": "01",
            "threeDSServerTransID": threeDSServerTransID, "acctNumber": card.description,
            "purchaseAmount": String(amount.minorUnits), "purchaseCurrency": amount.currency.code,
            "purchaseExponent": String(amount.currency.minorDigits), "merchantName": merchant.name,
            "acquirerMerchantID": merchant.id, "merchantCountryCode": merchant.country,
            "threeDSRequestorChallengeInd": challengeIndicatorCode, "deviceChannel": channel.rawValue,
            "threeDSRequestorAuthenticationInd": purpose.rawValue,
        ]
        if let exemption { out["scaExemption"] = exemption.rawValue }
        return out
    }
}

public enum ThreeDSVersion {
    public static let current = "2.2.0"
    public static let fallback = "1.0.2"
}

/// The merchant as the card network sees it (the payee of every payment).
public struct Merchant: Sendable, Equatable {
    public var id: String
    public var name: String
    /// The acquirer's country: with the issuer's, it decides the regime.
    public var country: String
    public init(id: String, name: String, country: String) {
        self.id = id
        self.name = name
        self.country = country
    }
}

/// The ACS's answer to an AReq, or its final result of a challenge (RReq).
public struct AuthenticationResult: Sendable, Equatable {
    public var acsTransID: String
    public var dsTransID: String
    public var transStatus: TransStatus
    public var transStatusReason: String?
    public var eci: String?
    public var authenticationValue: String?
    /// For a challenge: where the cardholder completes it.
    public var challengeURL: String?
    public var challengeCancel: String?
    /// "Y" when the cardholder put the merchant on the trusted list.
    public var whiteListStatus: String?
    /// The exemption the issuer granted, if it granted one.
    public var exemptionGranted: CardExemption?
    /// Why the issuer answered so, in words, for the trace and the payment.
    public var note: String

    func fields(messageType: String, version: String, serverTransID: String) -> [String: String] {
        var out = [
            "messageType": messageType, "messageVersion": version, "threeDSServerTransID": serverTransID,
            "acsTransID": acsTransID, "dsTransID": dsTransID, "transStatus": transStatus.rawValue,
        ]
        if let transStatusReason { out["transStatusReason"] = transStatusReason }
        if let eci { out["eci"] = eci }
        if authenticationValue != nil { out["authenticationValue"] = "present" }
        if let challengeURL { out["acsURL"] = challengeURL }
        if let challengeCancel { out["challengeCancel"] = challengeCancel }
        if let whiteListStatus { out["whiteListStatus"] = whiteListStatus }
        return out
    }
}
