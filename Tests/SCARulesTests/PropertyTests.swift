import SCATestSupport
import Testing

@testable import SCARules

/// Properties over long generated streams: determinism, the caps of RTS Art. 11 and 16,
/// and what a passed or failed SCA may change (SCA-RULES §4, DESIGN "the decision contract").
@Suite("Properties")
struct PropertyTests {
    static let seeds: [UInt64] = [1, 42, 2026, 0xDEC1_5101]
    static let streamLength = 600

    // MARK: Generated streams

    struct PayerProfile {
        let id: String
        let regime: RegimeCase
    }

    static let payers = [
        PayerProfile(id: "anna", regime: .eea), PayerProfile(id: "bob", regime: .uk),
        PayerProfile(id: "carl", regime: .eea),
    ]
    static let instruments = ["card-1", "card-2", "card-3"]

    /// An amount of 0.01 ... `maxMinor / 100` written as a decimal string.
    static func amount(_ random: inout SplitMix64, maxMinor: Int) -> String {
        let minor = 1 + random.below(maxMinor)
        let cents = minor % 100
        return "\(minor / 100)." + (cents < 10 ? "0" : "") + "\(cents)"
    }

    /// Consumers paying by card or transfer, remote, contactless or chip, with logins and
    /// always-SCA actions in between: only `low_value` and `contactless` can exempt.
    static func lowValueStream(seed: UInt64) -> [DecisionRequest] {
        var random = SplitMix64(state: seed)
        var at = t0
        return (0..<streamLength).map { index in
            at = at + .seconds(Int64(1 + random.below(900)))
            let profile = random.pick(payers)
            let r = profile.regime
            let instrument = random.pick(instruments)
            let sca: SCAResult = random.chance(60) ? .passed : .failed
            let roll = random.below(100)
            let id = "r\(index)"
            if roll < 8 { return request(.login, in: r, id: id, at: at, payer: profile.id, instrument: instrument, sca: sca) }
            if roll < 12 { return request(.sensitiveAction, in: r, id: id, at: at, payer: profile.id, instrument: instrument, sca: sca) }
            let channel: PaymentDetails.Channel = roll < 67 ? .remote : roll < 95 ? .contactless : .chip
            let inZloty = r.regime == .eea && random.chance(20)
            let value = amount(&random, maxMinor: inZloty ? 16_000 : (channel == .contactless ? 6_000 : 3_500))
            return payment(
                value, inZloty ? "PLN" : nil, in: r, id: id, at: at, payer: profile.id, instrument: instrument,
                payee: random.pick(["shop", "bakery", "cinema"]),
                method: channel == .remote && random.chance(30) ? .creditTransfer : .card, channel: channel, sca: sca
            )
        }
    }

    /// Everything the engine decides, mixed: trusted payees, series, TRA, MITs, AIS, out of scope.
    static func mixedStream(seed: UInt64) -> [DecisionRequest] {
        var random = SplitMix64(state: seed)
        var at = t0
        return (0..<streamLength).map { index in
            at = at + .seconds(Int64(1 + random.below(3_600)))
            let profile = random.pick(payers)
            let r = profile.regime
            let instrument: String? = random.chance(90) ? random.pick(instruments) : nil
            let sca: SCAResult? = random.chance(60) ? .passed : random.chance(90) ? .failed : nil
            let payee = random.pick(["shop", "gym", "landlord", "streaming"])
            let id = "m\(index)"
            switch random.below(12) {
            case 0: return request(.login, in: r, id: id, at: at, payer: profile.id, instrument: instrument, sca: sca)
            case 1:
                return request(
                    random.pick([Action.trustBeneficiary, .addBeneficiary, .storeCredential, .sensitiveAction]), in: r,
                    id: id, at: at, payer: profile.id, instrument: instrument, payee: payee, payeePSP: r.payeePSP, sca: sca
                )
            case 2:
                // Account access names no instrument here: the reset by a passed AIS SCA
                // naming one is a known deviation (LowValueTests, disabled test).
                return aisAccess(
                    in: r, at: at, payer: profile.id, consent: random.pick(["c1", "c2"]),
                    customerPresent: random.chance(40), instrument: nil, sca: sca
                )
            default:
                let channel = random.pick([PaymentDetails.Channel.remote, .remote, .remote, .contactless, .chip, .moto, .unattendedParking])
                let risk: RiskAssessment? =
                    random.chance(70)
                    ? RiskAssessment(score: Double(random.below(40)) / 100, signals: random.chance(10) ? ["malware"] : [])
                    : nil
                return payment(
                    amount(&random, maxMinor: random.chance(70) ? 4_000 : 60_000), in: r, id: id, at: at,
                    payer: profile.id, instrument: instrument, consumer: random.chance(85),
                    payee: payee, payeePSP: random.chance(5) ? "US" : nil,
                    method: random.pick([PaymentDetails.Method.card, .card, .creditTransfer, .directDebit]), channel: channel,
                    initiator: random.pick([PaymentDetails.Initiator.payer, .payer, .payer, .pisp, .merchant]),
                    recurring: random.chance(15), mandateRef: random.chance(50) ? "m\(random.below(index + 1))" : nil,
                    anonymousPrepaid: random.chance(3), secureCorporate: random.chance(10), samePerson: random.chance(10),
                    risk: risk,
                    requested: random.chance(20) ? random.pick([Exemption.lowValue, .transactionRiskAnalysis, .trustedBeneficiary]) : nil,
                    sca: sca
                )
            }
        }
    }

    static func mixedHarness() -> Harness {
        Harness { configuration in
            configuration.monitoredFraudRate = [.card: ExactDecimal("0.0006")!, .creditTransfer: ExactDecimal("0.0001")!]
        }
    }

    /// Everything in the state except sessions, which any decided request may move on.
    struct Snapshot: Equatable {
        let counters: [InstrumentKey: InstrumentCounters]
        let series: Set<SeriesKey>
        let trusted: [PayerID: Set<PayeeID>]
        let consents: [ConsentKey: Consent]
        let mandates: [RequestID: Mandate]

        init(_ state: InMemoryState) {
            counters = state.counters
            series = state.series
            trusted = state.trusted
            consents = state.consents
            mandates = state.mandates
        }
    }

    static func withinCaps(_ counters: InstrumentCounters) -> Bool {
        let limits = counters.regime.limits
        return counters.lowValueCount <= limits.lowValueCountMax && counters.lowValueTotal <= limits.lowValueTotalMax
            && counters.contactlessCount <= limits.contactlessCountMax
            && counters.contactlessTotal <= limits.contactlessTotalMax
    }

    // MARK: Properties

    @Test("The same stream decided twice from fresh states gives identical decisions", arguments: seeds)
    func decisionsAreReproducible(seed: UInt64) {
        for stream in [Self.lowValueStream(seed: seed), Self.mixedStream(seed: seed)] {
            var first = Self.mixedHarness()
            var second = Self.mixedHarness()
            #expect(first.decide(stream) == second.decide(stream))
        }
    }

    @Test("Deciding is a pure function of request and prior state", arguments: seeds)
    func decidingIsPure(seed: UInt64) {
        var harness = Self.mixedHarness()
        for request in Self.mixedStream(seed: seed) {
            let prior = harness.state.prior(for: request)
            #expect(harness.engine.decide(request, prior: prior) == harness.engine.decide(request, prior: prior))
            harness.decide(request)
        }
    }

    @Test("Without other exemptions the low-value and contactless counters never pass their caps", arguments: seeds)
    func countersNeverPassCaps(seed: UInt64) {
        var harness = Harness()
        var exemptions = 0
        for request in Self.lowValueStream(seed: seed) {
            let decision = harness.decide(request)
            if decision.outcome == .exempt { exemptions += 1 }
            #expect(
                [Reason.lowValue, .contactless, .noExemption, .noSession, .sessionIdle, .sessionActive, .alwaysRequired].contains(
                    decision.reason))
            for (key, counters) in harness.state.counters {
                #expect(Self.withinCaps(counters), "\(key.payer.value)/\(key.instrument.value) after \(request.id?.value ?? "")")
            }
        }
        #expect(exemptions > Self.streamLength / 5, "the stream exercises the exemptions")
    }

    @Test("A low-value or contactless exemption never leaves its counters over the caps", arguments: seeds)
    func exemptionsRespectTheirCaps(seed: UInt64) {
        var harness = Self.mixedHarness()
        for request in Self.mixedStream(seed: seed) {
            let decision = harness.decide(request)
            guard let amount = decision.amountInRegimeCurrency, let regime = decision.regime else { continue }
            #expect(amount.currency == regime.currency)
            if decision.reason == .lowValue {
                #expect(amount <= regime.limits.lowValueSingleMax)
                #expect((decision.counters.lowValueCount ?? 99) <= regime.limits.lowValueCountMax)
                #expect(decision.counters.lowValueTotal.map { $0 <= regime.limits.lowValueTotalMax } ?? false)
            }
            if decision.reason == .contactless {
                #expect(amount <= regime.limits.contactlessSingleMax)
                #expect((decision.counters.contactlessCount ?? 99) <= regime.limits.contactlessCountMax)
                #expect(decision.counters.contactlessTotal.map { $0 <= regime.limits.contactlessTotalMax } ?? false)
            }
        }
    }

    @Test("A passed SCA resets exactly the instrument's counters", arguments: seeds)
    func passedSCAResetsExactlyTheInstrument(seed: UInt64) {
        var harness = Self.mixedHarness()
        var resets = 0
        for request in Self.mixedStream(seed: seed) {
            let before = harness.state.counters
            let decision = harness.decide(request)
            let after = harness.state.counters
            let key = request.payer.instrument.map { InstrumentKey(payer: request.payer.id, instrument: $0) }
            for (other, counters) in after where other != key {
                #expect(before[other] == counters, "only the request's instrument may change")
            }
            #expect(Set(after.keys).subtracting(key.map { [$0] } ?? []) == Set(before.keys).subtracting(key.map { [$0] } ?? []))
            if decision.outcome == .scaRequired, request.sca == .passed, let key, let regime = decision.regime {
                #expect(after[key] == .zero(regime))
                resets += 1
            }
        }
        #expect(resets > 10)
    }

    @Test("A failed SCA changes no state", arguments: seeds)
    func failedSCAChangesNoState(seed: UInt64) {
        var harness = Self.mixedHarness()
        var failures = 0
        for request in Self.mixedStream(seed: seed) {
            let before = Snapshot(harness.state)
            var priorBefore = harness.state.prior(for: request)
            let decision = harness.decide(request)
            guard decision.outcome == .scaRequired, request.sca == .failed else { continue }
            failures += 1
            var priorAfter = harness.state.prior(for: request)
            priorBefore.session = nil
            priorAfter.session = nil
            #expect(priorAfter == priorBefore)
            #expect(Snapshot(harness.state) == before)
        }
        #expect(failures > 10)
    }

    @Test("A failed SCA without a live session changes nothing at all")
    func failedSCAWithoutSessionChangesNothing() {
        var harness = Harness()
        for minute in 1...3 { harness.decide(payment("10.00", at: t0 + .minutes(Int64(minute)))) }
        let requests = [
            payment("900.00", at: t0 + .hours(1), sca: .failed),
            payment("9.99", at: t0 + .hours(2), payee: "gym", recurring: true, sca: .failed),
            request(.trustBeneficiary, at: t0 + .hours(3), payee: "gym", sca: .failed),
            request(.storeCredential, id: "sc", at: t0 + .hours(4), sca: .failed),
            login(at: t0 + .hours(5), sca: .failed),
            aisAccess(at: t0 + .hours(6), customerPresent: true, instrument: "card-1", sca: .failed),
        ]
        for request in requests {
            let before = Snapshot(harness.state)
            let sessions = harness.state.sessions
            let prior = harness.state.prior(for: request)
            #expect(harness.decide(request).outcome == .scaRequired)
            #expect(harness.state.prior(for: request) == prior)
            #expect(Snapshot(harness.state) == before)
            #expect(harness.state.sessions == sessions)
        }
    }

    @Test("A pending SCA (no outcome yet) changes nothing")
    func pendingSCAChangesNothing() {
        var harness = Harness()
        for minute in 1...5 { harness.decide(payment("10.00", at: t0 + .minutes(Int64(minute)))) }
        let before = Snapshot(harness.state)
        harness.decide([
            payment("900.00", id: "big", at: t0 + .hours(1), sca: nil),
            payment("9.99", at: t0 + .hours(2), payee: "gym", recurring: true, sca: nil),
            request(.trustBeneficiary, at: t0 + .hours(3), payee: "gym", sca: nil),
            request(.storeCredential, id: "sc", at: t0 + .hours(4), sca: nil),
            login(at: t0 + .hours(5), sca: nil),
            aisAccess(at: t0 + .hours(6), customerPresent: true, sca: nil),
        ])
        #expect(Snapshot(harness.state) == before)
        #expect(harness.state.sessions.isEmpty)
        #expect(harness.decide(payment("10.00", at: t0 + .hours(7))).why(.lowValue) == .countCap)
    }

    @Test("A passed SCA on one card leaves the payer's other cards untouched")
    func passedSCALeavesOtherCardsUntouched() {
        var harness = Harness()
        for minute in 1...3 {
            harness.decide(payment("10.00", at: t0 + .minutes(Int64(minute)), instrument: "card-1"))
            harness.decide(payment("20.00", at: t0 + .minutes(Int64(minute)), instrument: "card-2", channel: .contactless))
        }
        let card2 = harness.counters(instrument: "card-2")
        harness.decide(payment("900.00", at: t0 + .hours(1), instrument: "card-1"))
        #expect(harness.counters(instrument: "card-1") == .zero(.eea))
        #expect(harness.counters(instrument: "card-2") == card2)
        #expect(card2?.contactlessCount == 3)
    }
}
