import Testing

@testable import SCARules

// Small builders for the rules-core tests: fixed instants, money, the two regimes and
// requests with the defaults of the decision contract's example (payer "anna" at a Polish
// PSP, instrument "card-1", payee PSP in the same regime, a remote card payment).

// MARK: Instants

/// The day of the worked example (SCA-RULES §8), 08:00 UTC.
let t0 = instant("2026-11-21T08:00:00Z")

func instant(_ text: String) -> Instant {
    guard let value = Instant(rfc3339: text) else { preconditionFailure("bad instant \(text)") }
    return value
}

extension Instant.Duration {
    static func hours(_ hours: Int64) -> Instant.Duration { .minutes(hours * 60) }

    static func + (lhs: Instant.Duration, rhs: Instant.Duration) -> Instant.Duration {
        Instant.Duration(milliseconds: lhs.milliseconds + rhs.milliseconds)
    }
}

extension Instant {
    static func - (lhs: Instant, rhs: Instant.Duration) -> Instant {
        Instant(millisecondsSinceEpoch: lhs.millisecondsSinceEpoch - rhs.milliseconds)
    }
}

// MARK: Money

func money(_ value: String, _ code: String) -> Money {
    guard let currency = Currency(code: code), let amount = Money(decimal: value, currency: currency) else {
        preconditionFailure("bad amount \(value) \(code)")
    }
    return amount
}

func eur(_ value: String) -> Money { money(value, "EUR") }
func gbp(_ value: String) -> Money { money(value, "GBP") }

func country(_ code: String) -> CountryCode {
    guard let value = CountryCode(code) else { preconditionFailure("bad country \(code)") }
    return value
}

// MARK: Regimes

/// One regime's PSP countries, currency and the thresholds of SCA-RULES §4, written out as
/// the spec states them (not read from the engine).
struct RegimeCase: Sendable, CustomTestStringConvertible {
    let regime: Regime
    let payerPSP: String
    let payeePSP: String
    let currencyCode: String
    /// Low value (RTS Art. 16): single and cumulative limits.
    let lowValueSingleMax: String
    let lowValueTotalMax: String
    /// Contactless (RTS Art. 11): single and cumulative limits.
    let contactlessSingleMax: String
    let contactlessTotalMax: String
    /// TRA exemption threshold values of the three bands (RTS Annex).
    let traBands: [String]
    /// AIS renewal window in days (RTS Art. 10).
    let aisWindowDays: Int64

    var testDescription: String { regime.rawValue }

    func amount(_ value: String) -> Money { money(value, currencyCode) }

    /// Zero in the regime's currency (counters just reset).
    var zero: Money { .zero(regime.currency) }

    /// An RTS article as a decision under this regime states it ("UK-RTS Art. 16").
    func rts(_ article: String) -> String { (regime == .uk ? "UK-RTS Art. " : "RTS Art. ") + article }

    /// The other PSP country of the regime, to vary the payee side.
    var otherPSP: String { regime == .uk ? "GI" : "DE" }

    static let eea = RegimeCase(
        regime: .eea, payerPSP: "PL", payeePSP: "PL", currencyCode: "EUR",
        lowValueSingleMax: "30.00", lowValueTotalMax: "100.00",
        contactlessSingleMax: "50.00", contactlessTotalMax: "150.00",
        traBands: ["100.00", "250.00", "500.00"], aisWindowDays: 180
    )

    static let uk = RegimeCase(
        regime: .uk, payerPSP: "GB", payeePSP: "GB", currencyCode: "GBP",
        lowValueSingleMax: "25.00", lowValueTotalMax: "85.00",
        contactlessSingleMax: "100.00", contactlessTotalMax: "300.00",
        traBands: ["85.00", "220.00", "440.00"], aisWindowDays: 90
    )

    static let both: [RegimeCase] = [.eea, .uk]
}

/// Adds one minor unit (0.01) to a two-digit decimal string: "30.00" → "30.01".
func plusCent(_ value: String) -> String {
    let parts = value.split(separator: ".")
    let cents = Int(parts[0])! * 100 + (parts.count > 1 ? Int(parts[1])! : 0) + 1
    let fraction = cents % 100
    return "\(cents / 100)." + (fraction < 10 ? "0" : "") + "\(fraction)"
}

// MARK: Requests

/// A payment request (SCA-RULES §2, `payment`) with the contract example's defaults.
func payment(
    _ amount: String = "10.00", _ currencyCode: String? = nil, in regime: RegimeCase = .eea,
    id: String? = nil, at: Instant = t0, payer: String = "anna", payerPSP: String? = nil,
    instrument: String? = "card-1", consumer: Bool = true, payee: String? = "shop", payeePSP: String? = nil,
    method: PaymentDetails.Method = .card, channel: PaymentDetails.Channel = .remote,
    initiator: PaymentDetails.Initiator = .payer, recurring: Bool = false, mandateRef: String? = nil,
    anonymousPrepaid: Bool = false, secureCorporate: Bool = false, samePerson: Bool = false,
    risk: RiskAssessment? = nil, requested: Exemption? = nil, sca: SCAResult? = .passed
) -> DecisionRequest {
    DecisionRequest(
        id: id.map(RequestID.init), at: at, action: .payment,
        payer: Payer(
            id: PayerID(payer), pspCountry: country(payerPSP ?? regime.payerPSP),
            instrument: instrument.map(InstrumentID.init), consumer: consumer
        ),
        payee: Payee(id: payee.map(PayeeID.init), pspCountry: country(payeePSP ?? regime.payeePSP)),
        amount: money(amount, currencyCode ?? regime.currencyCode),
        payment: PaymentDetails(
            method: method, channel: channel, initiator: initiator, recurring: recurring,
            mandateRef: mandateRef.map(RequestID.init), anonymousPrepaid: anonymousPrepaid,
            secureCorporate: secureCorporate, samePerson: samePerson
        ),
        risk: risk, requestedExemption: requested, sca: sca
    )
}

/// Any non-payment action of SCA-RULES §2.
func request(
    _ action: Action, in regime: RegimeCase = .eea, id: String? = nil, at: Instant = t0, payer: String = "anna",
    payerPSP: String? = nil, instrument: String? = "card-1", payee: String? = nil, payeePSP: String? = nil,
    consent: String? = nil, customerPresent: Bool = true, sca: SCAResult? = .passed
) -> DecisionRequest {
    DecisionRequest(
        id: id.map(RequestID.init), at: at, action: action,
        payer: Payer(
            id: PayerID(payer), pspCountry: country(payerPSP ?? regime.payerPSP),
            instrument: instrument.map(InstrumentID.init)
        ),
        payee: payee.map { Payee(id: PayeeID($0), pspCountry: payeePSP.map(country)) },
        consent: consent.map(ConsentID.init), customerPresent: customerPresent, sca: sca
    )
}

func login(in regime: RegimeCase = .eea, at: Instant = t0, payer: String = "anna", sca: SCAResult? = .passed)
    -> DecisionRequest
{
    request(.login, in: regime, at: at, payer: payer, instrument: nil, sca: sca)
}

func aisAccess(
    in regime: RegimeCase = .eea, at: Instant, payer: String = "anna", consent: String = "consent-1",
    customerPresent: Bool, instrument: String? = nil, sca: SCAResult? = .passed
) -> DecisionRequest {
    request(
        .aisAccess, in: regime, at: at, payer: payer, instrument: instrument, consent: consent,
        customerPresent: customerPresent, sca: sca
    )
}

func lowRisk(_ score: Double = 0.05) -> RiskAssessment { RiskAssessment(score: score) }

// MARK: Engine and state

/// An engine and its in-memory state: the replay loop of `sca decide`.
struct Harness {
    let engine: RulesEngine
    var state = InMemoryState()

    init(_ configure: (inout RulesConfiguration) -> Void = { _ in }) {
        var configuration = RulesConfiguration()
        configure(&configuration)
        engine = RulesEngine(configuration: configuration)
    }

    @discardableResult
    mutating func decide(_ request: DecisionRequest) -> Decision {
        engine.decide(request, state: &state)
    }

    /// Decides every request in turn and returns the decisions.
    @discardableResult
    mutating func decide(_ requests: [DecisionRequest]) -> [Decision] {
        requests.map { decide($0) }
    }

    func counters(payer: String = "anna", instrument: String = "card-1") -> InstrumentCounters? {
        state.counters[InstrumentKey(payer: PayerID(payer), instrument: InstrumentID(instrument))]
    }
}

// MARK: Expectations

/// Checks outcome, reason and (when given) the citation text of a decision.
func expect(
    _ decision: Decision, _ outcome: Outcome, _ reason: Reason, citation: String? = nil,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(decision.outcome == outcome, "outcome", sourceLocation: sourceLocation)
    #expect(decision.reason == reason, "reason", sourceLocation: sourceLocation)
    if let citation {
        #expect(decision.citationText == citation, "citation", sourceLocation: sourceLocation)
    }
}

extension Decision {
    /// Why `exemption` did not fit, if the decision lists it.
    func why(_ exemption: Exemption) -> WhyNotApplied? {
        notApplied.first { $0.exemption == exemption }?.why
    }
}
