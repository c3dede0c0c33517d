import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SCAClients
import SCAContract
import SCARules
import SCAStore
import Testing

/// Whose decisions are whose (issue 27's tenancy): a decider sees and completes only its
/// own tenant's decisions, in its own namespace of the rules state; no API key reaches the
/// state the engine's own gate relies on, nor completes the gate's decisions.
@Suite struct TenancyTests {
    /// A payment that needs SCA: 300 EUR, remote, to `payee`.
    static func largePayment(id: String, payer: String = "anna", payee: String = "jan") -> String {
        #"{"id":"\#(id)","at":"2026-11-21T08:00:00Z","action":"payment","payer":{"id":"\#(payer)","psp_country":"DE","instrument":"card-1"},"payee":{"id":"\#(payee)","psp_country":"DE"},"amount":{"value":"300.00","currency":"EUR"},"payment":{"method":"credit_transfer","channel":"remote","initiator":"payer"}}"#
    }

    static func trust(id: String, payer: String = "anna", payee: String = "jan") -> String {
        #"{"id":"\#(id)","at":"2026-11-21T08:00:00Z","action":"trust_beneficiary","payer":{"id":"\#(payer)","psp_country":"DE","instrument":"card-1"},"payee":{"id":"\#(payee)","psp_country":"DE"},"sca":"passed"}"#
    }

    static func outcome(_ response: TestResponse) -> (outcome: String?, reason: String?) {
        let json = ServerTests.json(response)
        return (json["outcome"] as? String, json["reason"] as? String)
    }

    @Test(arguments: ServerTests.Transport.allCases) func aDeciderSeesAndCompletesOnlyItsOwnDecisions(
        transport: ServerTests.Transport
    ) async throws {
        try await ServerTests.withServer(transport: transport) { client, store in
            let keys = try #require(ServerTests.keys)
            let other = try await keys.clients.create(kind: .decider, name: "Another tenant", environment: .test).key
            let mine = try await ServerTests.post(client, "/v1/decisions", Self.largePayment(id: "p1"), bearer: keys.decider)
            #expect(mine.status == .created && Self.outcome(mine).outcome == "sca_required")
            let id = try #require(mine.headers[HTTPField.Name("Decision-Id")!])

            // Another tenant's key, and every other kind's, find nothing to read or complete.
            for bearer in [other, keys.operator, keys.merchant, keys.partner, nil] {
                let read = try await ServerTests.get(client, "/v1/decisions/\(id)", bearer: bearer)
                let report = try await ServerTests.post(client, "/v1/decisions/\(id)/sca-result", #"{"result":"passed"}"#, bearer: bearer)
                let expected: HTTPResponse.Status = bearer == other ? .notFound : bearer == nil ? .unauthorized : .forbidden
                #expect(read.status == expected && report.status == expected, "\(bearer ?? "no key")")
            }
            #expect(try await ServerTests.get(client, "/v1/decisions/\(id)", bearer: keys.decider).status == .ok)
            let report = try await ServerTests.post(client, "/v1/decisions/\(id)/sca-result", #"{"result":"passed"}"#, bearer: keys.decider)
            #expect(report.status == .ok && ServerTests.json(report)["sca"] as? String == "passed")

            // The same payer id in two tenants is two payers: one's trusted list is not the other's.
            _ = try await ServerTests.post(client, "/v1/decisions", Self.trust(id: "t1"), bearer: other)
            let theirs = try await ServerTests.post(client, "/v1/decisions", Self.largePayment(id: "p2"), bearer: other)
            #expect(Self.outcome(theirs) == ("exempt", "trusted_beneficiary"))
            let again = try await ServerTests.post(client, "/v1/decisions", Self.largePayment(id: "p3"), bearer: keys.decider)
            #expect(Self.outcome(again).outcome == "sca_required")

            // An idempotency key is the client's own: another's use of it is no conflict.
            let first = try await ServerTests.post(client, "/v1/decisions", payment(id: "k1"), bearer: keys.decider, key: "shared")
            let second = try await ServerTests.post(client, "/v1/decisions", payment(id: "k2"), bearer: other, key: "shared")
            #expect(first.status == .created && second.status == .created)
            #expect(second.headers[HTTPField.Name("Idempotent-Replayed")!] == nil)
            // Decided again from the store, each tenant's decisions give the same answers
            // and counters in its own namespace.
            let check = try await store.checkState()
            #expect(check.isConsistent && check.decisions == 6, "\(check)")
        }
    }

    /// A decider's key seen once is not read again on the way in, yet its revocation holds
    /// at the next decision, even when another node (here another registry on the same
    /// store, whose revocation this server's memory never saw) revoked it: the decision's
    /// transaction checks the key again. The same for a rotated key past its overlap.
    @Test(arguments: ServerTests.Transport.allCases) func aRevocationElsewhereHoldsAtTheNextDecision(
        transport: ServerTests.Transport
    ) async throws {
        let clock = ManualClock(ServerTests.start)
        try await ServerTests.withServer(transport: transport, clock: clock) { client, store in
            let keys = try #require(ServerTests.keys)
            let elsewhere = ClientRegistry(store: store, pepper: ClientsRouteTests.pepper)
            let revoked = try await keys.clients.create(kind: .decider, name: "Revoked elsewhere", environment: .test)
            let rotated = try await keys.clients.create(kind: .decider, name: "Rotated elsewhere", environment: .test)
            for (index, issued) in [revoked, rotated].enumerated() {
                let first = try await ServerTests.post(client, "/v1/decisions", payment(id: "r\(index)"), bearer: issued.key)
                #expect(first.status == .created)
            }
            let decisions = try #require(try await store.database.integer("SELECT COUNT(*) FROM decisions"))
            _ = try await elsewhere.revoke(revoked.client.id)
            _ = try await elsewhere.rotate(rotated.client.id, overlap: .seconds(60))
            let during = try await ServerTests.post(client, "/v1/decisions", payment(id: "during"), bearer: rotated.key)
            #expect(during.status == .created, "within its overlap the old key still works")
            clock.advance(.seconds(61))
            for issued in [revoked, rotated] {
                let refused = try await ServerTests.post(client, "/v1/decisions", payment(id: "after"), bearer: issued.key)
                #expect(refused.status == .unauthorized && ServerTests.errorCode(refused) == "unauthenticated", "\(issued.client.name)")
                // Forgotten then: the next one is refused on its way in.
                let again = try await ServerTests.post(client, "/v1/decisions", payment(id: "again"), bearer: issued.key)
                #expect(again.status == .unauthorized)
            }
            #expect(try await store.database.integer("SELECT COUNT(*) FROM decisions") == decisions + 1)
        }
    }

    /// The attack of issue 27 at the decisions API: the gate's decision and the gate's
    /// payer are out of reach of every key, so an outside "passed" trusts nobody.
    @Test func noKeyReachesTheEnginesOwnStateOrDecisions() async throws {
        try await ServerTests.withServer { client, store in
            let keys = try #require(ServerTests.keys)
            let tpp = try await keys.clients.create(kind: .tpp, name: "A TPP", environment: .test).key
            let decoder = RequestDecoder(referenceRates: store.engine.configuration.referenceRates, absentSCA: nil)
            func engineDecision(_ text: String) async throws -> StoredDecision {
                guard case .success(let request) = decoder.decode(line: Array(text.utf8)),
                    case .decided(let decision, _) = await store.decide(store.submission(request, text: text))
                else { throw CancellationError() }
                return decision
            }
            let refused = try await engineDecision(Self.largePayment(id: "g1", payer: "usr_gate"))
            #expect(refused.outcome == "sca_required" && refused.sca == .pending)

            for bearer in [keys.decider, keys.operator, keys.merchant, keys.partner, tpp, nil] {
                let report = try await ServerTests.post(
                    client, "/v1/decisions/\(refused.id)/sca-result", #"{"result":"passed"}"#, bearer: bearer)
                #expect([.notFound, .unauthorized, .forbidden].contains(report.status), "\(bearer ?? "no key")")
                _ = try await ServerTests.post(
                    client, "/v1/decisions", Self.trust(id: "t-\(bearer ?? "none")", payer: "usr_gate"), bearer: bearer)
            }
            #expect(try await store.decision(id: refused.id)?.sca == .pending)
            let retried = try await engineDecision(Self.largePayment(id: "g2", payer: "usr_gate"))
            #expect(retried.outcome == "sca_required")

            // The low-value counters: five exempt payments, then SCA; an outside SCA'd payment
            // resets only the decider's own counters.
            var outcomes: [String] = []
            for index in 1...6 { outcomes.append(try await engineDecision(Self.smallPayment(id: "s\(index)")).outcome) }
            #expect(outcomes == Array(repeating: "exempt", count: 5) + ["sca_required"])
            let reset = try await ServerTests.post(
                client, "/v1/decisions", Self.smallPayment(id: "r1", sca: "passed"), bearer: keys.decider)
            #expect(reset.status == .created)
            #expect(try await engineDecision(Self.smallPayment(id: "s7")).outcome == "sca_required")

            // An AIS consent's first access needs SCA; an outside one does not refresh it.
            #expect(try await engineDecision(Self.accountAccess(id: "a1")).outcome == "sca_required")
            let outside = try await ServerTests.post(
                client, "/v1/decisions", Self.accountAccess(id: "a2", sca: "passed"), bearer: keys.decider)
            #expect(outside.status == .created)
            #expect(try await engineDecision(Self.accountAccess(id: "a3")).outcome == "sca_required")
        }
    }

    static func smallPayment(id: String, sca: String? = nil) -> String {
        let result = sca.map { #","sca":"\#($0)""# } ?? ""
        return
            #"{"id":"\#(id)","at":"2026-11-21T08:00:00Z","action":"payment","payer":{"id":"usr_gate","psp_country":"DE","instrument":"acc-1"},"payee":{"id":"shop","psp_country":"DE"},"amount":{"value":"5.00","currency":"EUR"},"payment":{"method":"card","channel":"remote","initiator":"payer"}\#(result)}"#
    }

    static func accountAccess(id: String, sca: String? = nil) -> String {
        let result = sca.map { #","sca":"\#($0)""# } ?? ""
        return
            #"{"id":"\#(id)","at":"2026-11-21T08:00:00Z","action":"ais_access","payer":{"id":"usr_gate","psp_country":"DE"},"consent":{"id":"bank-app"},"customer_present":true\#(result)}"#
    }
}
