import SCARules

/// Checkout.com's payment types.
public enum PaymentType: String, Sendable, Codable, CaseIterable {
    case regular = "Regular"
    case recurring = "Recurring"
    case moto = "MOTO"
    case installment = "Installment"
    case unscheduled = "Unscheduled"

    /// The types whose first, customer-initiated payment sets up later merchant-initiated ones.
    public var startsSeries: Bool { self == .recurring || self == .installment || self == .unscheduled }
}

/// The merchant's 3DS wishes for one payment.
public struct ThreeDSOptions: Sendable, Equatable {
    public var enabled: Bool
    public var challengeIndicator: ChallengeIndicator
    public var exemption: CardExemption?
    /// Retry with 3DS when the issuer answers 20154 (only with the customer present).
    public var allowUpgrade: Bool
    public init(
        enabled: Bool, challengeIndicator: ChallengeIndicator = .noPreference, exemption: CardExemption? = nil, allowUpgrade: Bool = true
    ) {
        self.enabled = enabled
        self.challengeIndicator = challengeIndicator
        self.exemption = exemption
        self.allowUpgrade = allowUpgrade
    }
}

/// One payment, validated, as the acquirer processes it.
public struct PaymentInstruction: Sendable {
    public var id: String
    public var card: CardNumber
    public var amount: Money
    public var merchant: Merchant
    public var paymentType: PaymentType
    public var merchantInitiated: Bool
    public var previousPaymentID: String?
    /// Whether `previousPaymentID` names an authorised customer-initiated payment of this card
    /// whose SCA passed (SCA-RULES §3: such a payment is a mandate; an exempt one is not),
    /// looked up in storage by the service.
    public var mandateValid: Bool
    /// The payment saves the card or starts a series: it must be authenticated.
    public var setsUpMandate: Bool
    public var threeDS: ThreeDSOptions
    public var risk: RiskAssessment?

    public init(
        id: String, card: CardNumber, amount: Money, merchant: Merchant, paymentType: PaymentType = .regular,
        merchantInitiated: Bool = false, previousPaymentID: String? = nil, mandateValid: Bool = false,
        setsUpMandate: Bool = false, threeDS: ThreeDSOptions, risk: RiskAssessment? = nil
    ) {
        self.id = id
        self.card = card
        self.amount = amount
        self.merchant = merchant
        self.paymentType = paymentType
        self.merchantInitiated = merchantInitiated
        self.previousPaymentID = previousPaymentID
        self.mandateValid = mandateValid
        self.setsUpMandate = setsUpMandate
        self.threeDS = threeDS
        self.risk = risk
    }

    /// Nobody is there to complete a challenge.
    public var offSession: Bool { merchantInitiated }
}

public enum PaymentStatus: String, Sendable, Codable {
    case authorized = "Authorized"
    case pending = "Pending"
    case declined = "Declined"
    case captured = "Captured"
    case partiallyCaptured = "Partially Captured"
}

/// How the payment got (or did not get) through SCA, in one word.
public enum PaymentPath: String, Sendable, Codable {
    case frictionless
    case challenge
    case exemption
    case softDeclineRetry = "soft_decline_retry"
    case outOfScope = "out_of_scope"
    case threeDS1Fallback = "3ds1_fallback"
    case noThreeDS = "no_3ds"
    case declined
}

/// The payment's `3ds` object.
public struct ThreeDSRecord: Sendable, Codable, Equatable {
    public var enabled: Bool
    public var version: String?
    public var challengeIndicator: String
    public var exemptionRequested: String?
    public var exemptionStage: String?
    /// "merchant" or "optimizer".
    public var exemptionSource: String?
    public var exemptionApplied: String?
    /// Why the merchant's exemption was not sent (not enabled, not carried by the scheme...).
    public var exemptionFallback: String?
    public var challenged: Bool = false
    public var transStatus: String?
    public var transStatusReason: String?
    public var eci: String?
    public var authenticationValue: String?
    public var upgradeReason: String?
    public var acsTransID: String?
    public var dsTransID: String?
    public var challengeCancel: String?
    public var whiteListStatus: String?

    enum CodingKeys: String, CodingKey {
        case enabled, version, challenged, eci
        case challengeIndicator = "challenge_indicator"
        case exemptionRequested = "exemption_requested"
        case exemptionStage = "exemption_stage"
        case exemptionSource = "exemption_source"
        case exemptionApplied = "exemption_applied"
        case exemptionFallback = "exemption_fallback"
        case transStatus = "trans_status"
        case transStatusReason = "trans_status_reason"
        case authenticationValue = "authentication_value"
        case upgradeReason = "upgrade_reason"
        case acsTransID = "acs_trans_id"
        case dsTransID = "ds_trans_id"
        case challengeCancel = "challenge_cancel"
        case whiteListStatus = "white_list_status"
    }

    public func encode(to encoder: any Encoder) throws {
        // Every member is written, null included: clients read one shape.
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(enabled, forKey: .enabled)
        try c.encode(version, forKey: .version)
        try c.encode(challengeIndicator, forKey: .challengeIndicator)
        try c.encode(exemptionRequested, forKey: .exemptionRequested)
        try c.encode(exemptionStage, forKey: .exemptionStage)
        try c.encode(exemptionSource, forKey: .exemptionSource)
        try c.encode(exemptionApplied, forKey: .exemptionApplied)
        try c.encode(exemptionFallback, forKey: .exemptionFallback)
        try c.encode(challenged, forKey: .challenged)
        try c.encode(transStatus, forKey: .transStatus)
        try c.encode(transStatusReason, forKey: .transStatusReason)
        try c.encode(eci, forKey: .eci)
        try c.encode(authenticationValue, forKey: .authenticationValue)
        try c.encode(upgradeReason, forKey: .upgradeReason)
        try c.encode(acsTransID, forKey: .acsTransID)
        try c.encode(dsTransID, forKey: .dsTransID)
        try c.encode(challengeCancel, forKey: .challengeCancel)
        try c.encode(whiteListStatus, forKey: .whiteListStatus)
    }
}

/// The acquirer's rules-engine decision for the payment: scope, regime, reason, citation,
/// and the exemptions tried before it, as the decisions API lists them.
public struct SCASummary: Sendable, Codable, Equatable {
    public var regime: String?
    public var outcome: String
    public var reason: String
    public var citation: String
    /// Each exemption the engine looked at that did not fit, in the order tried.
    public var notApplied: [NotApplied]

    /// One candidate exemption: its reason code, why it did not fit (a stable code) and the
    /// same in a sentence.
    public struct NotApplied: Sendable, Codable, Equatable {
        public var reason: String
        public var why: String
        public var message: String

        public init(reason: String, why: String, message: String) {
            self.reason = reason
            self.why = why
            self.message = message
        }
    }

    public init(regime: String?, outcome: String, reason: String, citation: String, notApplied: [NotApplied]) {
        self.regime = regime
        self.outcome = outcome
        self.reason = reason
        self.citation = citation
        self.notApplied = notApplied
    }

    enum CodingKeys: String, CodingKey {
        case regime, outcome, reason, citation
        case notApplied = "not_applied"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        regime = try c.decodeIfPresent(String.self, forKey: .regime)
        outcome = try c.decode(String.self, forKey: .outcome)
        reason = try c.decode(String.self, forKey: .reason)
        citation = try c.decode(String.self, forKey: .citation)
        if let list = try? c.decode([NotApplied].self, forKey: .notApplied) {
            notApplied = list
        } else {
            // Payments stored before the list kept an object of reason → message, without codes.
            let old = try c.decode([String: String].self, forKey: .notApplied)
            notApplied = old.keys.sorted().map { NotApplied(reason: $0, why: "unrecorded", message: old[$0]!) }
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(regime, forKey: .regime)
        try c.encode(outcome, forKey: .outcome)
        try c.encode(reason, forKey: .reason)
        try c.encode(citation, forKey: .citation)
        try c.encode(notApplied, forKey: .notApplied)
    }
}

/// What the optimizer considered for a payment, and what it chose.
public struct OptimizerRecord: Sendable, Codable, Equatable {
    public var chosen: String
    public var why: String
    public var considered: [ExemptionOptimizer.Considered]
    /// Exemptions that did not qualify, with the engine's reason.
    public var notQualifying: [String: String]

    enum CodingKeys: String, CodingKey {
        case chosen, why, considered
        case notQualifying = "not_qualifying"
    }
}

/// Where a payment stands after a step of the flow: what the API shows, what storage keeps,
/// and (while pending) what the flow needs to go on when the challenge ends.
public struct PaymentOutcome: Sendable, Codable {
    public var status: PaymentStatus
    public var responseCode: String?
    public var path: PaymentPath
    public var threeDS: ThreeDSRecord?
    public var liabilityShift: Bool
    public var sca: SCASummary
    public var optimizer: OptimizerRecord?
    /// "complete_challenge" while pending; "customer_must_authenticate" after a soft decline
    /// that could not be retried (off-session, or no retry allowed): the customer must come
    /// back (a notification is recorded for off-session payments).
    public var nextAction: String?
    public var challengeURL: String?
    /// The issuer's words on its answers, newest last.
    public var notes: [String]
    public var trace: [TraceEntry]
    /// An authenticated customer-initiated payment that later merchant-initiated ones may name.
    public var authenticatedCustomerInitiated: Bool
    /// Learning signals for the optimizer, taken by the service (not stored with the payment).
    public var observations: [ExemptionOptimizer.Learner.Observation] = []

    enum CodingKeys: String, CodingKey {
        case status, path, sca, optimizer, notes, trace
        case responseCode = "response_code"
        case threeDS = "3ds"
        case liabilityShift = "liability_shift"
        case nextAction = "next_action"
        case challengeURL = "challenge_url"
        case authenticatedCustomerInitiated = "authenticated_customer_initiated"
    }

    public var liability: String { liabilityShift ? "issuer" : "merchant" }
}
