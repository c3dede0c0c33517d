extension RulesEngine {
    /// `payment` (PSD2 Art. 97(1)(b)). The checks run in the order of SCA-RULES §3:
    /// one leg out → MOTO → direct debit → anonymous prepaid → merchant-initiated, then the
    /// first payment of a recurring series, then the exemptions of §4.
    func decidePayment(_ request: DecisionRequest, _ prior: PriorState) -> Decided {
        guard let payment = request.payment, request.amount != nil, let payeeCountry = request.payee?.pspCountry else {
            preconditionFailure("validation lets no payment through without details, amount and payee PSP")
        }
        guard let regime = Regime(payerPSP: request.payer.pspCountry, payeePSP: payeeCountry) else {
            return answer(request, .outOfScope, .oneLegOut, .psd2Art97, regime: nil, amount: nil)
        }
        let amount = amountInRegime(request, regime)!
        let counters = currentCounters(prior, regime: regime, at: request.at)
        func outOfScope(_ reason: Reason) -> Decided {
            answer(request, .outOfScope, reason, .psd2Art97, regime: regime, amount: amount, counters: view(counters, request))
        }

        if payment.channel == .moto { return outOfScope(.moto) }
        if payment.method == .directDebit { return outOfScope(.directDebit) }
        if payment.anonymousPrepaid { return outOfScope(.anonymousPrepaid) }
        if !payment.isPayerInitiated {
            if let mandate = prior.mandate, mandate.payer == request.payer.id,
                mandate.payee == nil || mandate.payee == request.payee?.id
            {
                return outOfScope(.merchantInitiated)
            }
            return answer(
                request, .refused, .mitWithoutMandate, .psd2Art97, regime: regime, amount: amount,
                counters: view(counters, request)
            )
        }

        let context = PaymentContext(
            payment: payment, regime: regime, amount: amount, counters: counters,
            instrumentNamed: request.payer.instrument != nil, consumer: request.payer.consumer,
            payeeTrusted: prior.payeeTrusted, seriesEstablished: prior.seriesEstablished,
            riskScore: request.risk?.score, riskSignalPresent: !(request.risk?.signals.isEmpty ?? true)
        )
        // RTS Art. 14: the payment that creates a series needs SCA even if another
        // exemption would fit.
        if payment.recurring && !prior.seriesEstablished {
            return scaRequired(request, context, .recurringFirst, .rtsArt14, [NotApplied(.recurring, .seriesNotEstablished)])
        }

        var notApplied = NotAppliedList()
        func attempt(_ exemption: Exemption) -> Bool {
            guard isEnabled(exemption) else {
                notApplied.append(NotApplied(exemption, .exemptionDisabled))
                return false
            }
            if let why = whyNotApplicable(exemption, context) {
                notApplied.append(NotApplied(exemption, why))
                return false
            }
            return true
        }
        var applied: Exemption?
        if let requested = request.requestedExemption, attempt(requested) { applied = requested }
        if applied == nil {
            for exemption in configuration.exemptionOrder
            where exemption != request.requestedExemption && isCandidate(exemption, context) {
                if attempt(exemption) {
                    applied = exemption
                    break
                }
            }
        }
        guard let applied else { return scaRequired(request, context, .noExemption, .psd2Art97_1b, notApplied) }

        var effects = StateEffects()
        effects.counters = counted(request, context)
        return answer(
            request, .exempt, applied.reason, applied.citation, regime: regime, amount: amount,
            notApplied: notApplied, counters: view(effects.counters ?? counters, request), effects: effects
        )
    }

    /// A payment that needs SCA. When it passed, the instrument's counters reset, the
    /// series is established and the payment becomes a mandate for later MITs.
    private func scaRequired(
        _ request: DecisionRequest, _ context: PaymentContext, _ reason: Reason, _ citation: Citation,
        _ notApplied: NotAppliedList
    ) -> Decided {
        var effects = StateEffects()
        if request.sca == .passed {
            resetCounters(request, context.regime, into: &effects)
            effects.establishSeries = request.seriesKey
            effects.mandate = Mandate(
                payer: request.payer.id, payee: request.payee?.id,
                origin: context.payment.recurring ? .recurringPayment : .payment
            )
        }
        return answer(
            request, .scaRequired, reason, citation, regime: context.regime, amount: context.amount,
            notApplied: notApplied, counters: view(effects.counters ?? context.counters, request), effects: effects
        )
    }

    /// The counters after an exempt payment: every payer-initiated remote payment executed
    /// without SCA counts for RTS Art. 16, every contactless one for Art. 11, whichever
    /// exemption let it through.
    private func counted(_ request: DecisionRequest, _ context: PaymentContext) -> InstrumentCounters? {
        guard context.instrumentNamed else { return nil }
        var counters = context.counters
        switch context.payment.channel {
        case .remote:
            counters.lowValueCount += 1
            counters.lowValueTotal = counters.lowValueTotal + context.amount
            counters.lowValueSince = counters.lowValueSince ?? request.at
        case .contactless:
            counters.contactlessCount += 1
            counters.contactlessTotal = counters.contactlessTotal + context.amount
        case .chip, .moto, .unattendedTransport, .unattendedParking:
            return nil
        }
        return counters
    }
}

/// What the exemption rules look at for one payment: plain values only, so building it
/// copies bytes, not the request's strings.
struct PaymentContext {
    let payment: PaymentFacts
    let regime: Regime
    /// The amount in the regime's currency.
    let amount: Money
    /// The instrument's counters before this payment.
    let counters: InstrumentCounters
    let instrumentNamed: Bool
    let consumer: Bool
    let payeeTrusted: Bool
    let seriesEstablished: Bool
    let riskScore: Double?
    let riskSignalPresent: Bool

    init(
        payment: PaymentDetails, regime: Regime, amount: Money, counters: InstrumentCounters, instrumentNamed: Bool,
        consumer: Bool, payeeTrusted: Bool, seriesEstablished: Bool, riskScore: Double?, riskSignalPresent: Bool
    ) {
        self.payment = PaymentFacts(
            method: payment.method, channel: payment.channel, recurring: payment.recurring,
            secureCorporate: payment.secureCorporate, samePerson: payment.samePerson
        )
        self.regime = regime
        self.amount = amount
        self.counters = counters
        self.instrumentNamed = instrumentNamed
        self.consumer = consumer
        self.payeeTrusted = payeeTrusted
        self.seriesEstablished = seriesEstablished
        self.riskScore = riskScore
        self.riskSignalPresent = riskSignalPresent
    }

    var limits: RegimeLimits { regime.limits }
}

/// The parts of `PaymentDetails` the exemptions read.
struct PaymentFacts {
    let method: PaymentDetails.Method
    let channel: PaymentDetails.Channel
    let recurring: Bool
    let secureCorporate: Bool
    let samePerson: Bool
}
