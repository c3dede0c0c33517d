/// All rules state held in memory: the store of `sca decide` and of tests.
///
/// Memory grows with the number of distinct payers, instruments, consents, series and
/// payees trusted, never with the number of requests: mandates are kept per payer up to
/// `RulesConfiguration.mandatesPerPayerMax` (stored credentials, recurring first payments)
/// and `paymentMandatesPerPayerMax` (other authenticated payments), oldest forgotten first.
public struct InMemoryState: Sendable {
    public private(set) var sessions: [PayerID: Session] = [:]
    public private(set) var counters: [InstrumentKey: InstrumentCounters] = [:]
    public private(set) var series: Set<SeriesKey> = []
    public private(set) var trusted: [PayerID: Set<PayeeID>] = [:]
    public private(set) var consents: [ConsentKey: Consent] = [:]
    public private(set) var mandates: [RequestID: Mandate] = [:]
    /// Per payer and kind of mandate, the ids in the order they were recorded.
    private var mandateOrder: [MandateQueue: [RequestID]] = [:]

    private struct MandateQueue: Hashable {
        let payer: PayerID
        let setUpForLaterCharges: Bool
    }

    public init() {}

    public func prior(for request: DecisionRequest) -> PriorState {
        var prior = PriorState()
        prior.session = sessions[request.payer.id]
        if let instrument = request.payer.instrument {
            prior.counters = counters[InstrumentKey(payer: request.payer.id, instrument: instrument)]
        }
        if let key = request.seriesKey { prior.seriesEstablished = series.contains(key) }
        if let payee = request.payee?.id { prior.payeeTrusted = trusted[request.payer.id]?.contains(payee) ?? false }
        if let consent = request.consent {
            prior.consent = consents[ConsentKey(payer: request.payer.id, consent: consent)]
        }
        if let reference = request.payment?.mandateRef { prior.mandate = mandates[reference] }
        return prior
    }

    public mutating func apply(_ effects: StateEffects, of request: DecisionRequest, configuration: RulesConfiguration) {
        let payer = request.payer.id
        if let session = effects.session { sessions[payer] = session }
        if let newCounters = effects.counters, let instrument = request.payer.instrument {
            counters[InstrumentKey(payer: payer, instrument: instrument)] = newCounters
        }
        if let key = effects.establishSeries { series.insert(key) }
        if let payee = effects.trustPayee { trusted[payer, default: []].insert(payee) }
        if let consent = effects.consent, let id = request.consent {
            consents[ConsentKey(payer: payer, consent: id)] = consent
        }
        if let mandate = effects.mandate, let id = request.id {
            let setUp = mandate.origin != .payment
            remember(
                mandate, as: id, in: MandateQueue(payer: mandate.payer, setUpForLaterCharges: setUp),
                limit: setUp ? configuration.mandatesPerPayerMax : configuration.paymentMandatesPerPayerMax
            )
        }
    }

    private mutating func remember(_ mandate: Mandate, as id: RequestID, in queue: MandateQueue, limit: Int) {
        precondition(limit > 0)
        if let previous = mandates[id] {
            let previousQueue = MandateQueue(payer: previous.payer, setUpForLaterCharges: previous.origin != .payment)
            mandateOrder[previousQueue]?.removeAll { $0 == id }
        }
        mandates[id] = mandate
        mandateOrder[queue, default: []].append(id)
        if mandateOrder[queue]!.count > limit, let forgotten = mandateOrder[queue]?.removeFirst() {
            mandates[forgotten] = nil
        }
    }
}

extension RulesEngine {
    /// Decides `request` against `state` and applies its effects: the replay loop.
    public func decide(_ request: DecisionRequest, state: inout InMemoryState) -> Decision {
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
