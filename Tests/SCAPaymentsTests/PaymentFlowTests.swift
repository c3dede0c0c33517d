import Foundation
import Logging
import SCAAudit
import SCACards
import SCAGate
import SCAPayments
import SCAPrimitives
import SCARules
import SCASchema
import SCAStore
import Synchronization
import Testing

/// The flows of issue 5, each through the payments service on a real SQLite store, against
/// the sandbox issuers (rates 0 or 1, so every outcome is fixed).
@Suite struct PaymentFlowTests {
    static let logger = Logger(label: "payments-test")

    /// A service on a fresh store, with a clock the test moves.
    final class Harness: Sendable {
        let service: PaymentService
        let store: DecisionStore
        let directory: URL
        let clock = ManualClock(Instant(rfc3339: "2026-11-21T12:00:00Z")!)

        init(_ settings: PaymentSettings = PaymentSettings()) async throws {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("sca-payments-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let database = try await StoreDatabase.open(
                .sqlite(path: directory.appendingPathComponent("sca.sqlite").path), logger: PaymentFlowTests.logger)
            try await Migrations.migrate(database, schema: EngineSchema.schema, now: "2026-11-21T00:00:00Z")
            store = DecisionStore(database: database, engine: RulesEngine(), clock: .manual(clock), logger: PaymentFlowTests.logger)
            service = try await PaymentService(
                store: store, settings: settings, masterKey: Array(repeating: 7, count: 32), pepper: Array(repeating: 9, count: 32)
            )
        }

        func close() async {
            await store.database.close()
            try? FileManager.default.removeItem(at: directory)
        }

        func advance(seconds: Int64) { clock.advance(.seconds(seconds)) }

        /// The merchant whose payments these are (`ResourceOwner`).
        static let merchant = ResourceOwner.client("cli_test", tenant: "ten_test")

        func pay(
            _ card: String, amount: Int = 2500, currency: String = "EUR", threeDS: String = #"{"enabled": true}"#,
            extra: String = "", key: String? = nil
        ) async throws -> [String: Any] {
            let body = """
                {"source": {"type": "card", "number": "\(card)", "expiry_month": 12, "expiry_year": 2030, "cvv": "100"},
                 "amount": \(amount), "currency": "\(currency)", "3ds": \(threeDS)\(extra.isEmpty ? "" : ", " + extra)}
                """
            return Self.object(try await service.create(body: Array(body.utf8), idempotencyKey: key, owner: Harness.merchant).json)
        }

        static func object(_ json: String) -> [String: Any] {
            (try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]) ?? [:]
        }

        func payment(_ answer: [String: Any]) async throws -> [String: Any] {
            Self.object(try await service.payment(answer["id"] as! String, owner: Harness.merchant).json)
        }

        /// The ACS transaction of a pending payment's challenge.
        func challenge(_ answer: [String: Any]) -> String? {
            let links = answer["_links"] as? [String: Any]
            return ((links?["redirect"] as? [String: Any])?["href"] as? String)?.split(separator: "/").last.map(String.init)
        }

        /// Completes a pending payment's challenge with the right (or a wrong) answer.
        @discardableResult
        func complete(_ answer: [String: Any], right: Bool = true, trust: Bool = false) async throws -> PaymentService.ChallengeReply {
            let acs = try #require(challenge(answer))
            let view = try #require(service.challengeView(acs))
            return try await service.answerChallenge(
                acs, .respond(password: right ? SimulatedIssuer.sandboxPassword : "wrong", code: view.sandboxCode, trustMerchant: trust)
            )
        }
    }

    static func threeDS(_ answer: [String: Any]) -> [String: Any] { answer["3ds"] as? [String: Any] ?? [:] }
    static func sca(_ answer: [String: Any]) -> [String: Any] { answer["sca"] as? [String: Any] ?? [:] }

    @Test func frictionless() async throws {
        let h = try await Harness()
        let answer = try await h.pay("4000010000000019", threeDS: #"{"enabled": true, "challenge_indicator": "no_challenge_requested"}"#)
        #expect(answer["status"] as? String == "Authorized")
        #expect(answer["response_code"] as? String == "10000")
        #expect(answer["path"] as? String == "frictionless")
        #expect(Self.threeDS(answer)["trans_status"] as? String == "Y")
        #expect(Self.threeDS(answer)["eci"] as? String == "05")
        #expect(Self.threeDS(answer)["challenged"] as? Bool == false)
        #expect(answer["liability_shift"] as? Bool == true)
        #expect(answer["liability"] as? String == "issuer")
        // Mastercard's ECI for the same path.
        let mastercard = try await h.pay(
            "5100010000000015", threeDS: #"{"enabled": true, "challenge_indicator": "no_challenge_requested"}"#)
        #expect(Self.threeDS(mastercard)["eci"] as? String == "02")
        await h.close()
    }

    /// Every answer has the same members in the same order (docs/PAYMENTS-API.md), and
    /// `sca.not_applied` is a list as in a decision's answer.
    @Test func answersHaveOneShape() async throws {
        let h = try await Harness()
        let members = [
            "id", "status", "approved", "response_code", "response_summary", "amount", "currency", "captured_amount", "reference",
            "payment_type", "merchant_initiated", "previous_payment_id", "source", "path", "3ds", "liability_shift", "liability", "sca",
            "optimizer", "next_action", "notes", "created_at", "_links",
        ]
        func order(_ json: String) throws -> [String] {
            // The top-level member names, in the order they appear.
            let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
            return object.keys.sorted { json.range(of: "\"\($0)\":")!.lowerBound < json.range(of: "\"\($1)\":")!.lowerBound }
        }
        for card in ["4000010000000019", "4000020000000018", "4000030000000017"] {
            let body = """
                {"source": {"type": "card", "number": "\(card)", "expiry_month": 12, "expiry_year": 2030, "cvv": "100"},
                 "amount": 4000, "currency": "EUR", "3ds": {"enabled": true, "exemption": "low_value"}}
                """
            let answer = try await h.service.create(body: Array(body.utf8), idempotencyKey: nil, owner: Harness.merchant).json
            #expect(try order(answer) == members, "\(card)")
            let sca = try #require(PaymentFlowTests.Harness.object(answer)["sca"] as? [String: Any])
            let notApplied = try #require(sca["not_applied"] as? [[String: Any]], "\(card): not_applied is a list")
            #expect(
                !notApplied.isEmpty && notApplied.allSatisfy { $0["reason"] is String && $0["why"] is String && $0["message"] is String })
        }
        await h.close()
    }

    @Test func challengePassedWithTraceAndAudit() async throws {
        let h = try await Harness()
        let pending = try await h.pay("4000020000000018", threeDS: #"{"enabled": true, "challenge_indicator": "challenge_requested"}"#)
        #expect(pending["status"] as? String == "Pending")
        #expect(pending["next_action"] as? String == "complete_challenge")
        // The challenge shows what is paid to whom (dynamic linking).
        let acs = try #require(h.challenge(pending))
        let view = try #require(h.service.challengeView(acs))
        #expect(view.displayText == "Pay 25.00 EUR to Demo Shop")
        #expect(try await h.complete(pending) == .finished(paymentID: pending["id"] as! String, transStatus: "Y"))
        let done = try await h.payment(pending)
        #expect(done["status"] as? String == "Authorized")
        #expect(done["path"] as? String == "challenge")
        #expect(Self.threeDS(done)["challenged"] as? Bool == true)
        #expect(Self.threeDS(done)["eci"] as? String == "05")
        #expect(done["liability_shift"] as? Bool == true)
        // The whole conversation is kept, in order, for chargeback defence.
        let trace = Harness.object(
            try JSONValueEncoder.encode(try await h.service.trace(pending["id"] as! String, owner: Harness.merchant)))
        let steps = (trace["messages"] as? [[String: Any]] ?? []).map { $0["step"] as? String ?? "" }
        #expect(
            steps == [
                "acquirer_decision", "AReq", "AReq", "ARes", "ARes", "RReq", "RReq", "RRes", "authorisation_request",
                "authorisation_response",
            ])
        // No card number in the trace, and every step in a verifying audit chain.
        #expect(
            !(try JSONValueEncoder.encode(try await h.service.trace(pending["id"] as! String, owner: Harness.merchant))).contains(
                "4000020000000018"))
        let events = try await h.store.database.read("SELECT COUNT(*) AS n FROM audit_events WHERE kind = 'card_payment'")
        #expect(try events[0].decode(column: "n", as: Int.self) == 2)
        guard case .intact = try await h.store.verifyAudit() else {
            Issue.record("the audit chain does not verify")
            return
        }
        await h.close()
    }

    @Test func challengeFailedAfterTheAttemptLimit() async throws {
        let h = try await Harness()
        let pending = try await h.pay("4000020000000018")
        for remaining in (1...4).reversed() {
            #expect(try await h.complete(pending, right: false) == .retry(remaining: remaining))
        }
        #expect(try await h.complete(pending, right: false) == .finished(paymentID: pending["id"] as! String, transStatus: "N"))
        let done = try await h.payment(pending)
        #expect(done["status"] as? String == "Declined")
        #expect(done["response_code"] as? String == "20151")
        #expect(done["liability_shift"] as? Bool == false)
        await h.close()
    }

    /// RTS Art. 4(2): a failed challenge never says which element was wrong, and both
    /// wrong elements count against the same attempt limit.
    @Test func aFailedAnswerDoesNotSayWhichElementWasWrong() async throws {
        let h = try await Harness()
        let pending = try await h.pay("4000020000000018")
        let acs = try #require(h.challenge(pending))
        let code = try #require(h.service.challengeView(acs)).sandboxCode
        let wrongCode = code == "000000" ? "111111" : "000000"
        let wrongPassword = try await h.service.answerChallenge(acs, .respond(password: "wrong", code: code, trustMerchant: false))
        let wrongCodeAnswer = try await h.service.answerChallenge(
            acs, .respond(password: SimulatedIssuer.sandboxPassword, code: wrongCode, trustMerchant: false)
        )
        #expect(wrongPassword == .retry(remaining: 4))
        #expect(wrongCodeAnswer == .retry(remaining: 3))
        await h.close()
    }

    @Test func challengeAbandonedOrTimedOut() async throws {
        let h = try await Harness()
        let cancelled = try await h.pay("4000020000000018")
        let cancelACS = try #require(h.challenge(cancelled))
        _ = try await h.service.answerChallenge(cancelACS, .cancel)
        let done = try await h.payment(cancelled)
        #expect(done["status"] as? String == "Declined")
        #expect(done["response_code"] as? String == "20151")
        #expect(Self.threeDS(done)["challenge_cancel"] as? String == "01")
        // Left alone past the challenge's lifetime: not completed in time.
        // At the boundary: pending one millisecond before the lifetime ends, declined at it.
        let left = try await h.pay("4000020000000018", amount: 2600)
        #expect(left["status"] as? String == "Pending")
        h.clock.advance(Instant.Duration(milliseconds: 300_000 - 1))
        #expect(try await h.payment(left)["status"] as? String == "Pending")
        h.clock.advance(Instant.Duration(milliseconds: 1))
        let expired = try await h.payment(left)
        #expect(expired["status"] as? String == "Declined")
        #expect(expired["response_code"] as? String == "20152")
        await h.close()
    }

    @Test func exemptionGrantedDuringAuthentication() async throws {
        let h = try await Harness()
        let answer = try await h.pay("4000030000000017", threeDS: #"{"enabled": true, "exemption": "low_value"}"#)
        #expect(answer["status"] as? String == "Authorized")
        #expect(answer["path"] as? String == "exemption")
        #expect(Self.threeDS(answer)["trans_status"] as? String == "I")
        #expect(Self.threeDS(answer)["eci"] as? String == "07")
        #expect(Self.threeDS(answer)["exemption_requested"] as? String == "low_value")
        #expect(Self.threeDS(answer)["exemption_applied"] as? String == "low_value")
        #expect(answer["liability_shift"] as? Bool == false)
        #expect(answer["liability"] as? String == "merchant")
        await h.close()
    }

    @Test func exemptionRefusedDuringAuthenticationBecomesAChallenge() async throws {
        let h = try await Harness()
        let answer = try await h.pay(
            "4000020000000018", threeDS: #"{"enabled": true, "exemption": "low_value", "challenge_indicator": "no_challenge_requested"}"#)
        #expect(answer["status"] as? String == "Pending")
        #expect(Self.threeDS(answer)["exemption_requested"] as? String == "low_value")
        #expect(Self.threeDS(answer)["exemption_applied"] is NSNull)
        try await h.complete(answer)
        #expect(try await h.payment(answer)["liability"] as? String == "issuer")
        await h.close()
    }

    @Test func exemptionRefusedAtAuthorisationIsRetriedWith3DS() async throws {
        let h = try await Harness()
        let answer = try await h.pay("4000040000000016", threeDS: #"{"enabled": false, "exemption": "low_value"}"#)
        #expect(answer["status"] as? String == "Pending")
        #expect(answer["path"] as? String == "soft_decline_retry")
        #expect(Self.threeDS(answer)["upgrade_reason"] as? String == "sca_retry")
        #expect(Self.threeDS(answer)["challenge_indicator"] as? String == "challenge_requested_mandate")
        try await h.complete(answer)
        let done = try await h.payment(answer)
        #expect(done["status"] as? String == "Authorized")
        #expect(done["path"] as? String == "soft_decline_retry")
        #expect(done["liability"] as? String == "issuer")
        // Without the upgrade allowed, the soft decline stands.
        let declined = try await h.pay(
            "4000040000000016", threeDS: #"{"enabled": false, "exemption": "low_value", "allow_upgrade": false}"#)
        #expect(declined["status"] as? String == "Declined")
        #expect(declined["response_code"] as? String == "20154")
        #expect(declined["next_action"] as? String == "customer_must_authenticate")
        #expect(declined["liability"] is NSNull)
        // And the same exemption at authorisation on an issuer that grants it.
        let granted = try await h.pay("4000030000000017", threeDS: #"{"enabled": false, "exemption": "low_value"}"#)
        #expect(granted["status"] as? String == "Authorized")
        #expect(granted["path"] as? String == "exemption")
        #expect(Self.threeDS(granted)["exemption_stage"] as? String == "authorisation")
        #expect(granted["liability"] as? String == "merchant")
        await h.close()
    }

    @Test func subscriptionThenMerchantInitiatedPayments() async throws {
        let h = try await Harness()
        let first = try await h.pay(
            "4000020000000018", amount: 999, threeDS: #"{"enabled": true, "challenge_indicator": "challenge_requested_mandate"}"#,
            extra: #""payment_type": "Recurring", "merchant_initiated": false, "store_for_future_use": true"#
        )
        try await h.complete(first)
        let setUp = try await h.payment(first)
        #expect(setUp["status"] as? String == "Authorized")
        let source = try #require((setUp["source"] as? [String: Any])?["id"] as? String)
        #expect(source.hasPrefix("src_"))
        let firstID = first["id"] as! String
        let mit = Harness.object(
            try await h.service.create(
                body: Array(
                    """
                    {"source": {"type": "id", "id": "\(source)"}, "amount": 999, "currency": "EUR", "payment_type": "Recurring",
                     "merchant_initiated": true, "previous_payment_id": "\(firstID)"}
                    """.utf8), idempotencyKey: nil, owner: Harness.merchant
            ).json)
        #expect(mit["status"] as? String == "Authorized")
        #expect(mit["path"] as? String == "out_of_scope")
        #expect(Self.sca(mit)["reason"] as? String == "merchant_initiated")
        #expect(mit["liability"] as? String == "merchant")
        // A merchant-initiated payment naming no authenticated first payment is refused.
        let exempted = try await h.pay("4000030000000017", threeDS: #"{"enabled": true, "exemption": "low_value"}"#)
        for previous in [exempted["id"] as! String, "pay_0000000000000000"] {
            let refused = try await h.pay(
                "4000030000000017", threeDS: "null", extra: #""merchant_initiated": true, "previous_payment_id": "\#(previous)""#
            )
            #expect(refused["status"] as? String == "Declined")
            #expect(refused["response_code"] as? String == "20012")
            #expect(Self.sca(refused)["reason"] as? String == "mit_without_mandate")
        }
        await h.close()
    }

    @Test func offSessionPaymentTheIssuerWantsAuthenticated() async throws {
        let h = try await Harness()
        let first = try await h.pay(
            "4000110000000017", threeDS: #"{"enabled": true, "challenge_indicator": "challenge_requested_mandate"}"#,
            extra: #""payment_type": "Unscheduled""#
        )
        try await h.complete(first)
        let mit = try await h.pay(
            "4000110000000017", threeDS: "null", extra: #""merchant_initiated": true, "previous_payment_id": "\#(first["id"] as! String)""#
        )
        #expect(mit["status"] as? String == "Declined")
        #expect(mit["response_code"] as? String == "20154")
        #expect(mit["next_action"] as? String == "customer_must_authenticate")
        let notifications =
            Harness.object(try await h.service.notifications(owner: Harness.merchant).json)["notifications"] as? [[String: Any]] ?? []
        #expect(notifications.map { $0["payment_id"] as? String } == [mit["id"] as? String])
        #expect(try await h.service.notifications(owner: Self.otherMerchant).items.isEmpty)
        await h.close()
    }

    /// Another merchant, of another tenant.
    static let otherMerchant = ResourceOwner.client("cli_other", tenant: "ten_other")

    /// A payment, its trace, its captures and its stored card are its merchant's: another
    /// tenant finds none of them, and an Idempotency-Key is each client's own.
    @Test func anotherTenantFindsNothingOfAMerchants() async throws {
        let h = try await Harness()
        let first = try await h.pay("4000010000000019", extra: #""store_for_future_use": true"#, key: "order-1")
        if first["status"] as? String == "Pending" { try await h.complete(first) }
        let id = try #require(first["id"] as? String)
        let source = try #require((try await h.payment(first)["source"] as? [String: Any])?["id"] as? String)
        let other = Self.otherMerchant
        await #expect(throws: GateRefusal.self) { try await h.service.payment(id, owner: other) }
        await #expect(throws: GateRefusal.self) { try await h.service.trace(id, owner: other) }
        await #expect(throws: GateRefusal.self) { try await h.service.capture(id, body: nil, owner: other) }
        let stored = #"{"source": {"type": "id", "id": "\#(source)"}, "amount": 500, "currency": "EUR"}"#
        await #expect(throws: GateRefusal.self) {
            try await h.service.create(body: Array(stored.utf8), idempotencyKey: nil, owner: other)
        }
        // The same key from another client is another payment, not a reused key.
        let sameKey = Harness.object(
            try await h.service.create(
                body: Array(
                    #"{"source": {"type": "card", "number": "4000010000000019", "expiry_month": 12, "expiry_year": 2030}, "amount": 700, "currency": "EUR"}"#
                        .utf8), idempotencyKey: "order-1", owner: other
            ).json)
        #expect(sameKey["id"] as? String != id && sameKey["status"] as? String == "Authorized")
        // The owner still has it all.
        #expect(try await h.service.payment(id, owner: Harness.merchant).json.contains(id))
        let reused = Harness.object(
            try await h.service.create(
                body: Array(#"{"source": {"type": "id", "id": "\#(source)"}, "amount": 500, "currency": "EUR"}"#.utf8), idempotencyKey: nil,
                owner: Harness.merchant
            ).json)
        #expect(reused["status"] as? String == "Authorized")
        #expect(try await h.service.capture(id, body: nil, owner: Harness.merchant).created)
        await h.close()
    }

    @Test func outOfScopePayments() async throws {
        let h = try await Harness()
        let moto = try await h.pay("4000020000000018", threeDS: "null", extra: #""payment_type": "MOTO""#)
        #expect(moto["status"] as? String == "Authorized")
        #expect(Self.sca(moto)["reason"] as? String == "moto")
        #expect(moto["3ds"] is NSNull)
        #expect(moto["liability"] as? String == "merchant")
        for (card, reason) in [
            ("4000080000000012", "one_leg_out"), ("4100010000000018", "one_leg_out"), ("4000090000000011", "anonymous_prepaid"),
        ] {
            let answer = try await h.pay(card, threeDS: #"{"enabled": false}"#)
            #expect(answer["status"] as? String == "Authorized", "\(card)")
            #expect(answer["path"] as? String == "out_of_scope", "\(card)")
            #expect(Self.sca(answer)["reason"] as? String == reason, "\(card)")
            #expect(answer["liability"] as? String == "merchant", "\(card)")
        }
        await h.close()
    }

    @Test func trustedListingPromptThenTrustedListing() async throws {
        let h = try await Harness()
        // Not trusted yet: the issuer's engine finds no trusted payee, so a challenge.
        let early = try await h.pay("4000030000000017", threeDS: #"{"enabled": true, "exemption": "trusted_listing"}"#)
        #expect(early["status"] as? String == "Pending")
        let prompt = try await h.pay(
            "4000030000000017", amount: 4000, threeDS: #"{"enabled": true, "exemption": "trusted_listing_prompt"}"#)
        #expect(prompt["status"] as? String == "Pending")
        let promptACS = try #require(h.challenge(prompt))
        #expect(h.service.challengeView(promptACS)?.offersTrustedListing == true)
        try await h.complete(prompt, trust: true)
        let trustedNow = try await h.payment(prompt)
        #expect(Self.threeDS(trustedNow)["white_list_status"] as? String == "Y")
        let later = try await h.pay("4000030000000017", amount: 20000, threeDS: #"{"enabled": true, "exemption": "trusted_listing"}"#)
        #expect(later["status"] as? String == "Authorized")
        #expect(Self.threeDS(later)["exemption_applied"] as? String == "trusted_listing")
        #expect(later["liability"] as? String == "merchant")
        // American Express keeps the list itself: the merchant's request is not sent.
        let amex = try await h.pay(
            "340001000000015", threeDS: #"{"enabled": true, "exemption": "trusted_listing", "challenge_indicator": "challenge_requested"}"#)
        #expect((Self.threeDS(amex)["exemption_fallback"] as? String)?.contains("American Express does not carry trusted_listing") == true)
        #expect(Self.threeDS(amex)["exemption_requested"] is NSNull)
        await h.close()
    }

    @Test func secureCorporateAndFallbacks() async throws {
        let h = try await Harness()
        let corporate = try await h.pay(
            "4000100000000018", amount: 120_000, threeDS: #"{"enabled": true, "exemption": "secure_corporate_payment"}"#)
        #expect(corporate["status"] as? String == "Authorized")
        #expect(Self.threeDS(corporate)["exemption_applied"] as? String == "secure_corporate_payment")
        #expect(corporate["liability"] as? String == "merchant")
        // A consumer card: secure corporate does not qualify, the indicator applies.
        let consumer = try await h.pay(
            "4000030000000017",
            threeDS: #"{"enabled": true, "exemption": "secure_corporate_payment", "challenge_indicator": "challenge_requested"}"#)
        #expect((Self.threeDS(consumer)["exemption_fallback"] as? String)?.contains("does not qualify") == true)
        // TRA is not enabled by default: the indicator applies.
        let tra = try await h.pay(
            "4000030000000017",
            threeDS: #"{"enabled": true, "exemption": "transaction_risk_assessment", "challenge_indicator": "challenge_requested"}"#)
        #expect((Self.threeDS(tra)["exemption_fallback"] as? String)?.contains("not enabled") == true)
        #expect(tra["status"] as? String == "Pending")
        // Diners carries only low value and TRA.
        let diners = try await h.pay("36000100000015", threeDS: #"{"enabled": true, "exemption": "secure_corporate_payment"}"#)
        #expect((Self.threeDS(diners)["exemption_fallback"] as? String)?.contains("Diners Club does not carry") == true)
        await h.close()
    }

    @Test func notEnrolledNeverDowngradesSilently() async throws {
        let h = try await Harness()
        let declined = try await h.pay("4000050000000015")
        #expect(declined["status"] as? String == "Declined")
        #expect(declined["response_code"] as? String == "20150")
        await h.close()
        let fallback = try await Harness(PaymentSettings(threeDS1Fallback: true))
        let attempted = try await fallback.pay("4000050000000015")
        #expect(attempted["status"] as? String == "Authorized")
        #expect(attempted["path"] as? String == "3ds1_fallback")
        #expect(Self.threeDS(attempted)["version"] as? String == "1.0.2")
        #expect(Self.threeDS(attempted)["trans_status"] as? String == "A")
        #expect(Self.threeDS(attempted)["eci"] as? String == "06")
        await fallback.close()
    }

    @Test func issuerDeclines() async throws {
        let h = try await Harness()
        let frictionless = #"{"enabled": true, "challenge_indicator": "no_challenge_requested"}"#
        let funds = try await h.pay("4000060000000014", amount: 2500, threeDS: frictionless)
        #expect(funds["response_code"] as? String == "20051")
        let small = try await h.pay("4000060000000014", amount: 900, threeDS: frictionless)
        #expect(small["response_code"] as? String == "10000")
        #expect(try await h.pay("4000070000000013", threeDS: frictionless)["response_code"] as? String == "20005")
        #expect(try await h.pay("4000120000000016")["response_code"] as? String == "20151")
        let expired = Harness.object(
            try await h.service.create(
                body: Array(
                    """
                    {"source": {"type": "card", "number": "4000010000000019", "expiry_month": 1, "expiry_year": 2026}, "amount": 100, "currency": "EUR"}
                    """.utf8), idempotencyKey: nil, owner: Harness.merchant
            ).json)
        #expect(expired["response_code"] as? String == "20054")
        await h.close()
    }

    @Test func idempotentRetriesAndValidation() async throws {
        let h = try await Harness()
        let first = try await h.pay("4000010000000019", key: "order-1")
        let again = try await h.pay("4000010000000019", key: "order-1")
        #expect(first["id"] as? String == again["id"] as? String)
        // Concurrent duplicates: one payment, identical answers.
        let answers = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<20 {
                group.addTask {
                    try await h.service.create(
                        body: Array(
                            #"{"source": {"type": "card", "number": "4000010000000019", "expiry_month": 12, "expiry_year": 2030}, "amount": 700, "currency": "EUR"}"#
                                .utf8), idempotencyKey: "burst", owner: Harness.merchant
                    ).json
                }
            }
            return try await group.reduce(into: [String]()) { $0.append($1) }
        }
        #expect(Set(answers).count == 1)
        let rows = try await h.store.database.read("SELECT COUNT(*) AS n FROM card_payments WHERE idempotency_key = 'cli_test:burst'")
        #expect(try rows[0].decode(column: "n", as: Int.self) == 1)
        await #expect(throws: PaymentService.IdempotencyKeyReused.self) {
            try await h.pay("4000010000000019", amount: 2600, key: "order-1")
        }
        for bad in [
            #"{"amount": 100, "currency": "EUR"}"#,
            #"{"source": {"type": "card", "number": "4000010000000018", "expiry_month": 12, "expiry_year": 2030}, "amount": 100, "currency": "EUR"}"#,
            #"{"source": {"type": "card", "number": "4000010000000019", "expiry_month": 13, "expiry_year": 2030}, "amount": 100, "currency": "EUR"}"#,
            #"{"source": {"type": "card", "number": "4000010000000019", "expiry_month": 12, "expiry_year": 2030}, "amount": 1.5, "currency": "EUR"}"#,
            #"{"source": {"type": "card", "number": "4000010000000019", "expiry_month": 12, "expiry_year": 2030}, "amount": 100, "currency": "XXX"}"#,
            #"{"source": {"type": "card", "number": "4000010000000019", "expiry_month": 12, "expiry_year": 2030}, "amount": 100, "currency": "EUR", "3ds": {"exemption": "whatever"}}"#,
        ] {
            await #expect(throws: GateRefusal.self, "\(bad)") {
                try await h.service.create(body: Array(bad.utf8), idempotencyKey: nil, owner: Harness.merchant)
            }
        }
        let count = try await h.store.database.read("SELECT COUNT(*) AS n FROM card_payments")
        #expect(try count[0].decode(column: "n", as: Int.self) == 2)
        await h.close()
    }

    @Test func optimizerRecordsWhatItConsidered() async throws {
        let h = try await Harness()
        let answer = try await h.pay("4000030000000017", amount: 1500)
        let optimizer = try #require(answer["optimizer"] as? [String: Any])
        let considered = (optimizer["considered"] as? [[String: Any]] ?? []).compactMap { $0["option"] as? String }
        #expect(considered.contains("no_exemption@authentication"))
        #expect(considered.contains("low_value@authentication"))
        #expect((optimizer["not_qualifying"] as? [String: String])?["transaction_risk_assessment"] == "not enabled for this merchant")
        // A payment that sets up later charges is never left to an exemption.
        let setUp = try await h.pay("4000030000000017", amount: 1500, extra: #""payment_type": "Recurring""#)
        #expect(Self.threeDS(setUp)["challenge_indicator"] as? String == "challenge_requested_mandate")
        // What it learns is kept: statistics rows exist after outcomes.
        let stats = try await h.store.database.read("SELECT COUNT(*) AS n FROM card_optimizer_stats")
        #expect(try stats[0].decode(column: "n", as: Int.self) >= 1)
        await h.close()
    }

    @Test func noCardNumberInStorage() async throws {
        let h = try await Harness()
        let pending = try await h.pay("4000020000000018", extra: #""store_for_future_use": true"#)
        try await h.complete(pending)
        _ = try await h.pay("4000010000000019")
        await h.store.database.close()
        var bytes = Data()
        for name in (try? FileManager.default.contentsOfDirectory(atPath: h.directory.path)) ?? [] {
            bytes += (try? Data(contentsOf: h.directory.appendingPathComponent(name))) ?? Data()
        }
        #expect(!bytes.isEmpty)
        for number in ["4000020000000018", "4000010000000019"] {
            #expect(bytes.range(of: Data(number.utf8)) == nil, "\(number) is stored in clear")
        }
        try? FileManager.default.removeItem(at: h.directory)
    }
}
