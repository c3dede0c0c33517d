extension RulesEngine {
    /// `login` (PSD2 Art. 97(1)(a)): SCA unless the payer has a live authenticated session
    /// (RTS Art. 4(3)(d)).
    func decideLogin(_ request: DecisionRequest, _ prior: PriorState) -> Decided {
        guard let regime = Regime(pspCountry: request.payer.pspCountry) else {
            return answer(request, .outOfScope, .oneLegOut, .psd2Art97, regime: nil, amount: nil)
        }
        let amount = amountInRegime(request, regime)
        let counters = currentCounters(prior, regime: regime, at: request.at)
        if let session = prior.session, isLive(session, at: request.at) {
            return answer(
                request, .alreadyAuthenticated, .sessionActive, .rtsArt4_3d, regime: regime, amount: amount,
                counters: view(counters, request)
            )
        }
        var effects = StateEffects()
        if request.sca == .passed { resetCounters(request, regime, into: &effects) }
        let (reason, citation): (Reason, Citation) =
            prior.session == nil ? (.noSession, .psd2Art97_1a) : (.sessionIdle, .rtsArt4_3d)
        return answer(
            request, .scaRequired, reason, citation, regime: regime, amount: amount,
            counters: view(effects.counters ?? counters, request), effects: effects
        )
    }

    /// `add_beneficiary`, `trust_beneficiary`, `sensitive_action`, `store_credential`:
    /// always SCA (SCA-RULES §2). A passed SCA completes what the action creates.
    func decideAlwaysRequired(_ request: DecisionRequest, _ prior: PriorState) -> Decided {
        guard let regime = Regime(pspCountry: request.payer.pspCountry) else {
            return answer(request, .outOfScope, .oneLegOut, .psd2Art97, regime: nil, amount: nil)
        }
        let citation: Citation
        switch request.action {
        case .trustBeneficiary: citation = .rtsArt13
        case .addBeneficiary, .sensitiveAction, .storeCredential: citation = .psd2Art97_1c
        case .login, .payment, .aisAccess: preconditionFailure("\(request.action) is not always-SCA")
        }
        var effects = StateEffects()
        if request.sca == .passed {
            resetCounters(request, regime, into: &effects)
            switch request.action {
            case .trustBeneficiary:
                effects.trustPayee = request.payee?.id
            case .storeCredential:
                effects.mandate = Mandate(payer: request.payer.id, payee: request.payee?.id, origin: .storeCredential)
            case .addBeneficiary, .sensitiveAction, .login, .payment, .aisAccess:
                break
            }
        }
        let counters = effects.counters ?? currentCounters(prior, regime: regime, at: request.at)
        return answer(
            request, .scaRequired, .alwaysRequired, citation, regime: regime,
            amount: amountInRegime(request, regime), counters: view(counters, request), effects: effects
        )
    }

    /// `ais_access`: the customer present may use the account-information exemption while
    /// the consent's last SCA is within the window (RTS Art. 10); an AISP alone may access
    /// within the window at most `aisUnattendedPerDayMax` times a calendar day
    /// (RTS Art. 10a, 36(5)).
    func decideAccountAccess(_ request: DecisionRequest, _ prior: PriorState) -> Decided {
        guard let regime = Regime(pspCountry: request.payer.pspCountry) else {
            return answer(request, .outOfScope, .oneLegOut, .psd2Art97, regime: nil, amount: nil)
        }
        let amount = amountInRegime(request, regime)
        let window = aisWindow(regime)
        let today = configuration.aisDayZone.dayNumber(of: request.at)
        func unattendedToday(_ consent: Consent?) -> Int {
            guard let consent, consent.unattendedDay == today else { return 0 }
            return consent.unattendedCount
        }
        let consent = prior.consent
        let withinWindow = consent.map { request.at <= $0.lastSCA + window } ?? false
        let countersToday = Counters(aisUnattendedToday: unattendedToday(consent))

        if request.customerPresent {
            if withinWindow {
                return answer(
                    request, .exempt, .accountInformation, .rtsArt10, regime: regime, amount: amount,
                    counters: countersToday
                )
            }
            var effects = StateEffects()
            if request.sca == .passed {
                resetCounters(request, regime, into: &effects)
                effects.consent = Consent(
                    lastSCA: request.at, unattendedDay: today, unattendedCount: unattendedToday(consent)
                )
            }
            return answer(
                request, .scaRequired, consent == nil ? .aisFirstAccess : .aisRenewalDue, .rtsArt10,
                regime: regime, amount: amount, counters: countersToday, effects: effects
            )
        }

        guard var consent else {
            return answer(request, .refused, .consentUnknown, .rtsArt10a, regime: regime, amount: amount)
        }
        guard withinWindow else {
            return answer(
                request, .refused, .aisRenewalDue, .rtsArt10a, regime: regime, amount: amount, counters: countersToday
            )
        }
        let accessesToday = unattendedToday(consent)
        guard accessesToday < configuration.aisUnattendedPerDayMax else {
            return answer(
                request, .refused, .aisDailyLimit, .rtsArt36_5, regime: regime, amount: amount, counters: countersToday
            )
        }
        consent.unattendedDay = today
        consent.unattendedCount = accessesToday + 1
        var effects = StateEffects()
        effects.consent = consent
        return answer(
            request, .exempt, .aisWithinWindow, .rtsArt10a, regime: regime, amount: amount,
            counters: Counters(aisUnattendedToday: consent.unattendedCount), effects: effects
        )
    }
}
