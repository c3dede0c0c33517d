/// The engine's answer to one request, with its legal reason.
public struct Decision: Sendable, Equatable {
    public var requestID: RequestID?
    public var outcome: Outcome
    public var reason: Reason
    public var citation: Citation
    /// The rules that applied; `nil` when the request is outside both regimes.
    public var regime: Regime?
    public var amountInRegimeCurrency: Money?
    /// Why each candidate exemption that was tried did not fit, in the order tried.
    public var notApplied: NotAppliedList
    /// The counters of the request's instrument or consent after this decision.
    public var counters: Counters

    public init(
        requestID: RequestID?, outcome: Outcome, reason: Reason, citation: Citation, regime: Regime?,
        amountInRegimeCurrency: Money?, notApplied: NotAppliedList = [], counters: Counters = Counters()
    ) {
        precondition(reason.explains(outcome), "reason \(reason.rawValue) cannot explain \(outcome.rawValue)")
        self.requestID = requestID
        self.outcome = outcome
        self.reason = reason
        self.citation = citation
        self.regime = regime
        self.amountInRegimeCurrency = amountInRegimeCurrency
        self.notApplied = notApplied
        self.counters = counters
    }

    /// The citation as the decision states it: RTS articles become UK-RTS under the UK regime.
    public var citationText: String { citation.text(in: regime) }
}

/// SCA-RULES §4b.
public enum Outcome: String, Sendable, CaseIterable {
    case outOfScope = "out_of_scope"
    case exempt
    case scaRequired = "sca_required"
    case alreadyAuthenticated = "already_authenticated"
    case refused
}

/// Every machine reason code a decision can carry. Stable: add, never rename.
public enum Reason: String, Sendable, CaseIterable {
    // out_of_scope (§1, §3)
    case oneLegOut = "one_leg_out"
    case moto
    case directDebit = "direct_debit"
    case anonymousPrepaid = "anonymous_prepaid"
    case merchantInitiated = "merchant_initiated"
    // exempt (§4)
    case accountInformation = "account_information"
    case aisWithinWindow = "ais_within_window"
    case contactless
    case unattendedTerminal = "unattended_terminal"
    case trustedBeneficiary = "trusted_beneficiary"
    case recurring
    case samePersonTransfer = "same_person_transfer"
    case lowValue = "low_value"
    case secureCorporate = "secure_corporate"
    case transactionRiskAnalysis = "transaction_risk_analysis"
    // sca_required (§4b)
    case alwaysRequired = "always_required"
    case noSession = "no_session"
    case sessionIdle = "session_idle"
    case aisFirstAccess = "ais_first_access"
    case aisRenewalDue = "ais_renewal_due"
    case recurringFirst = "recurring_first"
    case noExemption = "no_exemption"
    // already_authenticated
    case sessionActive = "session_active"
    // refused
    case aisDailyLimit = "ais_daily_limit"
    case consentUnknown = "consent_unknown"
    case mitWithoutMandate = "mit_without_mandate"
    case factorBlocked = "factor_blocked"

    /// Whether this reason can explain `outcome` (`ais_renewal_due` is a refusal when the
    /// customer is absent and a demand for SCA when present).
    public func explains(_ outcome: Outcome) -> Bool {
        switch self {
        case .oneLegOut, .moto, .directDebit, .anonymousPrepaid, .merchantInitiated:
            return outcome == .outOfScope
        case .accountInformation, .aisWithinWindow, .contactless, .unattendedTerminal,
            .trustedBeneficiary, .recurring, .samePersonTransfer, .lowValue, .secureCorporate,
            .transactionRiskAnalysis:
            return outcome == .exempt
        case .alwaysRequired, .noSession, .sessionIdle, .aisFirstAccess, .recurringFirst, .noExemption:
            return outcome == .scaRequired
        case .aisRenewalDue:
            return outcome == .scaRequired || outcome == .refused
        case .sessionActive:
            return outcome == .alreadyAuthenticated
        case .aisDailyLimit, .consentUnknown, .mitWithoutMandate, .factorBlocked:
            return outcome == .refused
        }
    }
}

/// One candidate exemption that did not fit, and why.
public struct NotApplied: Sendable, Equatable {
    public var exemption: Exemption
    public var why: WhyNotApplied

    public init(_ exemption: Exemption, _ why: WhyNotApplied) {
        self.exemption = exemption
        self.why = why
    }
}

/// The candidates that did not fit, held inline: at most one per exemption, so a decision
/// never allocates for them.
public struct NotAppliedList: RandomAccessCollection, Equatable, Sendable, ExpressibleByArrayLiteral {
    /// Room for every exemption once.
    public static let capacity = 10
    private var storage:
        (
            NotApplied?, NotApplied?, NotApplied?, NotApplied?, NotApplied?,
            NotApplied?, NotApplied?, NotApplied?, NotApplied?, NotApplied?
        ) = (nil, nil, nil, nil, nil, nil, nil, nil, nil, nil)
    public private(set) var count = 0

    public init() {}

    public init(arrayLiteral elements: NotApplied...) {
        for element in elements { append(element) }
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { count }

    public subscript(position: Int) -> NotApplied {
        precondition(position >= 0 && position < count, "index out of range")
        return withUnsafeBytes(of: storage) { $0.load(fromByteOffset: position * MemoryLayout<NotApplied?>.stride, as: NotApplied?.self)! }
    }

    public mutating func append(_ element: NotApplied) {
        precondition(count < NotAppliedList.capacity, "more candidates than exemptions")
        withUnsafeMutableBytes(of: &storage) {
            $0.storeBytes(of: element, toByteOffset: count * MemoryLayout<NotApplied?>.stride, as: NotApplied?.self)
        }
        count += 1
    }

    public static func == (lhs: NotAppliedList, rhs: NotAppliedList) -> Bool { lhs.elementsEqual(rhs) }
}

/// Documented codes for why an exemption did not fit. Stable: add, never rename.
public enum WhyNotApplied: String, Sendable, CaseIterable {
    case payeeNotTrusted = "payee_not_trusted"
    case notRecurring = "not_recurring"
    case seriesNotEstablished = "series_not_established"
    case notCreditTransfer = "not_credit_transfer"
    case notSamePerson = "not_same_person"
    case payerIsConsumer = "payer_is_consumer"
    case notSecureCorporateProcess = "not_secure_corporate_process"
    case notUnattendedTerminal = "not_unattended_terminal"
    case notContactless = "not_contactless"
    case notRemote = "not_remote"
    case noInstrument = "no_instrument"
    case overSingleLimit = "over_single_limit"
    case countCap = "count_cap"
    case amountCap = "amount_cap"
    case noRiskScore = "no_risk_score"
    case riskScoreTooHigh = "risk_score_too_high"
    case riskSignalPresent = "risk_signal_present"
    case noOpenTRABand = "no_open_tra_band"
    case aboveOpenTRABands = "above_open_tra_bands"
    case aboveTRAMaximum = "above_tra_maximum"
    case notApplicableToAction = "not_applicable_to_action"
    case exemptionDisabled = "exemption_disabled"

    /// A sentence for people reading the decision.
    public var message: String {
        switch self {
        case .payeeNotTrusted: return "payee is not on the payer's trusted list"
        case .notRecurring: return "payment is not marked as part of a recurring series"
        case .seriesNotEstablished: return "no series of this amount to this payee was created with SCA"
        case .notCreditTransfer: return "only credit transfers between the payer's own accounts qualify"
        case .notSamePerson: return "payee account does not belong to the payer at the same PSP"
        case .payerIsConsumer: return "payer is a consumer, not a business"
        case .notSecureCorporateProcess: return "payment does not use a dedicated secure corporate process"
        case .notUnattendedTerminal: return "not an unattended terminal for transport fares or parking"
        case .notContactless: return "not a contactless payment at a point of sale"
        case .notRemote: return "not a remote electronic payment"
        case .noInstrument: return "no payer instrument named, so the counters cannot be kept"
        case .overSingleLimit: return "amount is over the single-payment limit"
        case .countCap: return "count of payments since the last SCA would pass the cap"
        case .amountCap: return "cumulative amount since the last SCA would pass the cap"
        case .noRiskScore: return "no risk score was given"
        case .riskScoreTooHigh: return "risk score is above the configured low-risk maximum"
        case .riskSignalPresent: return "a risk signal of RTS Art. 18(2)(c) is present"
        case .noOpenTRABand: return "no TRA band is open for this payment type at the monitored fraud rate"
        case .aboveOpenTRABands: return "amount is above the threshold of the highest open TRA band"
        case .aboveTRAMaximum: return "amount is above the highest TRA threshold, where TRA never applies"
        case .notApplicableToAction: return "this exemption does not apply to this action"
        case .exemptionDisabled: return "this exemption is not in the configured exemption order"
        }
    }
}

/// The counters a decision reports, after the decision. Absent fields are left out.
public struct Counters: Sendable, Equatable {
    public var lowValueCount: Int?
    public var lowValueTotal: Money?
    public var contactlessCount: Int?
    public var contactlessTotal: Money?
    public var aisUnattendedToday: Int?

    public init(
        lowValueCount: Int? = nil, lowValueTotal: Money? = nil, contactlessCount: Int? = nil,
        contactlessTotal: Money? = nil, aisUnattendedToday: Int? = nil
    ) {
        self.lowValueCount = lowValueCount
        self.lowValueTotal = lowValueTotal
        self.contactlessCount = contactlessCount
        self.contactlessTotal = contactlessTotal
        self.aisUnattendedToday = aisUnattendedToday
    }
}
