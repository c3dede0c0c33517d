import Testing

@testable import SCARules

/// SCA-RULES §4 `account_information` / `ais_within_window` (RTS Art. 10, 10a, 36(5)) and
/// §4b: windows of 180 days (EEA) / 90 days (UK), open while `at ≤ last SCA + N × 24 h`;
/// at most 4 unattended accesses per consent per calendar day (UTC by default).
@Suite("Account information")
struct AccountInformationTests {
    /// Day 0, 10:00 UTC: the consent's SCA.
    static let consentSCA = instant("2026-01-05T10:00:00Z")

    /// A harness whose consent "consent-1" was authenticated at `consentSCA`.
    func authenticated(_ r: RegimeCase) -> Harness {
        var harness = Harness()
        let first = harness.decide(aisAccess(in: r, at: Self.consentSCA, customerPresent: true))
        expect(first, .scaRequired, .aisFirstAccess, citation: r.rts("10"))
        return harness
    }

    // MARK: Customer present (RTS Art. 10)

    @Test("The first access with the customer present needs SCA", arguments: RegimeCase.both)
    func firstAccessNeedsSCA(r: RegimeCase) {
        var harness = Harness()
        let decision = harness.decide(aisAccess(in: r, at: t0, customerPresent: true, sca: .failed))
        expect(decision, .scaRequired, .aisFirstAccess, citation: r.rts("10"))
        #expect(decision.regime == r.regime)
        expect(harness.decide(aisAccess(in: r, at: t0 + .minutes(1), customerPresent: true)), .scaRequired, .aisFirstAccess)
    }

    @Test("Within the window the customer's access is exempt", arguments: RegimeCase.both)
    func accessWithinWindowIsExempt(r: RegimeCase) {
        var harness = authenticated(r)
        let decision = harness.decide(aisAccess(in: r, at: Self.consentSCA + .days(40), customerPresent: true))
        expect(decision, .exempt, .accountInformation, citation: r.rts("10"))
    }

    @Test("The window is open at its last instant and lapsed one second later", arguments: RegimeCase.both)
    func windowEdgeForCustomerPresent(r: RegimeCase) {
        let end = Self.consentSCA + .days(r.aisWindowDays)
        var atEnd = authenticated(r)
        expect(atEnd.decide(aisAccess(in: r, at: end, customerPresent: true)), .exempt, .accountInformation)
        var after = authenticated(r)
        let lapsed = after.decide(aisAccess(in: r, at: end + .seconds(1), customerPresent: true))
        expect(lapsed, .scaRequired, .aisRenewalDue, citation: r.rts("10"))
    }

    @Test("A passed renewal opens a new window from the renewal", arguments: RegimeCase.both)
    func renewalOpensNewWindow(r: RegimeCase) {
        var harness = authenticated(r)
        let renewal = Self.consentSCA + .days(r.aisWindowDays + 10)
        harness.decide(aisAccess(in: r, at: renewal, customerPresent: true, sca: .failed))
        expect(harness.decide(aisAccess(in: r, at: renewal + .hours(1), customerPresent: true)), .scaRequired, .aisRenewalDue)
        expect(
            harness.decide(aisAccess(in: r, at: renewal + .hours(1) + .days(r.aisWindowDays), customerPresent: true)),
            .exempt, .accountInformation
        )
    }

    @Test("The window is configurable")
    func windowIsConfigurable() {
        var harness = Harness { $0.aisWindowDays = [.eea: 90, .uk: 90] }
        harness.decide(aisAccess(at: Self.consentSCA, customerPresent: true))
        let decision = harness.decide(aisAccess(at: Self.consentSCA + .days(90) + .seconds(1), customerPresent: true))
        expect(decision, .scaRequired, .aisRenewalDue)
    }

    @Test("Consents are per payer and per consent id")
    func consentsArePerPayerAndId() {
        var harness = authenticated(.eea)
        let at = Self.consentSCA + .days(1)
        expect(harness.decide(aisAccess(at: at, consent: "consent-2", customerPresent: true)), .scaRequired, .aisFirstAccess)
        expect(harness.decide(aisAccess(at: at, payer: "bob", customerPresent: false)), .refused, .consentUnknown)
        expect(harness.decide(aisAccess(at: at, payer: "bob", customerPresent: true)), .scaRequired, .aisFirstAccess)
    }

    // MARK: Unattended (RTS Art. 10a, 36(5))

    @Test("Four unattended accesses a day are exempt, the fifth is refused", arguments: RegimeCase.both)
    func fifthUnattendedAccessIsRefused(r: RegimeCase) {
        var harness = authenticated(r)
        let day = Self.consentSCA + .days(40)
        for access in 1...4 {
            let decision = harness.decide(aisAccess(in: r, at: day + .hours(Int64(access)), customerPresent: false))
            expect(decision, .exempt, .aisWithinWindow, citation: r.rts("10a"))
            #expect(decision.counters.aisUnattendedToday == access)
        }
        let fifth = harness.decide(aisAccess(in: r, at: day + .hours(5), customerPresent: false))
        expect(fifth, .refused, .aisDailyLimit, citation: r.rts("36(5)"))
        #expect(fifth.counters.aisUnattendedToday == 4)
    }

    @Test("The daily count restarts at the next UTC day", arguments: RegimeCase.both)
    func dailyCountRestartsNextUTCDay(r: RegimeCase) {
        var harness = authenticated(r)
        let day = instant("2026-02-14T00:00:00Z")
        for access in 1...4 { harness.decide(aisAccess(in: r, at: day + .hours(Int64(access)), customerPresent: false)) }
        let lastSecond = harness.decide(aisAccess(in: r, at: instant("2026-02-14T23:59:59Z"), customerPresent: false))
        expect(lastSecond, .refused, .aisDailyLimit)
        let nextDay = harness.decide(aisAccess(in: r, at: instant("2026-02-15T00:00:00Z"), customerPresent: false))
        expect(nextDay, .exempt, .aisWithinWindow)
        #expect(nextDay.counters.aisUnattendedToday == 1)
    }

    @Test("The calendar day of the daily limit is configurable")
    func calendarDayIsConfigurable() {
        var harness = Harness { configuration in
            configuration.aisDayZone = CalendarZone(name: "CET") { _ in 3600 }
        }
        harness.decide(aisAccess(at: Self.consentSCA, customerPresent: true))
        for minute in 0..<4 {
            harness.decide(aisAccess(at: instant("2026-02-14T22:00:00Z") + .minutes(Int64(minute)), customerPresent: false))
        }
        // 23:00 UTC is already 00:00 the next day in CET.
        expect(harness.decide(aisAccess(at: instant("2026-02-14T23:00:00Z"), customerPresent: false)), .exempt, .aisWithinWindow)
    }

    @Test("The customer's own accesses do not count toward the unattended limit")
    func customerAccessesDoNotCount() {
        var harness = authenticated(.eea)
        let day = Self.consentSCA + .days(2)
        for minute in 0..<6 { harness.decide(aisAccess(at: day + .minutes(Int64(minute)), customerPresent: true)) }
        let unattended = harness.decide(aisAccess(at: day + .hours(1), customerPresent: false))
        expect(unattended, .exempt, .aisWithinWindow)
        #expect(unattended.counters.aisUnattendedToday == 1)
    }

    @Test("Unattended access is allowed at the window's last instant, refused one second later", arguments: RegimeCase.both)
    func windowEdgeForUnattended(r: RegimeCase) {
        let end = Self.consentSCA + .days(r.aisWindowDays)
        var atEnd = authenticated(r)
        expect(atEnd.decide(aisAccess(in: r, at: end, customerPresent: false)), .exempt, .aisWithinWindow)
        var after = authenticated(r)
        let lapsed = after.decide(aisAccess(in: r, at: end + .seconds(1), customerPresent: false))
        expect(lapsed, .refused, .aisRenewalDue)
    }

    @Test("Unattended access on an unknown consent is refused", arguments: RegimeCase.both)
    func unattendedUnknownConsentIsRefused(r: RegimeCase) {
        var harness = Harness()
        let decision = harness.decide(aisAccess(in: r, at: t0, customerPresent: false))
        expect(decision, .refused, .consentUnknown)
        #expect(decision.regime == r.regime)
    }

    @Test("A consent whose first SCA failed stays unknown to the AISP")
    func failedFirstSCALeavesConsentUnknown() {
        var harness = Harness()
        harness.decide(aisAccess(at: t0, customerPresent: true, sca: .failed))
        expect(harness.decide(aisAccess(at: t0 + .hours(1), customerPresent: false)), .refused, .consentUnknown)
    }

    @Test("The seed's 19:00 refresh: second unattended call today on a 40-day-old consent is exempt")
    func workedExampleAISPRefresh() {
        var harness = authenticated(.eea)
        let day = Self.consentSCA + .days(40)
        harness.decide(aisAccess(at: day - .hours(3), customerPresent: false))
        let second = harness.decide(aisAccess(at: day + .hours(9), customerPresent: false))
        expect(second, .exempt, .aisWithinWindow)
        #expect(second.counters.aisUnattendedToday == 2)
    }
}
