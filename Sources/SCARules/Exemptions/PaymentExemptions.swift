extension RulesEngine {
    /// Whether an exemption is worth trying for this kind of payment when nobody asked for
    /// it: a decision lists only candidates in `not_applied`, not every exemption there is.
    func isCandidate(_ exemption: Exemption, _ context: PaymentContext) -> Bool {
        let payment = context.payment
        switch exemption {
        case .trustedBeneficiary: return true
        case .recurring: return payment.recurring
        case .samePersonTransfer: return payment.samePerson || payment.method == .creditTransfer
        case .secureCorporate: return payment.secureCorporate || !context.consumer
        case .unattendedTerminal: return payment.channel == .unattendedTransport || payment.channel == .unattendedParking
        case .contactless: return payment.channel == .contactless
        case .lowValue, .transactionRiskAnalysis: return payment.channel == .remote
        case .accountInformation, .aisWithinWindow: return false
        }
    }

    /// `nil` when the exemption applies to this payment, else why it does not.
    func whyNotApplicable(_ exemption: Exemption, _ context: PaymentContext) -> WhyNotApplied? {
        switch exemption {
        case .trustedBeneficiary: return trustedBeneficiary(context)
        case .recurring: return recurring(context)
        case .samePersonTransfer: return samePersonTransfer(context)
        case .secureCorporate: return secureCorporate(context)
        case .unattendedTerminal: return unattendedTerminal(context)
        case .contactless: return contactless(context)
        case .lowValue: return lowValue(context)
        case .transactionRiskAnalysis: return transactionRiskAnalysis(context)
        case .accountInformation, .aisWithinWindow: return .notApplicableToAction
        }
    }

    /// RTS Art. 13: the payee is on the trusted list the payer created with SCA.
    func trustedBeneficiary(_ context: PaymentContext) -> WhyNotApplied? {
        context.payeeTrusted ? nil : .payeeNotTrusted
    }

    /// RTS Art. 14: a later payment of a series of the same amount to the same payee,
    /// created with SCA.
    func recurring(_ context: PaymentContext) -> WhyNotApplied? {
        guard context.payment.recurring else { return .notRecurring }
        return context.seriesEstablished ? nil : .seriesNotEstablished
    }

    /// RTS Art. 15: a credit transfer between two accounts of the same person at the same PSP.
    func samePersonTransfer(_ context: PaymentContext) -> WhyNotApplied? {
        guard context.payment.method == .creditTransfer else { return .notCreditTransfer }
        return context.payment.samePerson ? nil : .notSamePerson
    }

    /// RTS Art. 17: a payer that is not a consumer, using a dedicated secure corporate process.
    func secureCorporate(_ context: PaymentContext) -> WhyNotApplied? {
        guard !context.consumer else { return .payerIsConsumer }
        return context.payment.secureCorporate ? nil : .notSecureCorporateProcess
    }

    /// RTS Art. 12: an unattended terminal for transport fares or parking fees.
    func unattendedTerminal(_ context: PaymentContext) -> WhyNotApplied? {
        switch context.payment.channel {
        case .unattendedTransport, .unattendedParking: return nil
        case .remote, .contactless, .chip, .moto: return .notUnattendedTerminal
        }
    }

    /// RTS Art. 11: contactless at a point of sale, single ≤ 50 EUR (UK 100 GBP); counting
    /// this payment, since the last SCA on the card, cumulative ≤ 150 EUR (UK 300 GBP)
    /// and count ≤ 5 (by amount, count or both, as configured).
    func contactless(_ context: PaymentContext) -> WhyNotApplied? {
        guard context.payment.channel == .contactless else { return .notContactless }
        return capped(
            context, count: context.counters.contactlessCount, total: context.counters.contactlessTotal,
            singleMax: context.limits.contactlessSingleMax, totalMax: context.limits.contactlessTotalMax,
            countMax: context.limits.contactlessCountMax, counting: configuration.contactlessCounting
        )
    }

    /// RTS Art. 16: a remote payment ≤ 30 EUR (UK 25 GBP); counting this payment, since the
    /// last SCA on the instrument, count ≤ 5 and cumulative ≤ 100 EUR (UK 85 GBP), by amount,
    /// count or both as configured.
    func lowValue(_ context: PaymentContext) -> WhyNotApplied? {
        guard context.payment.channel == .remote else { return .notRemote }
        return capped(
            context, count: context.counters.lowValueCount, total: context.counters.lowValueTotal,
            singleMax: context.limits.lowValueSingleMax, totalMax: context.limits.lowValueTotalMax,
            countMax: context.limits.lowValueCountMax, counting: configuration.lowValueCounting
        )
    }

    /// The shared shape of Art. 11 and Art. 16: a single-payment limit and two caps that
    /// count this payment.
    private func capped(
        _ context: PaymentContext, count: Int, total: Money, singleMax: Money, totalMax: Money, countMax: Int,
        counting: RulesConfiguration.Counting
    ) -> WhyNotApplied? {
        guard context.instrumentNamed else { return .noInstrument }
        guard context.amount <= singleMax else { return .overSingleLimit }
        let countsByCount = counting == .both || counting == .count
        let countsByAmount = counting == .both || counting == .amount
        if countsByCount && count + 1 > countMax { return .countCap }
        if countsByAmount && total + context.amount > totalMax { return .amountCap }
        return nil
    }

    /// RTS Art. 18: a remote payment scored low-risk (score ≤ `traLowRiskScoreMax`) with no
    /// Art. 18(2)(c) signal, within the highest TRA band open at the PSP's monitored fraud
    /// rate for its type (RTS Annex); never above the highest band.
    func transactionRiskAnalysis(_ context: PaymentContext) -> WhyNotApplied? {
        guard context.payment.channel == .remote, let type = TRAPaymentType(method: context.payment.method) else {
            return .notRemote
        }
        guard let score = context.riskScore else { return .noRiskScore }
        guard score <= configuration.traLowRiskScoreMax else { return .riskScoreTooHigh }
        guard !context.riskSignalPresent else { return .riskSignalPresent }
        guard context.amount <= context.limits.traMaximum else { return .aboveTRAMaximum }
        guard let threshold = traThreshold(context.regime, type) else { return .noOpenTRABand }
        return context.amount <= threshold ? nil : .aboveOpenTRABands
    }
}
