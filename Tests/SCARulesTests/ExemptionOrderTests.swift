import Testing

@testable import SCARules

/// SCA-RULES §4: default order (config), the requested exemption tried first, and
/// `not_applied` saying why each candidate tried did not fit.
@Suite("Exemption order and requested exemptions")
struct ExemptionOrderTests {
    static let specOrder: [Exemption] = [
        .trustedBeneficiary, .recurring, .samePersonTransfer, .secureCorporate,
        .unattendedTerminal, .contactless, .lowValue, .transactionRiskAnalysis,
    ]

    func traHarness(_ configure: (inout RulesConfiguration) -> Void = { _ in }) -> Harness {
        Harness { configuration in
            configuration.monitoredFraudRate = [.card: ExactDecimal("0.0013")!]
            configure(&configuration)
        }
    }

    @Test("The default order is the spec's")
    func defaultOrderIsTheSpecs() {
        #expect(Exemption.defaultPaymentOrder == Self.specOrder)
        #expect(RulesConfiguration().exemptionOrder == Self.specOrder)
    }

    @Test("Earlier exemptions in the default order win over low value", arguments: RegimeCase.both)
    func earlierExemptionsWinOverLowValue(r: RegimeCase) {
        var harness = Harness()
        harness.decide(request(.trustBeneficiary, in: r, instrument: nil, payee: "bakery"))
        expect(harness.decide(payment("5.00", in: r, at: t0 + .minutes(1), payee: "bakery")), .exempt, .trustedBeneficiary)
        expect(
            harness.decide(payment("5.00", in: r, at: t0 + .minutes(2), payee: "anna-2", method: .creditTransfer, samePerson: true)),
            .exempt, .samePersonTransfer
        )
        expect(
            harness.decide(payment("5.00", in: r, at: t0 + .minutes(3), consumer: false, secureCorporate: true)),
            .exempt, .secureCorporate
        )
        #expect(harness.counters()?.lowValueCount == 3, "each of them counts toward low value")
    }

    @Test("Low value comes before TRA in the default order")
    func lowValueBeforeTRA() {
        var harness = traHarness()
        let decision = harness.decide(payment("10.00", risk: lowRisk()))
        expect(decision, .exempt, .lowValue)
        #expect(decision.notApplied == [NotApplied(.trustedBeneficiary, .payeeNotTrusted)])
    }

    @Test("A requested exemption is tried first even if later in the default order", arguments: RegimeCase.both)
    func requestedExemptionIsTriedFirst(r: RegimeCase) {
        var harness = traHarness()
        let decision = harness.decide(payment("10.00", in: r, risk: lowRisk(), requested: .transactionRiskAnalysis))
        expect(decision, .exempt, .transactionRiskAnalysis, citation: r.rts("18"))
        #expect(decision.notApplied.isEmpty)
    }

    @Test("A requested exemption that does not qualify falls back to the default order and is listed")
    func requestedExemptionFallsBackAndIsListed() {
        var harness = traHarness()
        let decision = harness.decide(payment("10.00", requested: .transactionRiskAnalysis))
        expect(decision, .exempt, .lowValue)
        #expect(
            decision.notApplied == [
                NotApplied(.transactionRiskAnalysis, .noRiskScore), NotApplied(.trustedBeneficiary, .payeeNotTrusted),
            ]
        )
    }

    @Test("A requested exemption that does not qualify and no other gives sca_required")
    func requestedExemptionNotQualifyingNeedsSCA() {
        var harness = Harness()
        let decision = harness.decide(payment("60.00", requested: .lowValue))
        expect(decision, .scaRequired, .noExemption, citation: "PSD2 Art. 97(1)(b)")
        #expect(decision.notApplied.first == NotApplied(.lowValue, .overSingleLimit))
        #expect(decision.why(.trustedBeneficiary) == .payeeNotTrusted)
        #expect(decision.why(.transactionRiskAnalysis) == .noRiskScore)
        #expect(decision.notApplied.filter { $0.exemption == .lowValue }.count == 1, "tried once")
    }

    @Test("Requesting an account-information exemption for a payment does not apply it")
    func accountInformationIsNotAPaymentExemption() {
        var harness = Harness()
        let decision = harness.decide(payment("10.00", requested: .accountInformation))
        expect(decision, .exempt, .lowValue)
        #expect([.notApplicableToAction, .exemptionDisabled].contains(decision.why(.accountInformation)))
    }

    @Test("A custom exemption order is followed")
    func customOrderIsFollowed() {
        var harness = traHarness { $0.exemptionOrder = [.transactionRiskAnalysis, .lowValue] }
        let decision = harness.decide(payment("10.00", risk: lowRisk()))
        expect(decision, .exempt, .transactionRiskAnalysis)
        #expect(decision.notApplied.isEmpty, "trusted_beneficiary is not in the order, so not a candidate")
    }

    @Test("A disabled exemption is never applied, even when requested")
    func disabledExemptionIsNeverApplied() {
        let order = Self.specOrder.filter { $0 != .lowValue }
        var harness = Harness { $0.exemptionOrder = order }
        let plain = harness.decide(payment("10.00"))
        expect(plain, .scaRequired, .noExemption)
        let requested = harness.decide(payment("10.00", at: t0 + .minutes(1), requested: .lowValue))
        expect(requested, .scaRequired, .noExemption)
        #expect(requested.why(.lowValue) == .exemptionDisabled)
    }

    @Test(
        "The payments API's exemption names map onto the reason codes",
        arguments: [
            ("low_value", Exemption.lowValue),
            ("transaction_risk_assessment", .transactionRiskAnalysis),
            ("trusted_listing", .trustedBeneficiary),
            ("secure_corporate_payment", .secureCorporate),
            ("transaction_risk_analysis", .transactionRiskAnalysis),
        ])
    func requestNamesMapOntoReasons(name: String, exemption: Exemption) {
        #expect(Exemption(requestName: name) == exemption)
    }

    @Test("Every exemption carries its RTS article")
    func everyExemptionCarriesItsArticle() {
        let articles: [Exemption: String] = [
            .accountInformation: "RTS Art. 10", .aisWithinWindow: "RTS Art. 10a", .contactless: "RTS Art. 11",
            .unattendedTerminal: "RTS Art. 12", .trustedBeneficiary: "RTS Art. 13", .recurring: "RTS Art. 14",
            .samePersonTransfer: "RTS Art. 15", .lowValue: "RTS Art. 16", .secureCorporate: "RTS Art. 17",
            .transactionRiskAnalysis: "RTS Art. 18",
        ]
        for exemption in Exemption.allCases {
            #expect(exemption.citation.text(in: .eea) == articles[exemption])
            #expect(exemption.citation.text(in: .uk) == "UK-" + (articles[exemption] ?? ""))
            #expect(exemption.reason.rawValue == exemption.rawValue)
        }
    }
}
