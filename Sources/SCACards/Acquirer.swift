import Foundation
import SCARules

/// The merchant's PSP: it decides what the payment needs with its own rules engine (scope,
/// regime, which exemptions qualify), runs 3DS through the directory server, authorises with
/// the issuer, retries a soft decline with 3DS, and records the liability. No storage and
/// no clock here: the service supplies `now`, the mandate check and the optimizer's choice.
public struct Acquirer: Sendable {
    public struct Settings: Sendable {
        public var merchant: Merchant
        /// The exemptions this merchant has enabled; others fall back to the challenge
        /// indicator (TRA needs activation: not in the default list).
        public var enabledExemptions: Set<CardExemption>
        /// Use a card's 3DS1 ACS when it has no 3DS2 one. Off by default: never silent.
        public var threeDS1Fallback: Bool

        public static let defaultExemptions: Set<CardExemption> = [
            .lowValue, .trustedListing, .trustedListingPrompt, .secureCorporatePayment,
        ]

        public init(merchant: Merchant, enabledExemptions: Set<CardExemption> = Settings.defaultExemptions, threeDS1Fallback: Bool = false)
        {
            self.merchant = merchant
            self.enabledExemptions = enabledExemptions
            self.threeDS1Fallback = threeDS1Fallback
        }
    }

    public let settings: Settings
    public let network: CardNetwork
    /// The acquirer's own rules engine: its TRA bands follow its monitored fraud rate.
    public let engine: RulesEngine

    public init(settings: Settings, network: CardNetwork, engine: RulesEngine) {
        self.settings = settings
        self.network = network
        self.engine = engine
    }

    /// The optimizer's decision for a payment the merchant left to the engine.
    public typealias Chooser = @Sendable (ExemptionOptimizer.Context) -> ExemptionOptimizer.Choice

    static let acquirerName = "acquirer"
    static let dsName = "directory_server"

    // MARK: The acquirer's decision

    func decisionRequest(_ payment: PaymentInstruction, issuer: IssuerProfile, exemption: Exemption?, at now: Instant) -> DecisionRequest? {
        guard let payerCountry = CountryCode(issuer.country), let payeeCountry = CountryCode(payment.merchant.country) else { return nil }
        let payer = PayerID("card:" + payment.card.bin6 + payment.card.last4)
        return DecisionRequest(
            id: RequestID(payment.id), at: now, action: .payment,
            payer: Payer(id: payer, pspCountry: payerCountry, instrument: InstrumentID(payer.value), consumer: !issuer.corporate),
            payee: Payee(id: PayeeID(payment.merchant.id), pspCountry: payeeCountry), amount: payment.amount,
            payment: PaymentDetails(
                method: .card, channel: payment.paymentType == .moto ? .moto : .remote,
                initiator: payment.merchantInitiated ? .merchant : .payer,
                recurring: false, mandateRef: payment.previousPaymentID.map(RequestID.init),
                anonymousPrepaid: issuer.anonymousPrepaid, secureCorporate: issuer.corporate
            ),
            risk: payment.risk, requestedExemption: exemption, sca: nil
        )
    }

    /// The engine's decision, with a mandate in the prior state when the service found the
    /// authenticated first payment a merchant-initiated one names.
    func decide(_ payment: PaymentInstruction, issuer: IssuerProfile, exemption: Exemption?, at now: Instant) -> Decision? {
        guard let request = decisionRequest(payment, issuer: issuer, exemption: exemption, at: now) else { return nil }
        var prior = PriorState()
        if payment.mandateValid {
            prior.mandate = Mandate(payer: request.payer.id, payee: request.payee?.id, origin: .payment)
        }
        return engine.decide(request, prior: prior).decision
    }

    /// Whether the acquirer's engine lets `exemption` apply to this payment, and if not why.
    /// The trusted list is the issuer's: the acquirer cannot check it and never refuses it.
    public func qualifies(_ exemption: CardExemption, _ payment: PaymentInstruction, issuer: IssuerProfile, at now: Instant) -> String? {
        guard let rule = exemption.ruleExemption, exemption != .trustedListing else { return nil }
        guard let decision = decide(payment, issuer: issuer, exemption: rule, at: now) else { return "unknown country" }
        if decision.outcome == .exempt && decision.reason == rule.reason { return nil }
        return decision.notApplied.first { $0.exemption == rule }?.why.message ?? "the engine applies \(decision.reason.rawValue) instead"
    }

    static func summary(_ decision: Decision) -> SCASummary {
        let notApplied = decision.notApplied.map {
            SCASummary.NotApplied(reason: $0.exemption.rawValue, why: $0.why.rawValue, message: $0.why.message)
        }
        return SCASummary(
            regime: decision.regime?.rawValue, outcome: decision.outcome.rawValue, reason: decision.reason.rawValue,
            citation: decision.citationText, notApplied: notApplied
        )
    }

    // MARK: The flow

    /// Runs a new payment as far as it goes without the cardholder: to its authorisation, or
    /// to a pending challenge.
    public func begin(_ payment: PaymentInstruction, at now: Instant, chooser: Chooser?) -> PaymentOutcome {
        var trace: [TraceEntry] = []
        guard let issuer = network.issuer(of: payment.card) else {
            return Self.declined(
                ResponseCode.invalidCardNumber, path: .declined,
                sca: SCASummary(
                    regime: nil, outcome: "refused", reason: "unknown_card_range", citation: "", notApplied: []
                ), notes: ["no issuer holds this card range"], trace: trace)
        }
        let profile = issuer.profile
        guard let decision = decide(payment, issuer: profile, exemption: payment.threeDS.exemption?.ruleExemption, at: now) else {
            return Self.declined(
                ResponseCode.invalidTransaction, path: .declined,
                sca: SCASummary(
                    regime: nil, outcome: "refused", reason: "unknown_country", citation: "", notApplied: []
                ), notes: ["the issuer's or the merchant's country is unknown"], trace: trace)
        }
        let sca = Self.summary(decision)
        trace.append(
            TraceEntry(
                at: now, step: "acquirer_decision", from: Self.acquirerName, to: Self.acquirerName,
                fields: [
                    "outcome": sca.outcome, "reason": sca.reason, "citation": sca.citation, "regime": sca.regime ?? "none",
                    "issuer": profile.name, "issuer_country": profile.country, "scheme": profile.scheme.rawValue,
                ]))
        var outcome = PaymentOutcome(
            status: .pending, responseCode: nil, path: .noThreeDS, threeDS: nil, liabilityShift: false, sca: sca,
            optimizer: nil, nextAction: nil, challengeURL: nil, notes: [], trace: trace, authenticatedCustomerInitiated: false
        )

        if decision.outcome == .refused {
            outcome.status = .declined
            outcome.responseCode = ResponseCode.invalidTransaction
            outcome.path = .declined
            outcome.notes.append(
                "a merchant-initiated payment needs an authenticated first payment of this card to name (previous_payment_id)")
            return outcome
        }
        if decision.outcome == .outOfScope {
            // MIT and MOTO have no cardholder to authenticate; for one-leg-out and anonymous
            // prepaid cards the merchant may still ask for 3DS (best effort, liability shift).
            let noCardholder = decision.reason == .merchantInitiated || decision.reason == .moto
            if noCardholder || !payment.threeDS.enabled {
                outcome.path = .outOfScope
                return authorise(payment, issuer: issuer, authentication: nil, exemption: nil, outcome: outcome, at: now)
            }
            return authenticate(
                payment, issuer: issuer, indicator: payment.threeDS.challengeIndicator, exemption: nil, outcome: outcome, at: now)
        }

        // In scope: what to ask the issuer for.
        let stage: ExemptionStage = payment.threeDS.enabled ? .authentication : .authorisation
        var record = ThreeDSRecord(enabled: payment.threeDS.enabled, challengeIndicator: payment.threeDS.challengeIndicator.rawValue)
        var requested: CardExemption?
        var indicator = payment.threeDS.challengeIndicator
        if let asked = payment.threeDS.exemption {
            if !settings.enabledExemptions.contains(asked) {
                record.exemptionFallback = "\(asked.rawValue) is not enabled for this merchant: the challenge indicator applies"
            } else if !SchemeSupport.supports(profile.scheme, asked, at: stage) {
                record.exemptionFallback =
                    "\(profile.scheme.rawValue) does not carry \(asked.rawValue) at \(stage.rawValue): the challenge indicator applies"
            } else if let why = qualifies(asked, payment, issuer: profile, at: now) {
                record.exemptionFallback = "\(asked.rawValue) does not qualify (\(why)): the challenge indicator applies"
            } else {
                requested = asked
                record.exemptionSource = "merchant"
            }
        } else if indicator == .noPreference, let chooser {
            if payment.setsUpMandate {
                indicator = .challengeRequestedMandate
                outcome.optimizer = OptimizerRecord(
                    chosen: "no_exemption@authentication",
                    why: "the payment sets up later charges: it must be authenticated (challenge_requested_mandate)",
                    considered: [], notQualifying: [:]
                )
            } else {
                var notQualifying: [String: String] = [:]
                var options: [ExemptionOptimizer.Option] = []
                for exemption in [CardExemption.secureCorporatePayment, .lowValue, .transactionRiskAssessment] {
                    if !settings.enabledExemptions.contains(exemption) {
                        notQualifying[exemption.rawValue] = "not enabled for this merchant"
                    } else if !SchemeSupport.supports(profile.scheme, exemption, at: stage) {
                        notQualifying[exemption.rawValue] = "\(profile.scheme.rawValue) does not carry it at \(stage.rawValue)"
                    } else if let why = qualifies(exemption, payment, issuer: profile, at: now) {
                        notQualifying[exemption.rawValue] = why
                    } else {
                        options.append(.init(exemption, at: stage))
                    }
                }
                let choice = chooser(
                    ExemptionOptimizer.Context(
                        range: payment.card.bin6, amountEUR: amountEUR(payment.amount), candidates: options,
                        threeDSPossible: payment.threeDS.enabled && profile.enrolled, fraudProbability: payment.risk?.score
                    ))
                outcome.optimizer = OptimizerRecord(
                    chosen: choice.option.description, why: choice.why, considered: choice.considered, notQualifying: notQualifying
                )
                trace.append(
                    TraceEntry(
                        at: now, step: "optimizer", from: Self.acquirerName, to: Self.acquirerName,
                        fields: [
                            "chosen": choice.option.description, "why": choice.why,
                        ]))
                outcome.trace = trace
                if let exemption = choice.option.exemption {
                    requested = exemption
                    record.exemptionSource = "optimizer"
                }
            }
        }
        if let requested {
            record.exemptionRequested = requested.rawValue
            record.exemptionStage = stage.rawValue
        }
        outcome.threeDS = record
        if payment.threeDS.enabled {
            return authenticate(payment, issuer: issuer, indicator: indicator, exemption: requested, outcome: outcome, at: now)
        }
        return authorise(payment, issuer: issuer, authentication: nil, exemption: requested, outcome: outcome, at: now)
    }

    /// AReq → ARes through the directory server.
    func authenticate(
        _ payment: PaymentInstruction, issuer: SimulatedIssuer, indicator: ChallengeIndicator, exemption: CardExemption?,
        outcome start: PaymentOutcome, at now: Instant, upgrade: Bool = false
    ) -> PaymentOutcome {
        var outcome = start
        var record = outcome.threeDS ?? ThreeDSRecord(enabled: true, challengeIndicator: indicator.rawValue)
        record.challengeIndicator = indicator.rawValue
        if upgrade { record.upgradeReason = "sca_retry" }
        let profile = issuer.profile
        let serverTransID = "3ds_" + payment.id + (upgrade ? "_retry" : "")
        guard profile.enrolled else {
            outcome.trace.append(
                TraceEntry(
                    at: now, step: "PRes", from: Self.dsName, to: Self.acquirerName,
                    fields: [
                        "messageType": "PRes", "cardRange": payment.card.bin6, "threeDSVersion": "none",
                    ]))
            if settings.threeDS1Fallback && profile.threeDS1 {
                // 3DS1 stands in: the issuer's attempts service vouches for the payment.
                let result = issuer.attempt(payment, serverTransID: serverTransID, at: now)
                record.version = ThreeDSVersion.fallback
                apply(result, to: &record)
                outcome.threeDS = record
                outcome.path = .threeDS1Fallback
                outcome.notes.append("no 3DS2 for this card: 3DS1 fallback is enabled; " + result.note)
                outcome.trace.append(
                    TraceEntry(
                        at: now, step: "PARes", from: "acs", to: Self.acquirerName,
                        fields: [
                            "messageVersion": ThreeDSVersion.fallback, "status": result.transStatus.rawValue, "eci": result.eci ?? "",
                        ]))
                return authorise(payment, issuer: issuer, authentication: result, exemption: nil, outcome: outcome, at: now)
            }
            record.version = nil
            outcome.threeDS = record
            outcome.notes.append("the card is not enrolled in 3DS2 and 3DS1 fallback is disabled: no silent downgrade")
            return Self.finish(outcome, status: .declined, code: ResponseCode.notEnrolled)
        }
        let request = AuthenticationRequest(
            threeDSServerTransID: serverTransID, card: payment.card, amount: payment.amount, merchant: payment.merchant,
            challengeIndicator: indicator, exemption: exemption, channel: payment.offSession ? .requestorInitiated : .browser,
            purpose: payment.paymentType == .recurring ? .recurring : payment.paymentType == .installment ? .installment : .payment
        )
        let dsTransID = CardNetwork.dsTransID(for: serverTransID)
        outcome.trace.append(TraceEntry(at: now, step: "AReq", from: Self.acquirerName, to: Self.dsName, fields: request.fields()))
        outcome.trace.append(
            TraceEntry(
                at: now, step: "AReq", from: Self.dsName, to: "acs", fields: request.fields().merging(["dsTransID": dsTransID]) { $1 }))
        let result = issuer.authenticate(request, dsTransID: dsTransID, at: now)
        let ares = result.fields(messageType: "ARes", version: request.version, serverTransID: serverTransID)
        outcome.trace.append(TraceEntry(at: now, step: "ARes", from: "acs", to: Self.dsName, fields: ares))
        outcome.trace.append(TraceEntry(at: now, step: "ARes", from: Self.dsName, to: Self.acquirerName, fields: ares))
        outcome.notes.append(result.note)
        record.version = request.version
        apply(result, to: &record)
        outcome.threeDS = record
        let range = payment.card.bin6
        let band = ExemptionOptimizer.band(amountEUR(payment.amount))
        if let exemption {
            outcome.observations.append(
                .exemption(
                    range: range, option: .init(exemption, at: .authentication), band: band,
                    granted: result.exemptionGranted == exemption))
        } else if !indicator.wantsChallenge && !upgrade {
            outcome.observations.append(.frictionless(range: range, band: band, frictionless: result.transStatus == .authenticated))
        }
        switch result.transStatus {
        case .authenticated, .attempted, .informational:
            if outcome.path != .softDeclineRetry {
                outcome.path = result.transStatus == .informational ? .exemption : .frictionless
            }
            return authorise(payment, issuer: issuer, authentication: result, exemption: nil, outcome: outcome, at: now)
        case .challenge:
            record.challenged = true
            outcome.threeDS = record
            if outcome.path != .softDeclineRetry { outcome.path = .challenge }
            outcome.status = .pending
            outcome.nextAction = "complete_challenge"
            outcome.challengeURL = result.challengeURL
            return outcome
        case .notAuthenticated, .rejected, .unavailable, .decoupled:
            if outcome.path != .softDeclineRetry { outcome.path = .declined }
            return Self.finish(outcome, status: .declined, code: ResponseCode.authenticationFailed)
        }
    }

    /// The RReq of a finished challenge: authorise when it passed, decline otherwise.
    public func completeChallenge(
        _ payment: PaymentInstruction, outcome start: PaymentOutcome, result: AuthenticationResult, at now: Instant
    ) -> PaymentOutcome {
        var outcome = start
        guard var record = outcome.threeDS, outcome.status == .pending, let issuer = network.issuer(of: payment.card) else {
            return outcome
        }
        let serverTransID = "3ds_" + payment.id + (record.upgradeReason != nil ? "_retry" : "")
        let rreq = result.fields(messageType: "RReq", version: record.version ?? ThreeDSVersion.current, serverTransID: serverTransID)
        outcome.trace.append(TraceEntry(at: now, step: "RReq", from: "acs", to: Self.dsName, fields: rreq))
        outcome.trace.append(TraceEntry(at: now, step: "RReq", from: Self.dsName, to: Self.acquirerName, fields: rreq))
        outcome.trace.append(
            TraceEntry(
                at: now, step: "RRes", from: Self.acquirerName, to: Self.dsName,
                fields: [
                    "messageType": "RRes", "resultsStatus": "01", "acsTransID": result.acsTransID, "threeDSServerTransID": serverTransID,
                ]))
        apply(result, to: &record)
        record.challenged = true
        outcome.threeDS = record
        outcome.notes.append(result.note)
        outcome.nextAction = nil
        outcome.challengeURL = nil
        let completed = result.transStatus == .authenticated
        outcome.observations.append(record.upgradeReason != nil ? .retryCompleted(completed) : .challengeCompleted(completed))
        guard completed else {
            let code = result.challengeCancel == "04" ? ResponseCode.authenticationNotCompleted : ResponseCode.authenticationFailed
            return Self.finish(outcome, status: .declined, code: code)
        }
        return authorise(payment, issuer: issuer, authentication: result, exemption: nil, outcome: outcome, at: now)
    }

    func apply(_ result: AuthenticationResult, to record: inout ThreeDSRecord) {
        record.transStatus = result.transStatus.rawValue
        record.transStatusReason = result.transStatusReason
        record.eci = result.eci
        record.authenticationValue = result.authenticationValue
        record.acsTransID = result.acsTransID
        record.dsTransID = result.dsTransID
        record.challengeCancel = result.challengeCancel
        if let status = result.whiteListStatus { record.whiteListStatus = status }
        if let granted = result.exemptionGranted { record.exemptionApplied = granted.rawValue }
    }

    /// The amount in EUR for the optimizer's bands (the currency passed validation, so it
    /// has a reference rate).
    func amountEUR(_ amount: Money) -> Double {
        engine.configuration.referenceRates.convert(amount, to: .eur).map(ExemptionOptimizer.euros) ?? 0
    }

    /// The authorisation, and what a soft decline leads to.
    func authorise(
        _ payment: PaymentInstruction, issuer: SimulatedIssuer, authentication: AuthenticationResult?, exemption: CardExemption?,
        outcome start: PaymentOutcome, at now: Instant
    ) -> PaymentOutcome {
        var outcome = start
        let transactionID = "auth_" + payment.id + (outcome.threeDS?.upgradeReason != nil ? "_retry" : "")
        var fields = [
            "transactionID": transactionID, "amount": String(payment.amount.minorUnits), "currency": payment.amount.currency.code,
            "card": payment.card.description, "merchantInitiated": payment.merchantInitiated ? "true" : "false",
            "moto": payment.paymentType == .moto ? "true" : "false",
        ]
        if let authentication {
            fields["eci"] = authentication.eci ?? ""
            fields["transStatus"] = authentication.transStatus.rawValue
        }
        if let exemption { fields["scaExemption"] = exemption.rawValue }
        if let previous = payment.previousPaymentID { fields["previousPaymentID"] = previous }
        outcome.trace.append(TraceEntry(at: now, step: "authorisation_request", from: Self.acquirerName, to: "issuer", fields: fields))
        let response = issuer.authorise(
            .init(
                transactionID: transactionID, card: payment.card, amount: payment.amount, merchant: payment.merchant,
                authentication: authentication, exemption: exemption, merchantInitiated: payment.merchantInitiated,
                moto: payment.paymentType == .moto
            ), at: now)
        outcome.trace.append(
            TraceEntry(
                at: now, step: "authorisation_response", from: "issuer", to: Self.acquirerName,
                fields: [
                    "responseCode": response.code, "note": response.note,
                ]))
        outcome.notes.append(response.note)
        if let exemption {
            outcome.observations.append(
                .exemption(
                    range: payment.card.bin6, option: .init(exemption, at: .authorisation),
                    band: ExemptionOptimizer.band(amountEUR(payment.amount)),
                    granted: response.exemptionGranted == exemption
                ))
        }
        if response.code == ResponseCode.authenticationRequired {
            // Soft decline: retry with 3DS and a mandated challenge when the customer is
            // there and the merchant allows it; otherwise bring the customer back.
            if !payment.offSession && payment.threeDS.allowUpgrade && issuer.profile.enrolled {
                outcome.path = .softDeclineRetry
                outcome.notes.append("soft decline 20154: retried with 3DS and challenge_requested_mandate")
                var record =
                    outcome.threeDS ?? ThreeDSRecord(enabled: false, challengeIndicator: payment.threeDS.challengeIndicator.rawValue)
                record.enabled = true
                outcome.threeDS = record
                return authenticate(
                    payment, issuer: issuer, indicator: .challengeRequestedMandate, exemption: nil, outcome: outcome, at: now, upgrade: true
                )
            }
            outcome.nextAction = "customer_must_authenticate"
            outcome.notes.append(
                payment.offSession
                    ? "off-session: nobody can be challenged; the customer must come back and authenticate"
                    : "soft decline 20154 and no retry allowed: the customer must authenticate")
            return Self.finish(outcome, status: .declined, code: response.code)
        }
        if let granted = response.exemptionGranted, var record = outcome.threeDS {
            record.exemptionApplied = granted.rawValue
            outcome.threeDS = record
            if outcome.path == .noThreeDS { outcome.path = .exemption }
        }
        let authenticated = authentication.map { $0.transStatus.level != .none } ?? false
        outcome.liabilityShift = response.approved && authenticated
        outcome.authenticatedCustomerInitiated = response.approved && authenticated && !payment.merchantInitiated
        return Self.finish(outcome, status: response.approved ? .authorized : .declined, code: response.code)
    }

    static func finish(_ start: PaymentOutcome, status: PaymentStatus, code: String) -> PaymentOutcome {
        var outcome = start
        outcome.status = status
        outcome.responseCode = code
        if status != .pending && outcome.nextAction == "complete_challenge" { outcome.nextAction = nil }
        return outcome
    }

    public static func declined(_ code: String, path: PaymentPath, sca: SCASummary, notes: [String], trace: [TraceEntry]) -> PaymentOutcome
    {
        PaymentOutcome(
            status: .declined, responseCode: code, path: path, threeDS: nil, liabilityShift: false, sca: sca, optimizer: nil,
            nextAction: nil, challengeURL: nil, notes: notes, trace: trace, authenticatedCustomerInitiated: false
        )
    }
}
