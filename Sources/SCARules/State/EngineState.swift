/// The state the rules keep between requests (SCA-RULES §4), as plain values.
///
/// The engine reads a `PriorState` (the slices one request needs) and returns
/// `StateEffects` (their new values); a store, in memory or SQL, does the reading and the
/// writing. So two nodes can share state through any store that applies effects atomically.

/// A login session started by a passed SCA on a `login` (RTS Art. 4(3)(d)).
public struct Session: Sendable, Equatable {
    public var lastActivity: Instant
    public init(lastActivity: Instant) { self.lastActivity = lastActivity }
}

/// The counters of one payer instrument since its last SCA (RTS Art. 11 and 16), in the
/// regime's currency.
public struct InstrumentCounters: Sendable, Equatable {
    public var regime: Regime
    public var lowValueCount: Int
    public var lowValueTotal: Money
    /// When the first payment of the current low-value run was counted (24-hour reset).
    public var lowValueSince: Instant?
    public var contactlessCount: Int
    public var contactlessTotal: Money

    public init(
        regime: Regime, lowValueCount: Int = 0, lowValueTotal: Money? = nil, lowValueSince: Instant? = nil,
        contactlessCount: Int = 0, contactlessTotal: Money? = nil
    ) {
        self.regime = regime
        self.lowValueCount = lowValueCount
        self.lowValueTotal = lowValueTotal ?? .zero(regime.currency)
        self.lowValueSince = lowValueSince
        self.contactlessCount = contactlessCount
        self.contactlessTotal = contactlessTotal ?? .zero(regime.currency)
    }

    public static func zero(_ regime: Regime) -> InstrumentCounters { InstrumentCounters(regime: regime) }
}

/// An account-information consent: its last SCA and today's unattended accesses.
public struct Consent: Sendable, Equatable {
    public var lastSCA: Instant
    /// The calendar day (see `RulesConfiguration.aisDayZone`) `unattendedCount` is for.
    public var unattendedDay: Int64
    public var unattendedCount: Int

    public init(lastSCA: Instant, unattendedDay: Int64 = 0, unattendedCount: Int = 0) {
        self.lastSCA = lastSCA
        self.unattendedDay = unattendedDay
        self.unattendedCount = unattendedCount
    }
}

/// An earlier request authenticated with SCA that merchant-initiated payments may reference.
public struct Mandate: Sendable, Equatable {
    /// What created the mandate: a stored credential or the first payment of a recurring
    /// series is set up for later charges; any other payment whose SCA passed also counts
    /// (SCA-RULES §3), but stores may keep fewer of those.
    public enum Origin: String, Sendable {
        case storeCredential = "store_credential"
        case recurringPayment = "recurring_payment"
        case payment
    }

    public var payer: PayerID
    /// The payee the authenticated request named, if any; MITs must then name the same.
    public var payee: PayeeID?
    public var origin: Origin

    public init(payer: PayerID, payee: PayeeID?, origin: Origin) {
        self.payer = payer
        self.payee = payee
        self.origin = origin
    }
}

public struct InstrumentKey: Hashable, Sendable {
    public var payer: PayerID
    public var instrument: InstrumentID
    public init(payer: PayerID, instrument: InstrumentID) {
        self.payer = payer
        self.instrument = instrument
    }
}

public struct ConsentKey: Hashable, Sendable {
    public var payer: PayerID
    public var consent: ConsentID
    public init(payer: PayerID, consent: ConsentID) {
        self.payer = payer
        self.consent = consent
    }
}

/// A recurring series: same payer, same payee, same amount (RTS Art. 14).
public struct SeriesKey: Hashable, Sendable {
    public var payer: PayerID
    public var payee: PayeeID
    public var amount: Money
    public init(payer: PayerID, payee: PayeeID, amount: Money) {
        self.payer = payer
        self.payee = payee
        self.amount = amount
    }
}

/// The slices of state one request's decision depends on.
public struct PriorState: Sendable, Equatable {
    public var session: Session?
    public var counters: InstrumentCounters?
    public var seriesEstablished: Bool
    public var payeeTrusted: Bool
    public var consent: Consent?
    /// The mandate `payment.mandate_ref` points at, if it exists.
    public var mandate: Mandate?

    public init(
        session: Session? = nil, counters: InstrumentCounters? = nil, seriesEstablished: Bool = false,
        payeeTrusted: Bool = false, consent: Consent? = nil, mandate: Mandate? = nil
    ) {
        self.session = session
        self.counters = counters
        self.seriesEstablished = seriesEstablished
        self.payeeTrusted = payeeTrusted
        self.consent = consent
        self.mandate = mandate
    }
}

/// What a decision changes: new values for the request's slices; `nil` leaves one as it is.
public struct StateEffects: Sendable, Equatable {
    /// The payer's session after this request (started, or its activity moved on).
    public var session: Session?
    /// The request's instrument counters after this request.
    public var counters: InstrumentCounters?
    public var establishSeries: SeriesKey?
    public var trustPayee: PayeeID?
    /// The request's consent after this request.
    public var consent: Consent?
    /// The request, recorded as a mandate under its id.
    public var mandate: Mandate?

    public init() {}

    public var isEmpty: Bool {
        session == nil && counters == nil && establishSeries == nil && trustPayee == nil && consent == nil
            && mandate == nil
    }
}

/// A decision and the state changes it implies.
public struct Decided: Sendable, Equatable {
    public var decision: Decision
    public var effects: StateEffects

    /// Both parts, moved out without a copy.
    public consuming func parts() -> (decision: Decision, effects: StateEffects) { (decision, effects) }
}
