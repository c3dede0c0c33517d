import Crypto
import SCAAudit
import SCAAuth
import SCAPrimitives
import SCARules
import Synchronization

/// A simulated card issuer: its access control server (ACS) for 3DS and its authorisation
/// host. Every decision it takes about SCA is taken by its own instance of the rules engine,
/// with its own counters, trusted list and TRA bands, and its challenges run on the same
/// challenge machinery as the engine's own (`Challenge`, `AttemptPolicy`, `PaymentLink`):
/// the product is tested from the issuer's side as well as the acquirer's.
///
/// Its state lives in memory (it stands for a bank outside the engine); a restart forgets
/// its counters and open challenges, and an open challenge then ends as not completed.
public final class SimulatedIssuer: Sendable {
    public let profile: IssuerProfile
    let engine: RulesEngine
    /// Signs authentication values (CAVV) and derives card ids: the issuer's own key.
    private let key: SymmetricKey
    private let state = Mutex(State())

    /// The cardholder's attempt limit (RTS Art. 4(3)(b), as configured), shared by every
    /// challenge of a card.
    var attemptPolicy: AttemptPolicy { AttemptPolicy(failuresPerBlock: engine.configuration.failedAttemptsMax) }

    /// The sandbox cardholder's password: every sandbox card answers challenges with it.
    public static let sandboxPassword = "sca-sandbox"
    /// Open challenges kept at most (the oldest are dropped first when full).
    public static let openChallengesMax = 10_000
    public static let otpDigits = 6

    struct State {
        var rules = InMemoryState()
        var attempts: [String: AttemptCounter] = [:]
        var challenges: [String: OpenChallenge] = [:]
        var challengeOrder: [String] = []
        /// Authentication values issued and not yet used at authorisation.
        var issued: [String: Issued] = [:]
    }

    struct Issued {
        let cardID: String
        let amount: Money
        let merchantID: String
        let eci: String
    }

    struct OpenChallenge {
        let request: AuthenticationRequest
        let cardID: String
        let dsTransID: String
        var challenge: Challenge
        let otp: String
        let offersTrustedListing: Bool
        /// The rules request the challenge authenticates (applied with `sca: passed`).
        let decisionRequest: DecisionRequest
        var finished: AuthenticationResult?
    }

    public init(profile: IssuerProfile, rules: RulesConfiguration = RulesConfiguration(), key: [UInt8]) {
        self.profile = profile
        var configuration = rules
        configuration.monitoredFraudRate[.card] = ExactDecimal(profile.fraudRate)
        engine = RulesEngine(configuration: configuration)
        self.key = SymmetricKey(data: SHA256.hash(data: key + Array("issuer/\(profile.id)".utf8)))
    }

    /// The issuer's own id for a card: it never sees the acquirer's fingerprint.
    func cardID(_ card: CardNumber) -> String {
        "card-" + hex(Array(Array(HMAC<SHA256>.authenticationCode(for: Array(card.digits.utf8), using: key)).prefix(10)))
    }

    /// A value in [0, 1) fixed by the transaction: the issuer's roll against its rates.
    static func draw(_ transaction: String, _ purpose: String) -> Double {
        let digest = Array(SHA256.hash(data: Array("\(purpose)|\(transaction)".utf8)))
        let value = digest.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        return Double(value >> 11) / Double(UInt64(1) << 53)
    }

    func decisionRequest(
        id: String, card cardID: String, amount: Money, merchant: Merchant, at now: Instant,
        exemption: Exemption?, recurring: Bool = false, initiator: PaymentDetails.Initiator = .payer
    ) -> DecisionRequest? {
        guard let payerCountry = CountryCode(profile.country), let payeeCountry = CountryCode(merchant.country) else { return nil }
        return DecisionRequest(
            id: RequestID(id), at: now, action: .payment,
            payer: Payer(id: PayerID(cardID), pspCountry: payerCountry, instrument: InstrumentID(cardID), consumer: !profile.corporate),
            payee: Payee(id: PayeeID(merchant.id), pspCountry: payeeCountry), amount: amount,
            payment: PaymentDetails(
                method: .card, channel: .remote, initiator: initiator, recurring: recurring,
                anonymousPrepaid: profile.anonymousPrepaid, secureCorporate: profile.corporate
            ),
            risk: RiskAssessment(score: profile.riskScore), requestedExemption: exemption, sca: nil
        )
    }

    // MARK: Authentication (AReq → ARes)

    public func authenticate(_ request: AuthenticationRequest, dsTransID: String, at now: Instant) -> AuthenticationResult {
        let acsTransID = "acs_" + digestHex("\(request.threeDSServerTransID)|\(dsTransID)")
        var result = AuthenticationResult(acsTransID: acsTransID, dsTransID: dsTransID, transStatus: .unavailable, note: "")
        if profile.rejectsAuthentication {
            result.transStatus = .rejected
            result.transStatusReason = "11"
            result.eci = profile.scheme.eci(.none)
            result.note = "the issuer rejects this card (suspected fraud)"
            return result
        }
        let cardID = cardID(request.card)
        let asked = request.exemption?.ruleExemption
        guard
            let decisionRequest = decisionRequest(
                id: acsTransID, card: cardID, amount: request.amount, merchant: request.merchant, at: now,
                exemption: asked, recurring: request.purpose == .recurring
            )
        else {
            result.note = "the issuer cannot place the merchant's country"
            return result
        }
        return state.withLock { state in
            let (decision, effects) = engine.decide(decisionRequest, prior: state.rules.prior(for: decisionRequest)).parts()
            let verdict = "issuer engine: \(decision.outcome.rawValue), \(decision.reason.rawValue) (\(decision.citationText))"
            // What the issuer would let through without SCA, by its own rules.
            let ownExemptionFits = decision.outcome == .exempt || decision.outcome == .outOfScope

            func frictionless(_ status: TransStatus, grants exemption: CardExemption?, _ why: String) -> AuthenticationResult {
                state.rules.apply(effects, of: decisionRequest, configuration: engine.configuration)
                var out = result
                out.transStatus = status
                out.eci = profile.scheme.eci(status.level)
                out.exemptionGranted = exemption
                if status.level != .none {
                    out.authenticationValue = issueValue(acsTransID, cardID: cardID, request: request, eci: out.eci!, into: &state)
                }
                out.note = why + "; " + verdict
                return out
            }

            if let exemption = request.exemption, exemption != .trustedListingPrompt {
                let fits = decision.outcome == .exempt && decision.reason == asked?.reason
                let roll = Self.draw(acsTransID, "accept-authentication")
                if fits && roll < profile.acceptance(exemption, at: .authentication) {
                    return frictionless(
                        .informational, grants: exemption, "the issuer grants the requested \(exemption.rawValue) exemption")
                }
                let why = fits ? "the issuer declines the requested exemption" : "the requested exemption does not fit the issuer's rules"
                return openChallenge(
                    request, cardID: cardID, acsTransID: acsTransID, dsTransID: dsTransID, decisionRequest: decisionRequest,
                    at: now, note: why + "; " + verdict, state: &state)
            }
            if request.exemption == nil, !request.challengeIndicator.wantsChallenge {
                switch profile.frictionless {
                case .always:
                    return frictionless(.authenticated, grants: nil, "frictionless: the issuer's risk-based authentication lets it through")
                case .engine where ownExemptionFits:
                    return frictionless(.authenticated, grants: nil, "frictionless: one of the issuer's own exemptions fits")
                case .engine, .never:
                    break
                }
            }
            let why =
                request.exemption == .trustedListingPrompt
                ? "the merchant asks to be trusted: a challenge with the trusted-list prompt"
                : request.challengeIndicator.wantsChallenge ? "the merchant asks for a challenge" : "the issuer requires SCA"
            return openChallenge(
                request, cardID: cardID, acsTransID: acsTransID, dsTransID: dsTransID, decisionRequest: decisionRequest,
                at: now, note: why + "; " + verdict, state: &state)
        }
    }

    private func issueValue(_ acsTransID: String, cardID: String, request: AuthenticationRequest, eci: String, into state: inout State)
        -> String
    {
        state.issued[acsTransID] = Issued(cardID: cardID, amount: request.amount, merchantID: request.merchant.id, eci: eci)
        return authenticationValue(acsTransID, cardID: cardID, amount: request.amount, merchantID: request.merchant.id, eci: eci)
    }

    /// The CAVV: 20 bytes of HMAC over what was authenticated, checked at authorisation.
    func authenticationValue(_ acsTransID: String, cardID: String, amount: Money, merchantID: String, eci: String) -> String {
        let message = "cavv/1|\(acsTransID)|\(cardID)|\(amount.minorUnits)|\(amount.currency.code)|\(merchantID)|\(eci)"
        return Base64URL.encode(Array(Array(HMAC<SHA256>.authenticationCode(for: Array(message.utf8), using: key)).prefix(20)))
    }

    private func openChallenge(
        _ request: AuthenticationRequest, cardID: String, acsTransID: String, dsTransID: String,
        decisionRequest: DecisionRequest, at now: Instant, note: String, state: inout State
    ) -> AuthenticationResult {
        var result = AuthenticationResult(acsTransID: acsTransID, dsTransID: dsTransID, transStatus: .notAuthenticated, note: note)
        guard request.channel == .browser else {
            result.transStatusReason = "21"
            result.eci = profile.scheme.eci(.none)
            result.note = note + "; nobody is there to challenge"
            return result
        }
        let policy = attemptPolicy
        if policy.availability(state.attempts[cardID] ?? AttemptCounter(), at: now) != .open {
            result.transStatusReason = "01"
            result.eci = profile.scheme.eci(.none)
            result.note = note + "; the cardholder's authentication is blocked after too many failed attempts"
            return result
        }
        let link = PaymentLink(amount: request.amount, payee: .init(id: request.merchant.id, name: request.merchant.name))
        let open = OpenChallenge(
            request: request, cardID: cardID, dsTransID: dsTransID,
            challenge: Challenge(
                offered: [.pin, .sms], binding: link.digest, at: now, lifetime: engine.configuration.authenticationCodeLifetime),
            otp: Self.code(),
            offersTrustedListing: request.exemption == .trustedListingPrompt || SchemeSupport.issuerManagesTrustedList(profile.scheme),
            decisionRequest: decisionRequest
        )
        if state.challenges[acsTransID] == nil {
            state.challengeOrder.append(acsTransID)
            if state.challengeOrder.count > Self.openChallengesMax {
                state.challenges[state.challengeOrder.removeFirst()] = nil
            }
        }
        state.challenges[acsTransID] = open
        result.transStatus = .challenge
        result.challengeURL = "/v1/3ds/challenges/\(acsTransID)"
        result.note = note
        return result
    }

    static func code() -> String { OneTimeCode.numeric(digits: otpDigits) }

    /// 3DS1 fallback: the issuer's attempts service answers for a card without 3DS2.
    public func attempt(_ payment: PaymentInstruction, serverTransID: String, at now: Instant) -> AuthenticationResult {
        let acsTransID = "acs1_" + digestHex("3ds1|\(serverTransID)")
        let cardID = cardID(payment.card)
        let eci = profile.scheme.eci(.attempted)
        let request = AuthenticationRequest(
            threeDSServerTransID: serverTransID, card: payment.card, amount: payment.amount, merchant: payment.merchant,
            challengeIndicator: .noPreference, exemption: nil, version: ThreeDSVersion.fallback
        )
        let value = state.withLock { issueValue(acsTransID, cardID: cardID, request: request, eci: eci, into: &$0) }
        return AuthenticationResult(
            acsTransID: acsTransID, dsTransID: "", transStatus: .attempted, eci: eci, authenticationValue: value,
            note: "3DS1 attempts service: authentication attempted"
        )
    }

    // MARK: The challenge (CReq → CRes, then RReq)

    /// What the challenge page shows.
    public struct ChallengeView: Sendable {
        public let issuerName: String
        public let method: String
        public let displayText: String
        public let maskedCard: String
        /// Sandbox only: the one-time code "sent" to the cardholder's phone.
        public let sandboxCode: String
        public let offersTrustedListing: Bool
        public let merchantName: String
        public let threeDSServerTransID: String
        public let finished: Bool
    }

    /// Whether this ACS holds the challenge.
    public func holdsChallenge(_ acsTransID: String) -> Bool {
        state.withLock { $0.challenges[acsTransID] != nil }
    }

    public func challengeView(_ acsTransID: String) -> ChallengeView? {
        state.withLock { state in
            guard let open = state.challenges[acsTransID] else { return nil }
            let link = PaymentLink(
                amount: open.request.amount, payee: .init(id: open.request.merchant.id, name: open.request.merchant.name))
            return ChallengeView(
                issuerName: profile.name, method: profile.challengeMethod, displayText: link.displayText,
                maskedCard: "•••• " + open.request.card.last4, sandboxCode: open.otp,
                offersTrustedListing: open.offersTrustedListing, merchantName: open.request.merchant.name,
                threeDSServerTransID: open.request.threeDSServerTransID, finished: open.finished != nil
            )
        }
    }

    /// Whether an open challenge has outlived its lifetime; `nil` when the ACS does not know it.
    public func challengeExpired(_ acsTransID: String, at now: Instant) -> Bool? {
        state.withLock { state in
            guard let open = state.challenges[acsTransID] else { return nil }
            return open.finished == nil && open.challenge.state(at: now) == .expired
        }
    }

    public enum ChallengeAnswer: Sendable {
        case respond(password: String, code: String, trustMerchant: Bool)
        case cancel
    }

    public enum ChallengeStep: Sendable, Equatable {
        /// Not accepted; the cardholder may try again (`remaining` attempts before a block).
        case retry(remaining: Int)
        /// The challenge is over: the result the ACS sends in its RReq.
        case finished(AuthenticationResult)
        case unknown
    }

    public func answerChallenge(_ acsTransID: String, _ answer: ChallengeAnswer, at now: Instant) -> ChallengeStep {
        state.withLock { state -> ChallengeStep in
            guard var open = state.challenges[acsTransID] else { return .unknown }
            if let finished = open.finished { return .finished(finished) }
            func finish(_ status: TransStatus, reason: String? = nil, cancel: String? = nil, note: String) -> ChallengeStep {
                var result = AuthenticationResult(
                    acsTransID: acsTransID, dsTransID: open.dsTransID, transStatus: status, transStatusReason: reason,
                    eci: profile.scheme.eci(status.level), challengeCancel: cancel, note: note
                )
                if status == .authenticated {
                    result.authenticationValue = issueValue(
                        acsTransID, cardID: open.cardID, request: open.request, eci: result.eci!, into: &state)
                }
                open.finished = result
                state.challenges[acsTransID] = open
                return .finished(result)
            }
            switch open.challenge.state(at: now) {
            case .expired: return finish(.notAuthenticated, reason: "14", cancel: "04", note: "the challenge timed out")
            case .consumed, .failed, .approved: return finish(.notAuthenticated, reason: "01", note: "the challenge is over")
            case .created, .partlyPassed: break
            }
            guard case .respond(let password, let code, let trustMerchant) = answer else {
                try? open.challenge.fail(at: now)
                return finish(.notAuthenticated, cancel: "01", note: "the cardholder cancelled the challenge")
            }
            let policy = attemptPolicy
            var counter = state.attempts[open.cardID] ?? AttemptCounter()
            guard policy.availability(counter, at: now) == .open else {
                return finish(.notAuthenticated, reason: "01", note: "the cardholder's authentication is blocked")
            }
            // Both elements are checked, always, and a failure never says which was wrong.
            let passwordRight = constantTimeEqual(Array(password.utf8), Array(Self.sandboxPassword.utf8))
            let codeRight = constantTimeEqual(Array(code.utf8), Array(open.otp.utf8))
            guard passwordRight && codeRight else {
                let outcome = policy.recordFailure(&counter, at: now)
                state.attempts[open.cardID] = counter
                if case .failed(let remaining, _) = outcome {
                    state.challenges[acsTransID] = open
                    return .retry(remaining: remaining)
                }
                try? open.challenge.fail(at: now)
                return finish(.notAuthenticated, reason: "01", note: "too many failed attempts: the challenge failed")
            }
            policy.recordSuccess(&counter)
            state.attempts[open.cardID] = counter
            let binding = open.challenge.binding
            do {
                try open.challenge.recordPass(.pin, at: now)
                try open.challenge.recordPass(.sms, at: now)
                try open.challenge.consume(binding: binding, at: now)
            } catch {
                return finish(.notAuthenticated, reason: "01", note: "the challenge could not be completed: \(error)")
            }
            // The passed SCA resets the issuer's counters for this card; a trusted-list
            // prompt the cardholder accepts puts the merchant on the card's trusted list.
            var passed = open.decisionRequest
            passed.sca = .passed
            passed.requestedExemption = nil
            _ = engine.decide(passed, state: &state.rules)
            var trusted = false
            if trustMerchant && open.offersTrustedListing {
                var trust = passed
                trust.action = .trustBeneficiary
                trust.amount = nil
                trust.payment = nil
                trust.id = RequestID(acsTransID + "-trust")
                trusted = engine.decide(trust, state: &state.rules).outcome == .scaRequired
            }
            let step = finish(
                .authenticated,
                note: "the cardholder passed the challenge (knowledge and possession)"
                    + (trusted ? "; merchant added to the trusted list" : ""))
            if trusted, case .finished(var result) = step {
                result.whiteListStatus = "Y"
                open.finished = result
                state.challenges[acsTransID] = open
                return .finished(result)
            }
            return step
        }
    }

    // MARK: Authorisation

    public struct AuthorisationRequest: Sendable {
        public var transactionID: String
        public var card: CardNumber
        public var amount: Money
        public var merchant: Merchant
        /// The 3DS result the payment carries, if it was authenticated.
        public var authentication: AuthenticationResult?
        /// An exemption flagged in the authorisation (no 3DS).
        public var exemption: CardExemption?
        public var merchantInitiated: Bool
        public var moto: Bool

        public init(
            transactionID: String, card: CardNumber, amount: Money, merchant: Merchant, authentication: AuthenticationResult?,
            exemption: CardExemption?, merchantInitiated: Bool, moto: Bool
        ) {
            self.transactionID = transactionID
            self.card = card
            self.amount = amount
            self.merchant = merchant
            self.authentication = authentication
            self.exemption = exemption
            self.merchantInitiated = merchantInitiated
            self.moto = moto
        }
    }

    public struct AuthorisationResponse: Sendable, Equatable {
        public var code: String
        public var exemptionGranted: CardExemption?
        public var note: String
        public var approved: Bool { code == ResponseCode.approved }
    }

    public func authorise(_ request: AuthorisationRequest, at now: Instant) -> AuthorisationResponse {
        if let code = profile.declineCode, code != ResponseCode.insufficientFunds {
            return AuthorisationResponse(code: code, note: "the issuer declines this card")
        }
        let cardID = cardID(request.card)
        return state.withLock { state -> AuthorisationResponse in
            var granted: CardExemption?
            var note: String
            if let authentication = request.authentication, authentication.transStatus.level != .none {
                // The authentication value must be one this issuer issued, for this card,
                // amount and merchant, and unused.
                guard let issued = state.issued[authentication.acsTransID], issued.cardID == cardID, issued.amount == request.amount,
                    issued.merchantID == request.merchant.id, let presented = authentication.authenticationValue,
                    constantTimeEqual(
                        Array(presented.utf8),
                        Array(
                            authenticationValue(
                                authentication.acsTransID, cardID: cardID, amount: issued.amount, merchantID: issued.merchantID,
                                eci: issued.eci
                            ).utf8)
                    )
                else {
                    return AuthorisationResponse(
                        code: ResponseCode.invalidAuthenticationValue, note: "the authentication value does not verify")
                }
                state.issued[authentication.acsTransID] = nil
                note = "authenticated with 3DS (\(authentication.transStatus.rawValue))"
            } else if request.moto {
                note = "mail or telephone order: out of SCA's scope"
            } else if request.merchantInitiated {
                guard Self.draw(request.transactionID, "accept-mit") < profile.acceptsMerchantInitiated else {
                    return AuthorisationResponse(
                        code: ResponseCode.authenticationRequired,
                        note: "the issuer wants the cardholder to authenticate this merchant-initiated payment")
                }
                note = "merchant-initiated: out of SCA's scope"
            } else if let authentication = request.authentication, authentication.transStatus == .informational {
                guard let exemption = authentication.exemptionGranted else {
                    return AuthorisationResponse(code: ResponseCode.authenticationRequired, note: "no SCA and no exemption")
                }
                granted = exemption
                note = "exemption \(exemption.rawValue) granted during authentication"
            } else {
                // No 3DS: the issuer's engine decides whether this payment may go without SCA.
                guard
                    let decisionRequest = decisionRequest(
                        id: request.transactionID, card: cardID, amount: request.amount, merchant: request.merchant, at: now,
                        exemption: request.exemption?.ruleExemption
                    )
                else { return AuthorisationResponse(code: ResponseCode.invalidTransaction, note: "unknown merchant country") }
                let (decision, effects) = engine.decide(decisionRequest, prior: state.rules.prior(for: decisionRequest)).parts()
                let verdict = "issuer engine: \(decision.outcome.rawValue), \(decision.reason.rawValue) (\(decision.citationText))"
                if decision.outcome == .outOfScope {
                    note = "out of SCA's scope; " + verdict
                } else if let exemption = request.exemption, decision.outcome == .exempt,
                    decision.reason == exemption.ruleExemption?.reason,
                    Self.draw(request.transactionID, "accept-authorisation") < profile.acceptance(exemption, at: .authorisation)
                {
                    state.rules.apply(effects, of: decisionRequest, configuration: engine.configuration)
                    granted = exemption
                    note = "the issuer grants the \(exemption.rawValue) exemption at authorisation; " + verdict
                } else {
                    let why = request.exemption == nil ? "no SCA and no exemption" : "the issuer refuses the exemption"
                    return AuthorisationResponse(code: ResponseCode.authenticationRequired, note: why + "; " + verdict)
                }
            }
            if profile.declineCode == ResponseCode.insufficientFunds || !hasFunds(for: request.amount) {
                return AuthorisationResponse(code: ResponseCode.insufficientFunds, note: "not enough funds on the card")
            }
            return AuthorisationResponse(code: ResponseCode.approved, exemptionGranted: granted, note: note)
        }
    }

    private func hasFunds(for amount: Money) -> Bool {
        guard let funds = profile.fundsEUR.flatMap({ Money(decimal: $0, currency: .eur) }) else { return true }
        guard let inEuro = engine.configuration.referenceRates.convert(amount, to: .eur) else { return false }
        return !(funds < inEuro)
    }
}
