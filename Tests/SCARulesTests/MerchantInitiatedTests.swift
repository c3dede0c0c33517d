import Testing

@testable import SCARules

/// SCA-RULES §3: `merchant_initiated` needs a reference to an earlier request of the same
/// payer (and, where it named one, the same payee) authenticated with SCA: a
/// `store_credential` or a customer-initiated payment whose SCA passed. Anything else is
/// refused `mit_without_mandate`.
@Suite("Merchant-initiated transactions")
struct MerchantInitiatedTests {
    func mit(_ r: RegimeCase, ref: String?, payer: String = "anna", payee: String = "streaming", at: Instant)
        -> DecisionRequest
    {
        payment("12.99", in: r, at: at, payer: payer, payee: payee, initiator: .merchant, mandateRef: ref)
    }

    @Test("An MIT referencing a passed store_credential is out of scope", arguments: RegimeCase.both)
    func mitAfterPassedStoreCredentialIsOutOfScope(r: RegimeCase) {
        var harness = Harness()
        let stored = harness.decide(
            request(.storeCredential, in: r, id: "sc-1", payee: "streaming", payeePSP: r.payeePSP)
        )
        expect(stored, .scaRequired, .alwaysRequired)
        let decision = harness.decide(mit(r, ref: "sc-1", at: t0 + .days(30)))
        expect(decision, .outOfScope, .merchantInitiated, citation: "PSD2 Art. 97")
        #expect(decision.regime == r.regime)
        #expect(decision.counters.lowValueCount == 0, "an out-of-scope payment is not counted")
    }

    @Test("An MIT referencing a customer payment whose SCA passed is out of scope", arguments: RegimeCase.both)
    func mitAfterAuthenticatedCustomerPaymentIsOutOfScope(r: RegimeCase) {
        var harness = Harness()
        let first = harness.decide(payment("600.00", in: r, id: "first", payee: "streaming"))
        expect(first, .scaRequired, .noExemption)
        let decision = harness.decide(mit(r, ref: "first", at: t0 + .days(1)))
        expect(decision, .outOfScope, .merchantInitiated, citation: "PSD2 Art. 97")
    }

    @Test("The first payment of a recurring series, authenticated, is a mandate", arguments: RegimeCase.both)
    func recurringFirstPaymentIsAMandate(r: RegimeCase) {
        var harness = Harness()
        let first = harness.decide(payment("9.99", in: r, id: "sub-1", payee: "streaming", recurring: true))
        expect(first, .scaRequired, .recurringFirst)
        let decision = harness.decide(mit(r, ref: "sub-1", at: t0 + .days(31)))
        expect(decision, .outOfScope, .merchantInitiated)
    }

    @Test("A store_credential that named no payee covers MITs to any payee")
    func mandateWithoutPayeeCoversAnyPayee() {
        var harness = Harness()
        harness.decide(request(.storeCredential, id: "card-on-file"))
        let decision = harness.decide(mit(.eea, ref: "card-on-file", payee: "anyone", at: t0 + .hours(1)))
        expect(decision, .outOfScope, .merchantInitiated)
    }

    @Test("An MIT without any reference is refused", arguments: RegimeCase.both)
    func mitWithoutReferenceIsRefused(r: RegimeCase) {
        var harness = Harness()
        let decision = harness.decide(mit(r, ref: nil, at: t0))
        expect(decision, .refused, .mitWithoutMandate, citation: "PSD2 Art. 97")
        #expect(decision.regime == r.regime)
    }

    @Test("An MIT referencing an unknown request is refused")
    func mitWithUnknownReferenceIsRefused() {
        var harness = Harness()
        harness.decide(request(.storeCredential, id: "sc-1", payee: "streaming", payeePSP: "PL"))
        expect(harness.decide(mit(.eea, ref: "sc-2", at: t0 + .hours(1))), .refused, .mitWithoutMandate)
    }

    @Test("An exempt payment is not a mandate", arguments: RegimeCase.both)
    func exemptPaymentIsNotAMandate(r: RegimeCase) {
        var harness = Harness()
        let exempt = harness.decide(payment("9.99", in: r, id: "small", payee: "streaming"))
        expect(exempt, .exempt, .lowValue)
        expect(harness.decide(mit(r, ref: "small", at: t0 + .hours(1))), .refused, .mitWithoutMandate)
    }

    @Test("An MIT referencing another payer's authenticated request is refused")
    func mitReferencingAnotherPayerIsRefused() {
        var harness = Harness()
        harness.decide(request(.storeCredential, id: "bob-sc", payer: "bob", payee: "streaming", payeePSP: "PL"))
        expect(harness.decide(mit(.eea, ref: "bob-sc", payer: "anna", at: t0 + .hours(1))), .refused, .mitWithoutMandate)
        expect(harness.decide(mit(.eea, ref: "bob-sc", payer: "bob", at: t0 + .hours(2))), .outOfScope, .merchantInitiated)
    }

    @Test("An MIT to a different payee than the mandate names is refused")
    func mitToDifferentPayeeIsRefused() {
        var harness = Harness()
        harness.decide(request(.storeCredential, id: "sc-1", payee: "streaming", payeePSP: "PL"))
        expect(harness.decide(mit(.eea, ref: "sc-1", payee: "gym", at: t0 + .hours(1))), .refused, .mitWithoutMandate)

        harness.decide(payment("600.00", id: "pay-1", at: t0 + .hours(2), payee: "airline"))
        expect(harness.decide(mit(.eea, ref: "pay-1", payee: "hotel", at: t0 + .hours(3))), .refused, .mitWithoutMandate)
    }

    @Test("An MIT referencing a request whose SCA failed is refused", arguments: RegimeCase.both)
    func mitReferencingFailedSCAIsRefused(r: RegimeCase) {
        var harness = Harness()
        harness.decide(request(.storeCredential, in: r, id: "sc-failed", payee: "streaming", payeePSP: r.payeePSP, sca: .failed))
        harness.decide(payment("600.00", in: r, id: "pay-failed", payee: "streaming", sca: .failed))
        expect(harness.decide(mit(r, ref: "sc-failed", at: t0 + .hours(1))), .refused, .mitWithoutMandate)
        expect(harness.decide(mit(r, ref: "pay-failed", at: t0 + .hours(2))), .refused, .mitWithoutMandate)
    }

    @Test("Only store_credential and authenticated payments are mandates, not other SCA actions")
    func otherAuthenticatedActionsAreNotMandates() {
        var harness = Harness()
        harness.decide(request(.login, id: "login-1", instrument: nil))
        harness.decide(request(.addBeneficiary, id: "add-1", at: t0 + .minutes(1), payee: "streaming", payeePSP: "PL"))
        expect(harness.decide(mit(.eea, ref: "login-1", at: t0 + .hours(1))), .refused, .mitWithoutMandate)
        expect(harness.decide(mit(.eea, ref: "add-1", at: t0 + .hours(2))), .refused, .mitWithoutMandate)
    }

    @Test("An authenticated customer payment stays a mandate through the in-memory retention limit")
    func authenticatedPaymentStaysAMandate() {
        var harness = Harness()
        harness.decide(payment("600.00", id: "first", payee: "streaming"))
        let laterPayments = RulesConfiguration().paymentMandatesPerPayerMax - 1
        for day in 1...laterPayments {
            harness.decide(payment("600.00", id: "later-\(day)", at: t0 + .days(Int64(day)), payee: "airline"))
        }
        expect(harness.decide(mit(.eea, ref: "first", at: t0 + .days(60))), .outOfScope, .merchantInitiated)
    }

    @Test("The in-memory store forgets the oldest payment mandate past its documented limit")
    func oldestPaymentMandateIsForgottenPastTheLimit() {
        var harness = Harness { $0.paymentMandatesPerPayerMax = 2 }
        harness.decide(request(.storeCredential, id: "card-on-file", payee: "streaming", payeePSP: "PL"))
        harness.decide(payment("600.00", id: "first", payee: "streaming"))
        harness.decide(payment("600.00", id: "second", at: t0 + .days(1), payee: "streaming"))
        harness.decide(payment("600.00", id: "third", at: t0 + .days(2), payee: "streaming"))
        expect(harness.decide(mit(.eea, ref: "first", at: t0 + .days(3))), .refused, .mitWithoutMandate)
        expect(harness.decide(mit(.eea, ref: "second", at: t0 + .days(3))), .outOfScope, .merchantInitiated)
        expect(harness.decide(mit(.eea, ref: "card-on-file", at: t0 + .days(3))), .outOfScope, .merchantInitiated)
    }

    @Test("A valid MIT is out of scope before any exemption is tried")
    func validMITIsOutOfScopeBeforeExemptions() {
        var harness = Harness()
        harness.decide(request(.trustBeneficiary, payee: "streaming", payeePSP: "PL"))
        harness.decide(request(.storeCredential, id: "sc-1", at: t0 + .minutes(1), payee: "streaming", payeePSP: "PL"))
        let decision = harness.decide(mit(.eea, ref: "sc-1", at: t0 + .hours(1)))
        expect(decision, .outOfScope, .merchantInitiated)
        #expect(decision.notApplied.isEmpty)
    }
}
