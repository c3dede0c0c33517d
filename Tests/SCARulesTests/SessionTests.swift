import Testing

@testable import SCARules

/// SCA-RULES §2 and §4b: login sessions (RTS Art. 4(3)(d)) and the actions that always
/// need SCA.
@Suite("Sessions and always-SCA actions")
struct SessionTests {
    /// A harness whose payer "anna" logged in with a passed SCA at `t0`.
    func loggedIn(_ r: RegimeCase) -> Harness {
        var harness = Harness()
        let decision = harness.decide(login(in: r, at: t0))
        expect(decision, .scaRequired, .noSession)
        return harness
    }

    @Test("A login without a session needs SCA", arguments: RegimeCase.both)
    func loginWithoutSessionNeedsSCA(r: RegimeCase) {
        var harness = Harness()
        let decision = harness.decide(login(in: r, at: t0))
        expect(decision, .scaRequired, .noSession)
        #expect(decision.regime == r.regime)
    }

    @Test("A login inside a live session is already authenticated", arguments: RegimeCase.both)
    func loginInsideLiveSessionIsAlreadyAuthenticated(r: RegimeCase) {
        var harness = loggedIn(r)
        let decision = harness.decide(login(in: r, at: t0 + .minutes(4) + .seconds(59)))
        expect(decision, .alreadyAuthenticated, .sessionActive, citation: r.rts("4(3)(d)"))
    }

    @Test(
        "A login five minutes or more after the last activity finds the session idle",
        arguments: [
            Instant.Duration.minutes(5), .minutes(5) + .seconds(1), .minutes(30),
        ])
    func loginAfterIdleTimeNeedsSCA(idle: Instant.Duration) {
        var harness = loggedIn(.eea)
        let decision = harness.decide(login(at: t0 + idle))
        expect(decision, .scaRequired, .sessionIdle)
    }

    @Test("A login after the session idled cites RTS Art. 4(3)(d)", arguments: RegimeCase.both)
    func idleLoginCitesArticle(r: RegimeCase) {
        var harness = loggedIn(r)
        expect(harness.decide(login(in: r, at: t0 + .minutes(5) + .seconds(1))), .scaRequired, .sessionIdle, citation: r.rts("4(3)(d)"))
    }

    @Test("A failed login SCA starts no session")
    func failedLoginStartsNoSession() {
        var harness = Harness()
        harness.decide(login(at: t0, sca: .failed))
        expect(harness.decide(login(at: t0 + .minutes(1))), .scaRequired, .noSession)
    }

    @Test("Any decided request keeps the session alive")
    func anyDecidedRequestKeepsSessionAlive() {
        var harness = loggedIn(.eea)
        harness.decide(payment("10.00", at: t0 + .minutes(4)))
        expect(harness.decide(login(at: t0 + .minutes(8))), .alreadyAuthenticated, .sessionActive)
    }

    @Test("Already-authenticated answers keep the session alive too")
    func alreadyAuthenticatedKeepsSessionAlive() {
        var harness = loggedIn(.eea)
        for minute in stride(from: 4, through: 20, by: 4) {
            expect(harness.decide(login(at: t0 + .minutes(Int64(minute)))), .alreadyAuthenticated, .sessionActive)
        }
    }

    @Test("Refused and out-of-scope requests are activity as well")
    func refusedAndOutOfScopeRequestsAreActivity() {
        var harness = loggedIn(.eea)
        harness.decide(payment("10.00", at: t0 + .minutes(4), initiator: .merchant))
        harness.decide(payment("10.00", at: t0 + .minutes(8), payeePSP: "US"))
        expect(harness.decide(login(at: t0 + .minutes(12))), .alreadyAuthenticated, .sessionActive)
    }

    @Test("Another payer's activity does not keep the session alive")
    func otherPayersActivityDoesNotCount() {
        var harness = loggedIn(.eea)
        harness.decide(payment("10.00", at: t0 + .minutes(4), payer: "bob"))
        expect(harness.decide(login(at: t0 + .minutes(8))), .scaRequired, .sessionIdle)
    }

    @Test("An idle session is not revived by later activity")
    func idleSessionIsNotRevived() {
        var harness = loggedIn(.eea)
        harness.decide(payment("10.00", at: t0 + .minutes(6)))
        expect(harness.decide(login(at: t0 + .minutes(7))), .scaRequired, .sessionIdle)
    }

    @Test("A failed SCA on an idle session's login does not revive it")
    func failedLoginDoesNotReviveIdleSession() {
        var harness = loggedIn(.eea)
        harness.decide(login(at: t0 + .minutes(10), sca: .failed))
        expect(harness.decide(login(at: t0 + .minutes(11))), .scaRequired, .sessionIdle)
        harness.decide(login(at: t0 + .minutes(12)))
        expect(harness.decide(login(at: t0 + .minutes(13))), .alreadyAuthenticated, .sessionActive)
    }

    @Test("The idle time is configurable")
    func idleTimeIsConfigurable() {
        #expect(RulesConfiguration().sessionIdleMax == .minutes(5))
        var harness = Harness { $0.sessionIdleMax = .minutes(2) }
        harness.decide(login(at: t0))
        expect(harness.decide(login(at: t0 + .minutes(2))), .scaRequired, .sessionIdle)
    }

    @Test("Sessions are per payer")
    func sessionsArePerPayer() {
        var harness = loggedIn(.eea)
        expect(harness.decide(login(at: t0 + .minutes(1), payer: "bob")), .scaRequired, .noSession)
    }

    // MARK: A live session never covers another action

    @Test("A live session does not cover a payment", arguments: RegimeCase.both)
    func liveSessionDoesNotCoverPayment(r: RegimeCase) {
        var harness = loggedIn(r)
        let decision = harness.decide(payment("600.00", in: r, at: t0 + .minutes(1)))
        expect(decision, .scaRequired, .noExemption)
    }

    @Test(
        "A live session does not cover an always-SCA action",
        arguments: [Action.addBeneficiary, .trustBeneficiary, .sensitiveAction, .storeCredential]
    )
    func liveSessionDoesNotCoverAlwaysSCAActions(action: Action) {
        var harness = loggedIn(.eea)
        let decision = harness.decide(request(action, at: t0 + .minutes(1), payee: "landlord", payeePSP: "PL"))
        expect(decision, .scaRequired, .alwaysRequired)
    }

    // MARK: Always-SCA actions (§2)

    @Test(
        "add_beneficiary, trust_beneficiary, sensitive_action and store_credential always need SCA",
        arguments: RegimeCase.both, [Action.addBeneficiary, .trustBeneficiary, .sensitiveAction, .storeCredential]
    )
    func alwaysSCAActions(r: RegimeCase, action: Action) {
        var harness = Harness()
        for round in 0..<2 {
            let decision = harness.decide(request(action, in: r, at: t0 + .minutes(Int64(round)), payee: "landlord", payeePSP: r.payeePSP))
            expect(decision, .scaRequired, .alwaysRequired)
            #expect(decision.regime == r.regime)
            #expect(decision.notApplied.isEmpty)
            if action == .trustBeneficiary {
                #expect(decision.citationText == r.rts("13"))
            } else {
                #expect(decision.citationText.hasPrefix("PSD2 Art. 97"))
            }
        }
    }

    @Test("Adding a beneficiary is separate from paying it")
    func addingBeneficiaryDoesNotExemptPayment() {
        var harness = Harness()
        harness.decide(request(.addBeneficiary, at: t0, payee: "landlord", payeePSP: "PL"))
        expect(harness.decide(payment("2200.00", "PLN", at: t0 + .minutes(1), payee: "landlord")), .scaRequired, .noExemption)
    }
}
