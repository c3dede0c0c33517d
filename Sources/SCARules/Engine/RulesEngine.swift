/// The SCA rules engine: a pure function from a request, the prior state and the
/// configuration to a decision and the state changes it implies.
///
/// No clock, no I/O, no randomness: the same inputs always give the same decision.
public struct RulesEngine: Sendable {
    public let configuration: RulesConfiguration
    /// Tables derived from the configuration once, so that no decision hashes a key:
    /// the highest open TRA band threshold per regime and payment type...
    private let traThresholdTable: [Money?]
    /// ...the AIS window per regime...
    private let aisWindowTable: [Instant.Duration]
    /// ...which exemptions the configured order enables, one bit each...
    private let enabledExemptions: UInt32
    /// ...and the reference rates as a short list (a linear scan beats hashing).
    private let rateTable: [RateEntry]

    private struct RateEntry {
        let currency: Currency
        let perEuro: ExactDecimal
    }

    public init(configuration: RulesConfiguration = RulesConfiguration()) {
        self.configuration = configuration
        var thresholds: [Money?] = []
        for regime in Regime.allCases {
            for type in TRAPaymentType.allCases {
                let status = TRABandStatus(
                    type: type, monitoredRate: configuration.monitoredFraudRate[type],
                    quarterlyRates: configuration.quarterlyFraudRates[type] ?? [],
                    suspension: configuration.traBandSuspension
                )
                thresholds.append(status.highestOpenThreshold(in: regime.limits))
            }
        }
        traThresholdTable = thresholds
        aisWindowTable = Regime.allCases.map { .days(configuration.aisWindowDays[$0] ?? 0) }
        enabledExemptions = configuration.exemptionOrder.reduce(0) { $0 | $1.bit }
        rateTable = configuration.referenceRates.perEuro.map { RateEntry(currency: $0.key, perEuro: $0.value) }
            .sorted { $0.currency.code < $1.currency.code }
    }

    /// The highest TRA band threshold open for this regime and payment type, if any.
    func traThreshold(_ regime: Regime, _ type: TRAPaymentType) -> Money? {
        traThresholdTable[regime.tableIndex * TRAPaymentType.allCases.count + type.tableIndex]
    }

    func aisWindow(_ regime: Regime) -> Instant.Duration { aisWindowTable[regime.tableIndex] }

    func isEnabled(_ exemption: Exemption) -> Bool { enabledExemptions & exemption.bit != 0 }

    public func decide(_ request: DecisionRequest, prior: PriorState) -> Decided {
        var decided: Decided
        switch request.action {
        case .login:
            decided = decideLogin(request, prior)
        case .payment:
            decided = decidePayment(request, prior)
        case .addBeneficiary, .trustBeneficiary, .sensitiveAction, .storeCredential:
            decided = decideAlwaysRequired(request, prior)
        case .aisAccess:
            decided = decideAccountAccess(request, prior)
        }
        // Read the outcome first: passing `decided.decision` while assigning into `decided`
        // would copy the whole decision.
        let outcome = decided.decision.outcome
        let inRegime = decided.decision.regime != nil
        decided.effects.session = session(after: request, prior: prior, outcome: outcome, inRegime: inRegime)
        return decided
    }

    // MARK: Sessions (RTS Art. 4(3)(d))

    /// A session is live while its last activity is less than `sessionIdleMax` ago.
    func isLive(_ session: Session, at instant: Instant) -> Bool {
        instant - session.lastActivity < configuration.sessionIdleMax
    }

    /// A passed SCA on a login starts a session; any decided request of the payer keeps a
    /// live session alive; an idle session is never revived.
    private func session(after request: DecisionRequest, prior: PriorState, outcome: Outcome, inRegime: Bool) -> Session? {
        if request.action == .login, outcome == .scaRequired, inRegime, request.sca == .passed {
            return Session(lastActivity: request.at)
        }
        if let session = prior.session, isLive(session, at: request.at) {
            return Session(lastActivity: max(session.lastActivity, request.at))
        }
        return nil
    }

    // MARK: Building answers

    func answer(
        _ request: DecisionRequest, _ outcome: Outcome, _ reason: Reason, _ citation: Citation,
        regime: Regime?, amount: Money?, notApplied: NotAppliedList = [], counters: Counters = Counters(),
        effects: consuming StateEffects = StateEffects()
    ) -> Decided {
        Decided(
            decision: Decision(
                requestID: request.id, outcome: outcome, reason: reason, citation: citation, regime: regime,
                amountInRegimeCurrency: amount, notApplied: notApplied, counters: counters
            ),
            effects: effects
        )
    }

    /// The request's amount in the regime's currency; validation has checked the currency.
    func amountInRegime(_ request: DecisionRequest, _ regime: Regime) -> Money? {
        guard let amount = request.amount else { return nil }
        guard let converted = convert(amount, to: regime.currency) else {
            preconditionFailure("currency \(amount.currency) passed validation but has no reference rate")
        }
        return converted
    }

    /// `ReferenceRates.convert`, reading rates from the engine's short list.
    private func convert(_ amount: Money, to target: Currency) -> Money? {
        if amount.currency == target { return amount }
        var from: ExactDecimal?
        var to: ExactDecimal?
        for index in rateTable.indices {
            let currency = rateTable[index].currency
            if currency == amount.currency { from = rateTable[index].perEuro }
            if currency == target { to = rateTable[index].perEuro }
            if from != nil && to != nil { break }
        }
        guard let from, let to else { return nil }
        return ReferenceRates.convert(amount, to: target, from: from, to: to)
    }

    /// The instrument's counters as they stand at `instant` under `regime`: zero when
    /// there are none yet, and the low-value run restarted once its 24 hours are over when
    /// configured (like every window of §4b, open while `at ≤ start + 24 h`).
    func currentCounters(_ prior: PriorState, regime: Regime, at instant: Instant) -> InstrumentCounters {
        guard var counters = prior.counters, counters.regime == regime else { return .zero(regime) }
        if configuration.lowValueResetAfter24Hours, let since = counters.lowValueSince, instant > since + .days(1) {
            counters.lowValueCount = 0
            counters.lowValueTotal = .zero(regime.currency)
            counters.lowValueSince = nil
        }
        return counters
    }

    /// A passed SCA on a request naming an instrument resets both its counters.
    func resetCounters(_ request: DecisionRequest, _ regime: Regime, into effects: inout StateEffects) {
        if request.payer.instrument != nil { effects.counters = .zero(regime) }
    }

    /// The counters a decision shows: the remote ones for remote payments, the contactless
    /// ones for contactless payments, both otherwise; none without an instrument.
    func view(_ counters: InstrumentCounters?, _ request: DecisionRequest) -> Counters {
        guard let counters, request.payer.instrument != nil else { return Counters() }
        var view = Counters()
        let channel = request.payment?.channel
        if channel != .contactless {
            view.lowValueCount = counters.lowValueCount
            view.lowValueTotal = counters.lowValueTotal
        }
        if channel != .remote {
            view.contactlessCount = counters.contactlessCount
            view.contactlessTotal = counters.contactlessTotal
        }
        return view
    }
}
