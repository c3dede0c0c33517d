import Testing

@testable import SCARules

/// SCA-RULES §1 (regime) and §3 (out of scope, and the order of the checks).
@Suite("Regime and scope")
struct RegimeAndScopeTests {
    struct RegimePair: Sendable, CustomTestStringConvertible {
        let payerPSP: String
        let payeePSP: String
        let regime: Regime?
        var testDescription: String { "\(payerPSP)+\(payeePSP)" }
    }

    static let regimePairs: [RegimePair] = [
        RegimePair(payerPSP: "PL", payeePSP: "PL", regime: .eea),
        RegimePair(payerPSP: "PL", payeePSP: "DE", regime: .eea),
        RegimePair(payerPSP: "FR", payeePSP: "PL", regime: .eea),
        RegimePair(payerPSP: "NO", payeePSP: "IS", regime: .eea),
        RegimePair(payerPSP: "LI", payeePSP: "DE", regime: .eea),
        RegimePair(payerPSP: "GB", payeePSP: "GB", regime: .uk),
        RegimePair(payerPSP: "GB", payeePSP: "GI", regime: .uk),
        RegimePair(payerPSP: "GI", payeePSP: "GB", regime: .uk),
        RegimePair(payerPSP: "PL", payeePSP: "US", regime: nil),
        RegimePair(payerPSP: "US", payeePSP: "PL", regime: nil),
        RegimePair(payerPSP: "GB", payeePSP: "DE", regime: nil),
        RegimePair(payerPSP: "DE", payeePSP: "GB", regime: nil),
        RegimePair(payerPSP: "GB", payeePSP: "US", regime: nil),
        RegimePair(payerPSP: "CH", payeePSP: "DE", regime: nil),
        RegimePair(payerPSP: "US", payeePSP: "US", regime: nil),
    ]

    @Test("A payment's regime follows both PSPs; one leg out is out of scope (PSD2 Art. 97)", arguments: regimePairs)
    func paymentRegimeFollowsBothPSPs(pair: RegimePair) {
        var harness = Harness()
        let currency = pair.regime == .uk ? "GBP" : "EUR"
        let decision = harness.decide(
            payment("10.00", currency, payerPSP: pair.payerPSP, payeePSP: pair.payeePSP)
        )
        #expect(decision.regime == pair.regime)
        if pair.regime == nil {
            expect(decision, .outOfScope, .oneLegOut, citation: "PSD2 Art. 97")
            #expect(harness.counters() == nil, "a one-leg-out payment counts toward nothing")
        } else {
            expect(decision, .exempt, .lowValue)
        }
    }

    static let eeaStates = [
        "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT",
        "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE", "IS", "LI", "NO",
    ]

    @Test("The EEA is the 27 EU states plus Iceland, Liechtenstein and Norway; the UK is GB and GI")
    func eeaAndUKMembership() {
        #expect(Set(Self.eeaStates).count == 30)
        for code in Self.eeaStates {
            #expect(Regime(pspCountry: country(code)) == .eea, "\(code)")
        }
        for code in ["GB", "GI"] { #expect(Regime(pspCountry: country(code)) == .uk, "\(code)") }
        for code in ["CH", "US", "TR", "JE", "GG", "IM", "MC", "SM", "AD", "VA", "UA"] {
            #expect(Regime(pspCountry: country(code)) == nil, "\(code) is outside both regimes")
        }
    }

    @Test("An unassigned country code is invalid input, not one leg out", arguments: ["XX", "UK", "EU", "pl", ""])
    func unassignedCountryCodeIsInvalid(code: String) {
        #expect(CountryCode(code) == nil)
    }

    @Test("Non-payment actions take the payer PSP's regime even when a payee is named")
    func nonPaymentActionsTakePayerRegime() {
        var harness = Harness()
        let addAbroad = harness.decide(
            request(.addBeneficiary, payerPSP: "PL", payee: "us-landlord", payeePSP: "US")
        )
        expect(addAbroad, .scaRequired, .alwaysRequired)
        #expect(addAbroad.regime == .eea)

        let trustEEA = harness.decide(
            request(.trustBeneficiary, payerPSP: "GB", payee: "paris-shop", payeePSP: "FR")
        )
        expect(trustEEA, .scaRequired, .alwaysRequired, citation: "UK-RTS Art. 13")
        #expect(trustEEA.regime == .uk)

        let ukLogin = harness.decide(
            request(.login, payer: "bob", payerPSP: "GB", instrument: nil, payee: "x", payeePSP: "DE")
        )
        expect(ukLogin, .scaRequired, .noSession)
        #expect(ukLogin.regime == .uk)

        let sensitive = harness.decide(request(.sensitiveAction, payerPSP: "DE", payee: "y", payeePSP: "US"))
        #expect(sensitive.regime == .eea)
        let ais = harness.decide(aisAccess(at: t0, payer: "carl", customerPresent: true))
        #expect(ais.regime == .eea)
    }

    @Test("A non-payment action of a payer outside both regimes is one leg out")
    func nonPaymentActionOfPayerOutsideIsOneLegOut() {
        var harness = Harness()
        let decision = harness.decide(request(.addBeneficiary, payerPSP: "US", payee: "p", payeePSP: "PL"))
        expect(decision, .outOfScope, .oneLegOut, citation: "PSD2 Art. 97")
        #expect(decision.regime == nil)
    }

    // MARK: §3 out of scope

    struct ScopeCase: Sendable, CustomTestStringConvertible {
        let name: String
        let request: DecisionRequest
        let outcome: Outcome
        let reason: Reason
        var testDescription: String { name }
    }

    static let scopeCases: [ScopeCase] = RegimeCase.both.flatMap { r in
        [
            ScopeCase(
                name: "\(r.regime.rawValue) moto", request: payment("80.00", in: r, channel: .moto),
                outcome: .outOfScope, reason: .moto
            ),
            ScopeCase(
                name: "\(r.regime.rawValue) direct debit",
                request: payment("80.00", in: r, method: .directDebit, initiator: .payee),
                outcome: .outOfScope, reason: .directDebit
            ),
            ScopeCase(
                name: "\(r.regime.rawValue) anonymous prepaid",
                request: payment("80.00", in: r, anonymousPrepaid: true),
                outcome: .outOfScope, reason: .anonymousPrepaid
            ),
            // The order: one_leg_out → moto → direct_debit → anonymous_prepaid → MIT.
            ScopeCase(
                name: "\(r.regime.rawValue) one leg out beats moto",
                request: payment("80.00", in: r, payeePSP: "US", channel: .moto),
                outcome: .outOfScope, reason: .oneLegOut
            ),
            ScopeCase(
                name: "\(r.regime.rawValue) moto beats direct debit",
                request: payment("80.00", in: r, method: .directDebit, channel: .moto),
                outcome: .outOfScope, reason: .moto
            ),
            ScopeCase(
                name: "\(r.regime.rawValue) direct debit beats anonymous prepaid",
                request: payment("80.00", in: r, method: .directDebit, anonymousPrepaid: true),
                outcome: .outOfScope, reason: .directDebit
            ),
            ScopeCase(
                name: "\(r.regime.rawValue) anonymous prepaid beats an MIT without mandate",
                request: payment("80.00", in: r, initiator: .merchant, anonymousPrepaid: true),
                outcome: .outOfScope, reason: .anonymousPrepaid
            ),
            ScopeCase(
                name: "\(r.regime.rawValue) moto beats an MIT without mandate",
                request: payment("80.00", in: r, channel: .moto, initiator: .merchant),
                outcome: .outOfScope, reason: .moto
            ),
            ScopeCase(
                name: "\(r.regime.rawValue) one leg out beats an MIT without mandate",
                request: payment("80.00", in: r, payerPSP: "US", initiator: .merchant),
                outcome: .outOfScope, reason: .oneLegOut
            ),
            ScopeCase(
                name: "\(r.regime.rawValue) an MIT without mandate is refused even when low value fits",
                request: payment("5.00", in: r, initiator: .merchant),
                outcome: .refused, reason: .mitWithoutMandate
            ),
        ]
    }

    @Test("Out-of-scope reasons and their order (SCA-RULES §3)", arguments: scopeCases)
    func outOfScopeInOrder(scope: ScopeCase) {
        var harness = Harness()
        let decision = harness.decide(scope.request)
        expect(decision, scope.outcome, scope.reason, citation: "PSD2 Art. 97")
        #expect(decision.notApplied.isEmpty)
        #expect(harness.counters() == nil, "an out-of-scope or refused payment counts toward nothing")
    }

    @Test("Out-of-scope payments do not count toward the low-value counters", arguments: RegimeCase.both)
    func outOfScopePaymentsDoNotCount(r: RegimeCase) {
        var harness = Harness()
        harness.decide(request(.storeCredential, in: r, id: "mandate", at: t0, payee: "shop", payeePSP: r.payeePSP))
        let outOfScope = harness.decide([
            payment("5.00", in: r, at: t0 + .minutes(1), channel: .moto),
            payment("5.00", in: r, at: t0 + .minutes(2), anonymousPrepaid: true),
            payment("5.00", in: r, at: t0 + .minutes(3), method: .directDebit),
            payment("5.00", in: r, at: t0 + .minutes(4), initiator: .merchant, mandateRef: "mandate"),
            payment("5.00", in: r, at: t0 + .minutes(5), payeePSP: "US"),
        ])
        #expect(outOfScope.allSatisfy { $0.outcome == .outOfScope })
        for count in 1...5 {
            let decision = harness.decide(payment("5.00", in: r, at: t0 + .minutes(Int64(10 + count))))
            expect(decision, .exempt, .lowValue)
            #expect(decision.counters.lowValueCount == count)
        }
    }

    @Test("A payment initiated through a PISP is decided like any payment", arguments: RegimeCase.both)
    func pispPaymentIsDecidedLikeAnyPayment(r: RegimeCase) {
        var harness = Harness()
        expect(harness.decide(payment("10.00", in: r, initiator: .pisp)), .exempt, .lowValue, citation: r.rts("16"))
        let large = harness.decide(payment("1000.00", in: r, at: t0 + .minutes(1), initiator: .pisp))
        expect(large, .scaRequired, .noExemption)
    }
}
