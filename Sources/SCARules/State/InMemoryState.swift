/// All rules state held in memory: the store of `sca decide` and of tests.
///
/// Each payer's tables are one struct in a contiguous array, found through one hash of
/// the payer id and changed in place; the few instruments and consents a payer has are
/// small lists searched linearly (cheaper than hashing). Memory grows with the number of
/// distinct payers, instruments, consents, series and payees trusted, never with the number
/// of requests: mandates are kept per payer up to `RulesConfiguration.mandatesPerPayerMax`
/// (stored credentials, recurring first payments) and `paymentMandatesPerPayerMax` (other
/// authenticated payments), oldest forgotten first.
public struct InMemoryState: Sendable {
    struct PayerState: Sendable {
        var session: Session?
        var instruments: [InstrumentEntry] = []
        var series: Set<SeriesKey> = []
        var trusted: Set<PayeeID> = []
        var consents: [ConsentEntry] = []
        /// Mandates set up for later charges (stored credentials, recurring first payments)
        /// and other authenticated payments, each in a ring that forgets the oldest.
        var setUpMandates = MandateRing()
        var paymentMandates = MandateRing()

        func mandate(_ id: RequestID) -> Mandate? {
            paymentMandates.newest(id) ?? setUpMandates.newest(id)
        }

        func counters(_ instrument: InstrumentID) -> InstrumentCounters? {
            for index in instruments.indices where instruments[index].instrument == instrument {
                return instruments[index].counters
            }
            return nil
        }

        func consent(_ id: ConsentID) -> Consent? {
            for index in consents.indices where consents[index].consent == id { return consents[index].value }
            return nil
        }

        mutating func setCounters(_ counters: InstrumentCounters, for instrument: InstrumentID) {
            if let at = instruments.firstIndex(where: { $0.instrument == instrument }) {
                instruments[at].counters = counters
            } else {
                instruments.append(InstrumentEntry(instrument: instrument, counters: counters))
            }
        }

        mutating func setConsent(_ consent: Consent, for id: ConsentID) {
            if let at = consents.firstIndex(where: { $0.consent == id }) {
                consents[at].value = consent
            } else {
                consents.append(ConsentEntry(consent: id, value: consent))
            }
        }

        mutating func record(_ mandate: Mandate, as id: RequestID, configuration: RulesConfiguration) {
            if mandate.origin == .payment {
                paymentMandates.record(mandate, as: id, limit: configuration.paymentMandatesPerPayerMax)
            } else {
                setUpMandates.record(mandate, as: id, limit: configuration.mandatesPerPayerMax)
            }
        }
    }

    struct InstrumentEntry: Sendable {
        let instrument: InstrumentID
        var counters: InstrumentCounters
    }

    struct ConsentEntry: Sendable {
        let consent: ConsentID
        var value: Consent
    }

    /// A fixed-size ring of mandates: recording one writes one slot; a lookup (only for
    /// merchant-initiated payments) scans newest first, so a reused id finds its latest.
    struct MandateRing: Sendable {
        private var entries: [(id: RequestID, mandate: Mandate)] = []
        private var next = 0

        mutating func record(_ mandate: Mandate, as id: RequestID, limit: Int) {
            precondition(limit > 0)
            if entries.count < limit {
                entries.append((id, mandate))
                next = entries.count
            } else {
                if next >= entries.count { next = 0 }
                entries[next] = (id, mandate)
                next += 1
            }
        }

        /// `next` is one past the newest entry; newer entries come before it, then wrap.
        func newest(_ id: RequestID) -> Mandate? {
            for index in stride(from: next - 1, through: 0, by: -1) where entries[index].id == id {
                return entries[index].mandate
            }
            for index in stride(from: entries.count - 1, through: next, by: -1) where entries[index].id == id {
                return entries[index].mandate
            }
            return nil
        }

        var all: [(id: RequestID, mandate: Mandate)] { entries }
    }

    private var index: [PayerID: Int] = [:]
    private var payers: [PayerState] = []

    public init() {}

    /// How many payers the state knows.
    public var payerCount: Int { payers.count }

    public func prior(for request: DecisionRequest) -> PriorState {
        prior(for: request, slot: index[request.payer.id])
    }

    public mutating func apply(_ effects: StateEffects, of request: DecisionRequest, configuration: RulesConfiguration) {
        apply(effects, of: request, configuration: configuration, slot: index[request.payer.id])
    }

    /// Decides and applies with one lookup of the payer: the replay loop's hot path.
    mutating func decide(_ request: DecisionRequest, with engine: RulesEngine) -> Decision {
        let slot = index[request.payer.id]
        let (decision, effects) = engine.decide(request, prior: prior(for: request, slot: slot)).parts()
        apply(effects, of: request, configuration: engine.configuration, slot: slot)
        return decision
    }

    private func prior(for request: DecisionRequest, slot: Int?) -> PriorState {
        guard let slot else { return PriorState() }
        // Built once from locals: assigning field by field copied the whole value twice.
        var counters: InstrumentCounters?
        if let instrument = request.payer.instrument { counters = payers[slot].counters(instrument) }
        var seriesEstablished = false
        if !payers[slot].series.isEmpty, let key = request.seriesKey {
            seriesEstablished = payers[slot].series.contains(key)
        }
        var payeeTrusted = false
        if request.action == .payment, !payers[slot].trusted.isEmpty, let payee = request.payee?.id {
            payeeTrusted = payers[slot].trusted.contains(payee)
        }
        var consent: Consent?
        if let id = request.consent { consent = payers[slot].consent(id) }
        var mandate: Mandate?
        if let reference = request.payment?.mandateRef { mandate = payers[slot].mandate(reference) }
        return PriorState(
            session: payers[slot].session, counters: counters, seriesEstablished: seriesEstablished,
            payeeTrusted: payeeTrusted, consent: consent, mandate: mandate
        )
    }

    private mutating func apply(
        _ effects: StateEffects, of request: DecisionRequest, configuration: RulesConfiguration, slot known: Int?
    ) {
        guard !effects.isEmpty else { return }
        let slot: Int
        if let known {
            slot = known
        } else {
            slot = payers.count
            payers.append(PayerState())
            index[request.payer.id] = slot
        }
        Self.apply(effects, of: request, configuration: configuration, to: &payers[slot])
    }

    private static func apply(
        _ effects: StateEffects, of request: DecisionRequest, configuration: RulesConfiguration,
        to payer: inout PayerState
    ) {
        if let session = effects.session { payer.session = session }
        if let counters = effects.counters, let instrument = request.payer.instrument {
            payer.setCounters(counters, for: instrument)
        }
        if let key = effects.establishSeries { payer.series.insert(key) }
        if let payee = effects.trustPayee { payer.trusted.insert(payee) }
        if let consent = effects.consent, let id = request.consent { payer.setConsent(consent, for: id) }
        if let mandate = effects.mandate, let id = request.id {
            precondition(mandate.payer == request.payer.id, "a mandate belongs to the payer that authenticated it")
            payer.record(mandate, as: id, configuration: configuration)
        }
    }

    // MARK: Loading (a durable store's working set: rows read for one batch, then decided on)

    private mutating func slot(of payer: PayerID) -> Int {
        if let slot = index[payer] { return slot }
        payers.append(PayerState())
        index[payer] = payers.count - 1
        return payers.count - 1
    }

    public mutating func load(session: Session, of payer: PayerID) { payers[slot(of: payer)].session = session }

    public mutating func load(_ counters: InstrumentCounters, for key: InstrumentKey) {
        payers[slot(of: key.payer)].setCounters(counters, for: key.instrument)
    }

    public mutating func load(series key: SeriesKey) { payers[slot(of: key.payer)].series.insert(key) }

    public mutating func load(trusted payee: PayeeID, of payer: PayerID) { payers[slot(of: payer)].trusted.insert(payee) }

    public mutating func load(_ consent: Consent, for key: ConsentKey) {
        payers[slot(of: key.payer)].setConsent(consent, for: key.consent)
    }

    public mutating func load(_ mandate: Mandate, as id: RequestID, configuration: RulesConfiguration) {
        payers[slot(of: mandate.payer)].record(mandate, as: id, configuration: configuration)
    }

    /// The payer's session, if it has one.
    public func session(of payer: PayerID) -> Session? { index[payer].flatMap { payers[$0].session } }

    // MARK: Flat views, for inspection and tests (each walks the whole state)

    /// Each payer with its tables.
    private var byPayer: [(PayerID, PayerState)] { index.map { ($0.key, payers[$0.value]) } }

    public var sessions: [PayerID: Session] {
        var all: [PayerID: Session] = [:]
        for (payer, state) in byPayer { all[payer] = state.session }
        return all
    }

    public var counters: [InstrumentKey: InstrumentCounters] {
        var all: [InstrumentKey: InstrumentCounters] = [:]
        for (payer, state) in byPayer {
            for entry in state.instruments {
                all[InstrumentKey(payer: payer, instrument: entry.instrument)] = entry.counters
            }
        }
        return all
    }

    public var series: Set<SeriesKey> { payers.reduce(into: []) { $0.formUnion($1.series) } }

    public var trusted: [PayerID: Set<PayeeID>] {
        var all: [PayerID: Set<PayeeID>] = [:]
        for (payer, state) in byPayer where !state.trusted.isEmpty { all[payer] = state.trusted }
        return all
    }

    public var consents: [ConsentKey: Consent] {
        var all: [ConsentKey: Consent] = [:]
        for (payer, state) in byPayer {
            for entry in state.consents { all[ConsentKey(payer: payer, consent: entry.consent)] = entry.value }
        }
        return all
    }

    /// Every mandate, by the id of the request that created it (ids of different payers
    /// may repeat; a mandate is only ever looked up within its payer).
    public var mandates: [RequestID: Mandate] {
        var all: [RequestID: Mandate] = [:]
        for state in payers {
            for entry in state.setUpMandates.all + state.paymentMandates.all where all[entry.id] == nil {
                all[entry.id] = state.mandate(entry.id)
            }
        }
        return all
    }
}

extension RulesEngine {
    /// Decides `request` against `state` and applies its effects: the replay loop.
    public func decide(_ request: DecisionRequest, state: inout InMemoryState) -> Decision {
        state.decide(request, with: self)
    }
}

extension DecisionRequest {
    /// The recurring series this payment would belong to.
    public var seriesKey: SeriesKey? {
        guard action == .payment, payment?.recurring == true, let payee = payee?.id, let amount else { return nil }
        return SeriesKey(payer: payer.id, payee: payee, amount: amount)
    }
}
