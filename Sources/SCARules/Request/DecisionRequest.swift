/// What the engine is asked to decide: one login, payment or sensitive action.
///
/// Built at the edge from the decision contract (`SCAContract`) after every field has been
/// validated: nothing in here is a raw string that still needs checking, except the
/// caller's opaque identifiers.
public struct DecisionRequest: Sendable, Equatable {
    public var id: RequestID?
    public var at: Instant
    public var action: Action
    public var payer: Payer
    public var payee: Payee?
    public var amount: Money?
    public var payment: PaymentDetails?
    public var risk: RiskAssessment?
    public var requestedExemption: Exemption?
    public var consent: ConsentID?
    /// `false` marks unattended access by an account-information service provider.
    public var customerPresent: Bool
    /// The SCA performed for this very action when one is required; `nil` while pending.
    public var sca: SCAResult?

    public init(
        id: RequestID? = nil, at: Instant, action: Action, payer: Payer, payee: Payee? = nil,
        amount: Money? = nil, payment: PaymentDetails? = nil, risk: RiskAssessment? = nil,
        requestedExemption: Exemption? = nil, consent: ConsentID? = nil,
        customerPresent: Bool = true, sca: SCAResult? = .passed
    ) {
        self.id = id
        self.at = at
        self.action = action
        self.payer = payer
        self.payee = payee
        self.amount = amount
        self.payment = payment
        self.risk = risk
        self.requestedExemption = requestedExemption
        self.consent = consent
        self.customerPresent = customerPresent
        self.sca = sca
    }
}

/// The actions of SCA-RULES §2 (PSD2 Art. 97(1)).
public enum Action: String, Sendable, CaseIterable {
    case login
    case payment
    case addBeneficiary = "add_beneficiary"
    case trustBeneficiary = "trust_beneficiary"
    case sensitiveAction = "sensitive_action"
    case storeCredential = "store_credential"
    case aisAccess = "ais_access"
}

public enum SCAResult: String, Sendable {
    case passed
    case failed
}

public struct RequestID: Hashable, Sendable {
    public let value: String
    public init(_ value: String) { self.value = value }
}
public struct PayerID: Hashable, Sendable {
    public let value: String
    public init(_ value: String) { self.value = value }
}
public struct PayeeID: Hashable, Sendable {
    public let value: String
    public init(_ value: String) { self.value = value }
}
public struct InstrumentID: Hashable, Sendable {
    public let value: String
    public init(_ value: String) { self.value = value }
}
public struct ConsentID: Hashable, Sendable {
    public let value: String
    public init(_ value: String) { self.value = value }
}

public struct Payer: Sendable, Equatable {
    public var id: PayerID
    /// Country of the payer's PSP (issuer / ASPSP).
    public var pspCountry: CountryCode
    public var instrument: InstrumentID?
    /// `false` for a business payer (needed for the secure-corporate exemption).
    public var consumer: Bool

    public init(id: PayerID, pspCountry: CountryCode, instrument: InstrumentID? = nil, consumer: Bool = true) {
        self.id = id
        self.pspCountry = pspCountry
        self.instrument = instrument
        self.consumer = consumer
    }
}

public struct Payee: Sendable, Equatable {
    public var id: PayeeID?
    /// Country of the payee's PSP (acquirer); required for a payment.
    public var pspCountry: CountryCode?

    public init(id: PayeeID?, pspCountry: CountryCode?) {
        self.id = id
        self.pspCountry = pspCountry
    }
}

public struct PaymentDetails: Sendable, Equatable {
    public enum Method: String, Sendable, CaseIterable {
        case card
        case creditTransfer = "credit_transfer"
        case directDebit = "direct_debit"
    }

    public enum Channel: String, Sendable, CaseIterable {
        case remote
        case contactless
        case chip
        case moto
        case unattendedTransport = "unattended_transport"
        case unattendedParking = "unattended_parking"
    }

    public enum Initiator: String, Sendable, CaseIterable {
        case payer
        case merchant
        case pisp
        case payee
    }

    public var method: Method
    public var channel: Channel
    public var initiator: Initiator
    /// The payment belongs to a series of the same amount to the same payee.
    public var recurring: Bool
    /// For a merchant-initiated payment: the earlier request that was authenticated with SCA.
    public var mandateRef: RequestID?
    public var anonymousPrepaid: Bool
    public var secureCorporate: Bool
    /// A credit transfer between two accounts of the same person at the same PSP.
    public var samePerson: Bool

    public init(
        method: Method, channel: Channel, initiator: Initiator = .payer, recurring: Bool = false,
        mandateRef: RequestID? = nil, anonymousPrepaid: Bool = false, secureCorporate: Bool = false,
        samePerson: Bool = false
    ) {
        self.method = method
        self.channel = channel
        self.initiator = initiator
        self.recurring = recurring
        self.mandateRef = mandateRef
        self.anonymousPrepaid = anonymousPrepaid
        self.secureCorporate = secureCorporate
        self.samePerson = samePerson
    }

    /// Initiated by the payer, directly or through a PISP (the payer authenticates).
    public var isPayerInitiated: Bool { initiator == .payer || initiator == .pisp }
}

/// The PSP's real-time risk analysis of one payment (RTS Art. 18).
public struct RiskAssessment: Sendable, Equatable {
    /// 0 = no risk, 1 = certain fraud; `nil` when no score was computed.
    public var score: Double?
    /// Art. 18(2)(c) signals present: abnormal spending, unknown device, malware,
    /// known fraud scenario, abnormal or high-risk location. Any signal blocks TRA.
    public var signals: [String]

    public init(score: Double?, signals: [String] = []) {
        self.score = score
        self.signals = signals
    }

    /// The signal codes of RTS Art. 18(2)(c) that the documentation lists.
    public static let documentedSignals = [
        "abnormal_spending", "unknown_device", "malware", "known_fraud_scenario",
        "abnormal_location", "high_risk_location",
    ]
}
