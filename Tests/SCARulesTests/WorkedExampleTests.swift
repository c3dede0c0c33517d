import Testing

@testable import SCARules

/// SCA-RULES §8 (seed 002): one day, four SCA prompts.
@Suite("Worked example")
struct WorkedExampleTests {
    func at(_ time: String) -> Instant { instant("2026-11-21T\(time):00Z") }

    @Test("Anna's day gives the decisions of the worked example")
    func annasDay() {
        var harness = Harness { $0.monitoredFraudRate = [.card: ExactDecimal("0.0013")!] }
        // Before the day: an authenticated first subscription charge, and a consent
        // authenticated 40 days ago with one AISP refresh this morning.
        expect(
            harness.decide(
                payment("19.99", "PLN", id: "sub-first", at: instant("2026-10-21T10:30:00Z"), payee: "streaming", recurring: true)),
            .scaRequired, .recurringFirst
        )
        expect(harness.decide(aisAccess(at: instant("2026-10-12T19:00:00Z"), customerPresent: true)), .scaRequired, .aisFirstAccess)
        expect(harness.decide(aisAccess(at: at("07:00"), customerPresent: false)), .exempt, .aisWithinWindow)

        expect(harness.decide(login(at: at("08:00"))), .scaRequired, .noSession)

        let bakery = harness.decide(payment("15.00", "PLN", at: at("08:05"), payee: "bakery"))
        expect(bakery, .exempt, .lowValue, citation: "RTS Art. 16")
        #expect(bakery.amountInRegimeCurrency == eur("3.52"))

        let subscription = harness.decide(payment("19.99", "PLN", at: at("10:30"), payee: "streaming", recurring: true))
        expect(subscription, .exempt, .recurring, citation: "RTS Art. 14")
        let merchantCharge = harness.decide(
            payment("19.99", "PLN", at: at("10:31"), payee: "streaming", initiator: .merchant, mandateRef: "sub-first")
        )
        expect(merchantCharge, .outOfScope, .merchantInitiated, citation: "PSD2 Art. 97")

        let card = harness.decide(
            payment("42.00", "PLN", at: at("12:30"), payee: "shoes", risk: RiskAssessment(score: 0.02), requested: .transactionRiskAnalysis)
        )
        expect(card, .exempt, .transactionRiskAnalysis, citation: "RTS Art. 18")

        expect(harness.decide(payment("248.00", at: at("15:00"), payee: "airline")), .scaRequired, .noExemption)

        let refresh = harness.decide(aisAccess(at: at("19:00"), customerPresent: false))
        expect(refresh, .exempt, .aisWithinWindow)
        #expect(refresh.counters.aisUnattendedToday == 2)

        expect(harness.decide(request(.addBeneficiary, at: at("22:00"), payee: "landlord", payeePSP: "PL")), .scaRequired, .alwaysRequired)
        expect(harness.decide(payment("2200.00", "PLN", at: at("22:01"), payee: "landlord")), .scaRequired, .noExemption)
    }
}
