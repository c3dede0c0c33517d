/// All rules state held in memory: the store of `sca decide` and of tests.
///
/// Grouped by payer, so a request costs one hash of its payer plus small lookups in that
/// payer's own tables. Memory grows with the number of distinct payers, instruments,
/// consents, series and payees trusted, never with the number of requests: mandates are
/// kept per payer up to `RulesConfiguration.mandatesPerPayerMax` (stored credentials,
/// recurring first payments) and `paymentMandatesPerPayerMax` (other authenticated
/// payments), oldest forgotten first.
///
/// A reference type, like any store: each payer's tables live in one object, read and
/// changed in place (copying a payer's tables out of the dictionary for every request
/// cost most of a decision's time).
public final class InMemoryState {
    final class PayerState {
        var session: Session?
        var instruments: [InstrumentID: InstrumentCounters] = [:]
        var series: Set<SeriesKey> = []
        var trusted: Set<PayeeID> = []
        var consents: [ConsentID: Consent] = [:]
        var mandates: [RequestID: Mandate] = [:]
        /// Mandate ids in the order recorded: set up for later charges, and other payments.
        var setUpMandateOrder: [RequestID] = []
        var paymentMandateOrder: [RequestID] = []
    }

    private var payers: [PayerID: PayerState] = [:]

    public init() {}

    /// How many payers the state knows.
    public var payerCount: Int { payers.count }

    // MARK: Flat views, for inspection and tests (each walks the whole state)

    public var sessions: [PayerID: Session] { payers.compactMapValues(\.session) }

    public var counters: [InstrumentKey: InstrumentCounters] {
        var all: [InstrumentKey: InstrumentCounters] = [:]
        for (payer, state) in payers {
            for (instrument, counters) in state.instruments {
                all[InstrumentKey(payer: payer, instrument: instrument)] = counters
            }
        }
        return all
    }

    public var series: Set<SeriesKey> { payers.values.reduce(into: []) { $0.formUnion($1.series) } }

    public var trusted: [PayerID: Set<PayeeID>] { payers.compactMapValues { $0.trusted.isEmpty ? nil : $0.trusted } }

    public var consents: [ConsentKey: Consent] {
        var all: [ConsentKey: Consent] = [:]
        for (payer, state) in payers {
            for (consent, value) in state.consents { all[ConsentKey(payer: payer, consent: consent)] = value }
        }
        return all
    }

    /// Every mandate, by the id of the request that created it (ids of different payers
    /// may repeat; a mandate is only ever looked up within its payer).
    public var mandates: [RequestID: Mandate] {
        var all: [RequestID: Mandate] = [:]
        for state in payers.values { all.merge(state.mandates) { first, _ in first } }
        return all
    }

    public func prior(for request: DecisionRequest) -> PriorState {
        var prior = PriorState()
        guard let payer = payers[request.payer.id] else { return prior }
        prior.session = payer.session
        if let instrument = request.payer.instrument { prior.counters = payer.instruments[instrument] }
        if let key = request.seriesKey { prior.seriesEstablished = payer.series.contains(key) }
        if let payee = request.payee?.id { prior.payeeTrusted = payer.trusted.contains(payee) }
        if let consent = request.consent { prior.consent = payer.consents[consent] }
        if let reference = request.payment?.mandateRef { prior.mandate = payer.mandates[reference] }
        return prior
    }

    public func apply(_ effects: StateEffects, of request: DecisionRequest, configuration: RulesConfiguration) {
        guard !effects.isEmpty else { return }
        let payer: PayerState
        if let known = payers[request.payer.id] {
            payer = known
        } else {
            payer = PayerState()
            payers[request.payer.id] = payer
        }
        if let session = effects.session { payer.session = session }
        if let counters = effects.counters, let instrument = request.payer.instrument {
            payer.instruments[instrument] = counters
        }
        if let key = effects.establishSeries { payer.series.insert(key) }
        if let payee = effects.trustPayee { payer.trusted.insert(payee) }
        if let consent = effects.consent, let id = request.consent { payer.consents[id] = consent }
        if let mandate = effects.mandate, let id = request.id {
            precondition(mandate.payer == request.payer.id, "a mandate belongs to the payer that authenticated it")
            if payer.mandates.updateValue(mandate, forKey: id) != nil {
                payer.setUpMandateOrder.removeAll { $0 == id }
                payer.paymentMandateOrder.removeAll { $0 == id }
            }
            if mandate.origin == .payment {
                Self.remember(id, in: &payer.paymentMandateOrder, limit: configuration.paymentMandatesPerPayerMax, &payer.mandates)
            } else {
                Self.remember(id, in: &payer.setUpMandateOrder, limit: configuration.mandatesPerPayerMax, &payer.mandates)
            }
        }
    }

    private static func remember(
        _ id: RequestID, in order: inout [RequestID], limit: Int, _ mandates: inout [RequestID: Mandate]
    ) {
        precondition(limit > 0)
        order.append(id)
        if order.count > limit { mandates[order.removeFirst()] = nil }
    }
}

extension RulesEngine {
    /// Decides `request` against `state` and applies its effects: the replay loop.
    public func decide(_ request: DecisionRequest, state: InMemoryState) -> Decision {
        let decided = decide(request, prior: state.prior(for: request))
        state.apply(decided.effects, of: request, configuration: configuration)
        return decided.decision
    }
}

extension DecisionRequest {
    /// The recurring series this payment would belong to.
    public var seriesKey: SeriesKey? {
        guard action == .payment, payment?.recurring == true, let payee = payee?.id, let amount else { return nil }
        return SeriesKey(payer: payer.id, payee: payee, amount: amount)
    }
}
