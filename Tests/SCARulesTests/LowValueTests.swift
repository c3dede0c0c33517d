import Testing

@testable import SCARules

/// SCA-RULES §4 `low_value` (RTS Art. 16): remote ≤ 30 EUR (UK 25 GBP); counting this
/// payment, since the last SCA on the instrument, count ≤ 5 and cumulative ≤ 100 EUR
/// (UK 85 GBP); counting both / count / amount (config); a passed SCA resets.
@Suite("Low value")
struct LowValueTests {
    @Test("A remote payment at the single limit is exempt, one cent more is not", arguments: RegimeCase.both)
    func singleLimitIsInclusive(r: RegimeCase) {
        var harness = Harness()
        let atLimit = harness.decide(payment(r.lowValueSingleMax, in: r))
        expect(atLimit, .exempt, .lowValue, citation: r.rts("16"))
        #expect(atLimit.regime == r.regime)
        #expect(atLimit.amountInRegimeCurrency == r.amount(r.lowValueSingleMax))
        #expect(atLimit.counters == Counters(lowValueCount: 1, lowValueTotal: r.amount(r.lowValueSingleMax)))
        #expect(atLimit.notApplied == [NotApplied(.trustedBeneficiary, .payeeNotTrusted)])

        var fresh = Harness()
        let over = fresh.decide(payment(plusCent(r.lowValueSingleMax), in: r))
        expect(over, .scaRequired, .noExemption)
        #expect(over.why(.lowValue) == .overSingleLimit)
        #expect(over.why(.trustedBeneficiary) == .payeeNotTrusted)
        #expect(over.why(.transactionRiskAnalysis) == .noRiskScore)
    }

    @Test("The 5th payment since the last SCA is exempt, the 6th needs SCA", arguments: RegimeCase.both)
    func sixthPaymentNeedsSCA(r: RegimeCase) {
        var harness = Harness()
        for count in 1...5 {
            let decision = harness.decide(payment("10.00", in: r, at: t0 + .minutes(Int64(count))))
            expect(decision, .exempt, .lowValue, citation: r.rts("16"))
            #expect(decision.counters.lowValueCount == count)
            #expect(decision.counters.lowValueTotal == r.amount("\(count)0.00"))
        }
        let sixth = harness.decide(payment("10.00", in: r, at: t0 + .minutes(6), sca: .failed))
        expect(sixth, .scaRequired, .noExemption)
        #expect(sixth.why(.lowValue) == .countCap)
        #expect(sixth.counters.lowValueCount == 5, "a failed SCA resets nothing")
    }

    @Test("The payment that would pass the cumulative cap needs SCA", arguments: RegimeCase.both)
    func cumulativeCapIsInclusive(r: RegimeCase) {
        // Three payments at the single limit, then the rest up to the cap exactly.
        let single = r.lowValueSingleMax
        let rest = "10.00"  // 90 + 10 = 100 EUR; 75 + 10 = 85 GBP
        var atCap = Harness()
        for minute in 1...3 { atCap.decide(payment(single, in: r, at: t0 + .minutes(Int64(minute)))) }
        let reaching = atCap.decide(payment(rest, in: r, at: t0 + .minutes(4)))
        expect(reaching, .exempt, .lowValue)
        #expect(reaching.counters.lowValueTotal == r.amount(r.lowValueTotalMax))
        #expect(reaching.counters.lowValueCount == 4)

        var overCap = Harness()
        for minute in 1...3 { overCap.decide(payment(single, in: r, at: t0 + .minutes(Int64(minute)))) }
        let passing = overCap.decide(payment(plusCent(rest), in: r, at: t0 + .minutes(4)))
        expect(passing, .scaRequired, .noExemption)
        #expect(passing.why(.lowValue) == .amountCap)
    }

    @Test("Counting by count ignores the amount cap", arguments: RegimeCase.both)
    func countingByCountIgnoresAmountCap(r: RegimeCase) {
        var harness = Harness { $0.lowValueCounting = .count }
        for minute in 1...5 {
            let decision = harness.decide(payment(r.lowValueSingleMax, in: r, at: t0 + .minutes(Int64(minute))))
            expect(decision, .exempt, .lowValue)
        }
        let sixth = harness.decide(payment("1.00", in: r, at: t0 + .minutes(6)))
        expect(sixth, .scaRequired, .noExemption)
        #expect(sixth.why(.lowValue) == .countCap)
    }

    @Test("Counting by amount ignores the count cap", arguments: RegimeCase.both)
    func countingByAmountIgnoresCountCap(r: RegimeCase) {
        var harness = Harness { $0.lowValueCounting = .amount }
        for minute in 1...8 {
            let decision = harness.decide(payment("1.00", in: r, at: t0 + .minutes(Int64(minute))))
            expect(decision, .exempt, .lowValue)
            #expect(decision.counters.lowValueCount == minute)
        }
        var capped = Harness { $0.lowValueCounting = .amount }
        for minute in 1...3 { capped.decide(payment(r.lowValueSingleMax, in: r, at: t0 + .minutes(Int64(minute)))) }
        let passing = capped.decide(payment("10.01", in: r, at: t0 + .minutes(4)))
        #expect(passing.why(.lowValue) == .amountCap)
    }

    @Test("Counting by both stops at whichever cap is hit first", arguments: RegimeCase.both)
    func countingByBothStopsAtFirstCap(r: RegimeCase) {
        #expect(RulesConfiguration().lowValueCounting == .both, "both is the default")
        var byCount = Harness()
        for minute in 1...5 { byCount.decide(payment("1.00", in: r, at: t0 + .minutes(Int64(minute)))) }
        #expect(byCount.decide(payment("1.00", in: r, at: t0 + .minutes(6))).why(.lowValue) == .countCap)

        var byAmount = Harness()
        for minute in 1...3 { byAmount.decide(payment(r.lowValueSingleMax, in: r, at: t0 + .minutes(Int64(minute)))) }
        #expect(byAmount.decide(payment(r.lowValueSingleMax, in: r, at: t0 + .minutes(4))).why(.lowValue) == .amountCap)
    }

    @Test("A passed SCA resets the counters; the next payment counts from 1", arguments: RegimeCase.both)
    func passedSCAResetsCounters(r: RegimeCase) {
        var harness = Harness()
        for minute in 1...5 { harness.decide(payment("10.00", in: r, at: t0 + .minutes(Int64(minute)))) }
        let sixth = harness.decide(payment("10.00", in: r, at: t0 + .minutes(6), sca: .passed))
        expect(sixth, .scaRequired, .noExemption)
        #expect(sixth.counters == Counters(lowValueCount: 0, lowValueTotal: r.zero))
        let seventh = harness.decide(payment("10.00", in: r, at: t0 + .minutes(7)))
        expect(seventh, .exempt, .lowValue)
        #expect(seventh.counters.lowValueCount == 1)
        #expect(seventh.counters.lowValueTotal == r.amount("10.00"))
    }

    @Test("A failed SCA does not reset the counters", arguments: RegimeCase.both)
    func failedSCADoesNotResetCounters(r: RegimeCase) {
        var harness = Harness()
        for minute in 1...5 { harness.decide(payment("10.00", in: r, at: t0 + .minutes(Int64(minute)))) }
        let before = harness.counters()
        harness.decide(payment("10.00", in: r, at: t0 + .minutes(6), sca: .failed))
        harness.decide(payment("900.00", in: r, at: t0 + .minutes(7), sca: .failed))
        #expect(harness.counters() == before)
        let next = harness.decide(payment("10.00", in: r, at: t0 + .minutes(8)))
        expect(next, .scaRequired, .noExemption)
        #expect(next.why(.lowValue) == .countCap)
    }

    @Test(
        "A passed SCA on any request naming the instrument resets its counters",
        arguments: [
            Action.login, .addBeneficiary, .trustBeneficiary, .sensitiveAction, .storeCredential,
        ])
    func passedSCAOnAnyActionResetsInstrumentCounters(action: Action) {
        var harness = Harness()
        for minute in 1...5 { harness.decide(payment("10.00", at: t0 + .minutes(Int64(minute)))) }
        let decision = harness.decide(request(action, at: t0 + .minutes(6), payee: "p", payeePSP: "PL"))
        #expect(decision.outcome == .scaRequired)
        #expect(harness.counters() == .zero(.eea))
        expect(harness.decide(payment("10.00", at: t0 + .minutes(7))), .exempt, .lowValue)
    }

    @Test("A passed SCA on customer-present account access naming the instrument resets its counters")
    func passedSCAOnAccountAccessResetsInstrumentCounters() {
        var harness = Harness()
        for minute in 1...5 { harness.decide(payment("10.00", at: t0 + .minutes(Int64(minute)))) }
        let access = harness.decide(aisAccess(at: t0 + .minutes(6), customerPresent: true, instrument: "card-1"))
        expect(access, .scaRequired, .aisFirstAccess)
        #expect(harness.counters() == .zero(.eea))
    }

    @Test("Any exemption of a remote payment counts toward the low-value counters", arguments: RegimeCase.both)
    func anyExemptionCountsTowardLowValue(r: RegimeCase) {
        var harness = Harness()
        harness.decide(request(.trustBeneficiary, in: r, instrument: "other-card", payee: "landlord"))
        let trusted = harness.decide(payment("60.00", in: r, at: t0 + .minutes(1), payee: "landlord"))
        expect(trusted, .exempt, .trustedBeneficiary, citation: r.rts("13"))
        #expect(trusted.counters == Counters(lowValueCount: 1, lowValueTotal: r.amount("60.00")))
        // 60 + 25 = 85 GBP and 60 + 30 = 90 EUR: still within the cap.
        let small = harness.decide(payment(r.regime == .uk ? "25.00" : "30.00", in: r, at: t0 + .minutes(2)))
        expect(small, .exempt, .lowValue)
        #expect(small.counters.lowValueCount == 2)
        let passing = harness.decide(payment("10.01", in: r, at: t0 + .minutes(3)))
        #expect(passing.why(.lowValue) == .amountCap)
    }

    @Test("Each instrument has its own counters")
    func countersArePerInstrument() {
        var harness = Harness()
        for minute in 1...5 { harness.decide(payment("10.00", at: t0 + .minutes(Int64(minute)))) }
        let otherCard = harness.decide(payment("10.00", at: t0 + .minutes(6), instrument: "card-2"))
        expect(otherCard, .exempt, .lowValue)
        #expect(otherCard.counters.lowValueCount == 1)
        let otherPayer = harness.decide(payment("10.00", at: t0 + .minutes(7), payer: "bob"))
        #expect(otherPayer.counters.lowValueCount == 1)
    }

    @Test("Low value is only for remote payments", arguments: [PaymentDetails.Channel.chip, .contactless])
    func lowValueIsOnlyForRemotePayments(channel: PaymentDetails.Channel) {
        var harness = Harness()
        let decision = harness.decide(payment("5.00", channel: channel, requested: .lowValue))
        #expect(decision.reason != .lowValue)
        #expect(decision.why(.lowValue) == .notRemote)
    }

    // MARK: Optional 24-hour reset (seed 004, config, off by default)

    @Test("With the 24-hour reset on, the counters restart a day after the first payment", arguments: RegimeCase.both)
    func countersRestartAfter24HoursWhenConfigured(r: RegimeCase) {
        var harness = Harness { $0.lowValueResetAfter24Hours = true }
        for minute in 0..<5 { harness.decide(payment("10.00", in: r, at: t0 + .minutes(Int64(minute)))) }
        let sameDay = harness.decide(payment("10.00", in: r, at: t0 + .hours(23) + .minutes(59), sca: .failed))
        #expect(sameDay.why(.lowValue) == .countCap)
        let exactlyADayLater = harness.decide(payment("10.00", in: r, at: t0 + .hours(24), sca: .failed))
        #expect(exactlyADayLater.why(.lowValue) == .countCap, "like every window of §4b, open while at ≤ start + 24 h")
        let nextDay = harness.decide(payment("10.00", in: r, at: t0 + .hours(24) + .minutes(1)))
        expect(nextDay, .exempt, .lowValue)
        #expect(nextDay.counters.lowValueCount == 1)
        #expect(nextDay.counters.lowValueTotal == r.amount("10.00"))
    }

    @Test("Without the 24-hour reset the counters have no time limit", arguments: RegimeCase.both)
    func countersHaveNoTimeLimitByDefault(r: RegimeCase) {
        #expect(RulesConfiguration().lowValueResetAfter24Hours == false)
        var harness = Harness()
        for minute in 0..<5 { harness.decide(payment("10.00", in: r, at: t0 + .minutes(Int64(minute)))) }
        let muchLater = harness.decide(payment("10.00", in: r, at: t0 + .days(30)))
        expect(muchLater, .scaRequired, .noExemption)
        #expect(muchLater.why(.lowValue) == .countCap)
    }
}
