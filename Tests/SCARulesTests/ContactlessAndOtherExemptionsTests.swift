import Testing

@testable import SCARules

/// SCA-RULES §4: contactless (RTS Art. 11), unattended terminal (12), trusted beneficiary
/// (13), recurring (14), same person transfer (15), secure corporate (17).
@Suite("Contactless and the other payment exemptions")
struct ContactlessAndOtherExemptionsTests {
    func tap(_ amount: String, _ r: RegimeCase, minute: Int64 = 0, sca: SCAResult? = .passed) -> DecisionRequest {
        payment(amount, in: r, at: t0 + .minutes(minute), channel: .contactless, sca: sca)
    }

    // MARK: Contactless (RTS Art. 11)

    @Test("A contactless payment at the single limit is exempt, one cent more is not", arguments: RegimeCase.both)
    func contactlessSingleLimitIsInclusive(r: RegimeCase) {
        var harness = Harness()
        let atLimit = harness.decide(tap(r.contactlessSingleMax, r))
        expect(atLimit, .exempt, .contactless, citation: r.rts("11"))
        #expect(atLimit.counters == Counters(contactlessCount: 1, contactlessTotal: r.amount(r.contactlessSingleMax)))

        var fresh = Harness()
        let over = fresh.decide(tap(plusCent(r.contactlessSingleMax), r))
        expect(over, .scaRequired, .noExemption)
        #expect(over.why(.contactless) == .overSingleLimit)
    }

    @Test("The 5th contactless payment since the last SCA is exempt, the 6th is not", arguments: RegimeCase.both)
    func sixthContactlessPaymentNeedsSCA(r: RegimeCase) {
        var harness = Harness()
        for minute in 1...5 {
            let decision = harness.decide(tap("10.00", r, minute: Int64(minute)))
            expect(decision, .exempt, .contactless)
            #expect(decision.counters.contactlessCount == minute)
        }
        let sixth = harness.decide(tap("10.00", r, minute: 6))
        expect(sixth, .scaRequired, .noExemption)
        #expect(sixth.why(.contactless) == .countCap)
        #expect(sixth.counters.contactlessCount == 0, "the passed SCA reset the card's counters")
        expect(harness.decide(tap("10.00", r, minute: 7)), .exempt, .contactless)
    }

    @Test("The contactless payment that would pass the cumulative cap needs SCA", arguments: RegimeCase.both)
    func contactlessCumulativeCapIsInclusive(r: RegimeCase) {
        // EEA 50 + 50 + 40 + 10 = 150 EUR; UK 100 + 100 + 90 + 10 = 300 GBP.
        let third = r.regime == .uk ? "90.00" : "40.00"
        func run(_ last: String) -> Decision {
            var harness = Harness()
            harness.decide([tap(r.contactlessSingleMax, r, minute: 1), tap(r.contactlessSingleMax, r, minute: 2), tap(third, r, minute: 3)])
            return harness.decide(tap(last, r, minute: 4))
        }
        let reaching = run("10.00")
        expect(reaching, .exempt, .contactless)
        #expect(reaching.counters.contactlessTotal == r.amount(r.contactlessTotalMax))
        let passing = run("10.01")
        expect(passing, .scaRequired, .noExemption)
        #expect(passing.why(.contactless) == .amountCap)
    }

    @Test("Contactless and remote counters are kept apart; a passed SCA resets both", arguments: RegimeCase.both)
    func contactlessAndRemoteCountersAreSeparate(r: RegimeCase) {
        var harness = Harness()
        for minute in 1...5 { harness.decide(tap("1.00", r, minute: Int64(minute))) }
        let remote = harness.decide(payment("1.00", in: r, at: t0 + .minutes(6)))
        expect(remote, .exempt, .lowValue)
        #expect(remote.counters == Counters(lowValueCount: 1, lowValueTotal: r.amount("1.00")))
        #expect(harness.counters()?.contactlessCount == 5)

        harness.decide(payment("900.00", in: r, at: t0 + .minutes(7)))
        #expect(harness.counters() == .zero(r.regime))
    }

    // MARK: Unattended terminal (RTS Art. 12)

    @Test(
        "Transport fares and parking fees at unattended terminals are exempt",
        arguments: RegimeCase.both, [PaymentDetails.Channel.unattendedTransport, .unattendedParking]
    )
    func unattendedTerminalIsExempt(r: RegimeCase, channel: PaymentDetails.Channel) {
        var harness = Harness()
        let decision = harness.decide(payment("80.00", in: r, channel: channel))
        expect(decision, .exempt, .unattendedTerminal, citation: r.rts("12"))
        #expect(harness.counters() == nil, "unattended payments are neither remote nor contactless")
    }

    @Test("Asking for unattended_terminal on a remote payment does not make it one")
    func unattendedTerminalNeedsUnattendedChannel() {
        var harness = Harness()
        let decision = harness.decide(payment("80.00", requested: .unattendedTerminal))
        expect(decision, .scaRequired, .noExemption)
        #expect(decision.why(.unattendedTerminal) == .notUnattendedTerminal)
    }

    // MARK: Trusted beneficiary (RTS Art. 13)

    @Test("A payee the payer trusted with a passed SCA is exempt", arguments: RegimeCase.both)
    func trustedPayeeIsExempt(r: RegimeCase) {
        var harness = Harness()
        let trust = harness.decide(request(.trustBeneficiary, in: r, payee: "landlord", payeePSP: r.payeePSP))
        expect(trust, .scaRequired, .alwaysRequired, citation: r.rts("13"))
        let decision = harness.decide(payment("2200.00", in: r, at: t0 + .days(1), payee: "landlord"))
        expect(decision, .exempt, .trustedBeneficiary, citation: r.rts("13"))
        #expect(decision.notApplied.isEmpty)
    }

    @Test("A failed SCA on trust_beneficiary trusts nobody", arguments: RegimeCase.both)
    func failedTrustTrustsNobody(r: RegimeCase) {
        var harness = Harness()
        harness.decide(request(.trustBeneficiary, in: r, payee: "landlord", sca: .failed))
        let decision = harness.decide(payment("2200.00", in: r, at: t0 + .days(1), payee: "landlord"))
        expect(decision, .scaRequired, .noExemption)
        #expect(decision.why(.trustedBeneficiary) == .payeeNotTrusted)
    }

    @Test("Trust is per payer and per payee; adding a beneficiary does not trust it")
    func trustIsPerPayerAndPayee() {
        var harness = Harness()
        harness.decide(request(.trustBeneficiary, payee: "landlord"))
        harness.decide(request(.addBeneficiary, payee: "plumber", payeePSP: "PL"))
        #expect(harness.decide(payment("500.00", at: t0 + .hours(1), payee: "plumber")).reason == .noExemption)
        #expect(harness.decide(payment("500.00", at: t0 + .hours(2), payer: "bob", payee: "landlord")).reason == .noExemption)
        #expect(harness.decide(payment("500.00", at: t0 + .hours(3), payee: "landlord")).reason == .trustedBeneficiary)
    }

    // MARK: Recurring (RTS Art. 14)

    @Test("The first payment of a series needs SCA even when low value would fit", arguments: RegimeCase.both)
    func firstRecurringPaymentNeedsSCA(r: RegimeCase) {
        var harness = Harness()
        let first = harness.decide(payment("9.99", in: r, payee: "gym", recurring: true))
        expect(first, .scaRequired, .recurringFirst, citation: r.rts("14"))
        #expect(first.why(.recurring) == .seriesNotEstablished)
        let second = harness.decide(payment("9.99", in: r, at: t0 + .days(30), payee: "gym", recurring: true))
        expect(second, .exempt, .recurring, citation: r.rts("14"))
        #expect(second.counters.lowValueCount == 1, "a remote payment without SCA counts toward low value")
    }

    @Test("The first payment of a series needs SCA even to a trusted payee")
    func firstRecurringPaymentNeedsSCAEvenWhenTrusted() {
        var harness = Harness()
        harness.decide(request(.trustBeneficiary, payee: "gym"))
        expect(harness.decide(payment("9.99", at: t0 + .hours(1), payee: "gym", recurring: true)), .scaRequired, .recurringFirst)
    }

    @Test("A changed amount or payee starts a new series", arguments: RegimeCase.both)
    func changedAmountOrPayeeStartsNewSeries(r: RegimeCase) {
        var harness = Harness()
        harness.decide(payment("9.99", in: r, payee: "gym", recurring: true))
        let changedAmount = harness.decide(payment("10.99", in: r, at: t0 + .days(30), payee: "gym", recurring: true))
        expect(changedAmount, .scaRequired, .recurringFirst)
        let changedPayee = harness.decide(payment("9.99", in: r, at: t0 + .days(31), payee: "pool", recurring: true))
        expect(changedPayee, .scaRequired, .recurringFirst)
        let otherPayer = harness.decide(payment("9.99", in: r, at: t0 + .days(32), payer: "bob", payee: "gym", recurring: true))
        expect(otherPayer, .scaRequired, .recurringFirst)
        expect(harness.decide(payment("9.99", in: r, at: t0 + .days(60), payee: "gym", recurring: true)), .exempt, .recurring)
    }

    @Test("A series whose first payment failed SCA is not established")
    func failedFirstPaymentEstablishesNoSeries() {
        var harness = Harness()
        harness.decide(payment("9.99", payee: "gym", recurring: true, sca: .failed))
        expect(harness.decide(payment("9.99", at: t0 + .days(30), payee: "gym", recurring: true)), .scaRequired, .recurringFirst)
    }

    // MARK: Same person transfer (RTS Art. 15)

    @Test("A credit transfer between the payer's own accounts is exempt", arguments: RegimeCase.both)
    func samePersonCreditTransferIsExempt(r: RegimeCase) {
        var harness = Harness()
        let decision = harness.decide(payment("5000.00", in: r, payee: "anna-savings", method: .creditTransfer, samePerson: true))
        expect(decision, .exempt, .samePersonTransfer, citation: r.rts("15"))
    }

    @Test("Same person applies to credit transfers only, and only to the same person")
    func samePersonNeedsCreditTransferAndSamePerson() {
        var harness = Harness()
        let card = harness.decide(payment("5000.00", payee: "anna-savings", samePerson: true))
        expect(card, .scaRequired, .noExemption)
        #expect(card.why(.samePersonTransfer) == .notCreditTransfer)
        let other = harness.decide(payment("5000.00", at: t0 + .minutes(1), payee: "bob", method: .creditTransfer))
        expect(other, .scaRequired, .noExemption)
        #expect(other.why(.samePersonTransfer) == .notSamePerson)
    }

    // MARK: Secure corporate (RTS Art. 17)

    @Test("A business payer using a secure corporate process is exempt", arguments: RegimeCase.both)
    func secureCorporateProcessIsExempt(r: RegimeCase) {
        var harness = Harness()
        let decision = harness.decide(payment("9000.00", in: r, consumer: false, secureCorporate: true))
        expect(decision, .exempt, .secureCorporate, citation: r.rts("17"))
    }

    @Test("Secure corporate needs a non-consumer payer and a dedicated process")
    func secureCorporateNeedsBusinessAndProcess() {
        var harness = Harness()
        let consumer = harness.decide(payment("9000.00", consumer: true, secureCorporate: true))
        expect(consumer, .scaRequired, .noExemption)
        #expect(consumer.why(.secureCorporate) == .payerIsConsumer)
        let noProcess = harness.decide(payment("9000.00", at: t0 + .minutes(1), consumer: false))
        expect(noProcess, .scaRequired, .noExemption)
        #expect(noProcess.why(.secureCorporate) == .notSecureCorporateProcess)
    }
}
