import Foundation
import HTTPTypes
import HummingbirdTesting
import SCAClients
import SCAHTTP
import SCAStore
import Testing

/// The operator's client administration over HTTP: only an operator key gets in, and no
/// answer says which part of a refused key was wrong.
@Suite struct ClientsRouteTests {
    static let pepper = Array(repeating: UInt8(1), count: 32)

    @Test func onlyAnOperatorKeyAdministersClients() async throws {
        try await ServerTests.withServer { client, store in
            let registry = ClientRegistry(store: store, pepper: Self.pepper)
            let operatorKey = try await registry.create(kind: .operator, name: "Ops", environment: .test).key
            let merchantKey = try await registry.create(kind: .merchant, name: "Shop", environment: .test).key
            let unknownKey = APIKey.generate(.test)

            // Anonymous, unknown, malformed, and another kind's key: 401 or 403, one code each.
            var refusals: Set<String> = []
            for bearer in [nil, unknownKey, "sk_test_short", operatorKey + "x"] {
                let answer = try await ServerTests.get(client, "/v1/clients", bearer: bearer)
                #expect(answer.status == .unauthorized && ServerTests.errorCode(answer) == "unauthenticated", "\(bearer ?? "none")")
                #expect(answer.headers[.wwwAuthenticate] == #"Bearer realm="sca""#)
                refusals.insert(String(buffer: answer.body))
            }
            // The same answer, byte for byte, whatever was wrong with the key.
            #expect(refusals.count == 1)
            let merchant = try await ServerTests.post(client, "/v1/clients", #"{"kind":"merchant","name":"x"}"#, bearer: merchantKey)
            #expect(merchant.status == .forbidden && ServerTests.errorCode(merchant) == "insufficient_scope")

            // The operator creates a client: its key is in this answer only.
            let created = try await ServerTests.post(
                client, "/v1/clients", #"{"kind":"decider","name":"Risk","tenant":"acme","environment":"live"}"#, bearer: operatorKey)
            #expect(created.status == .created)
            let issued = ServerTests.json(created)
            let newKey = try #require(issued["key"] as? String)
            let newClient = try #require(issued["client"] as? [String: Any])
            let id = try #require(newClient["id"] as? String)
            #expect(newKey.hasPrefix("sk_live_") && newClient["tenant"] as? String == "acme")
            #expect(newClient["scopes"] as? [String] == ["decisions"])
            let listed = try await ServerTests.get(client, "/v1/clients", bearer: operatorKey)
            #expect(listed.status == .ok && !String(buffer: listed.body).contains(newKey.dropFirst(12)))
            // With `withServer`'s four (`TestKeys`).
            #expect((ServerTests.json(listed)["clients"] as? [[String: Any]])?.count == 4 + 3)

            // Bad input: a clear 4xx, nothing written.
            for body in [#"{"kind":"boss","name":"x"}"#, #"{"kind":"merchant"}"#, #"{"kind":"merchant","name":"x","environment":"prod"}"#] {
                let answer = try await ServerTests.post(client, "/v1/clients", body, bearer: operatorKey)
                #expect([400, 422].contains(answer.status.code), "\(body)")
            }
            let badOverlap = try await ServerTests.post(
                client, "/v1/clients/\(id)/rotate", #"{"overlap_seconds":1.5}"#, bearer: operatorKey)
            #expect(badOverlap.status == .unprocessableContent)

            // Rotation with no overlap ends the old key now; revocation ends every key.
            let rotated = try await ServerTests.post(client, "/v1/clients/\(id)/rotate", #"{"overlap_seconds":0}"#, bearer: operatorKey)
            #expect(rotated.status == .created)
            let rotatedKey = try #require(ServerTests.json(rotated)["key"] as? String)
            #expect(try await registry.authenticate(newKey) == nil)
            #expect(try await registry.authenticate(rotatedKey)?.id == id)
            let revoked = try await ServerTests.post(client, "/v1/clients/\(id)/revoke", "", bearer: operatorKey)
            #expect(revoked.status == .ok && ServerTests.json(revoked)["status"] as? String == "revoked")
            #expect(try await registry.authenticate(rotatedKey) == nil)
            let again = try await ServerTests.post(client, "/v1/clients/\(id)/revoke", "", bearer: operatorKey)
            #expect(again.status == .conflict)
            let unknown = try await ServerTests.post(client, "/v1/clients/cli_unknown/revoke", "", bearer: operatorKey)
            #expect(unknown.status == .notFound)

            // The operator revokes itself: its own key stops at once.
            let me = try #require(try await registry.authenticate(operatorKey))
            _ = try await ServerTests.post(client, "/v1/clients/\(me.id)/revoke", "", bearer: operatorKey)
            #expect(try await ServerTests.get(client, "/v1/clients", bearer: operatorKey).status == .unauthorized)
        }
    }

    /// With a username and a PIN, every customer's SMS codes at once would be a login for anyone.
    @Test func theDevelopmentOutboxNeverListsEveryonesCodes() async throws {
        try await ServerTests.withServer { client, _ in
            for uri in ["/v1/dev/messages", "/v1/dev/messages?to="] {
                let answer = try await ServerTests.get(client, uri)
                #expect(answer.status == .badRequest && ServerTests.errorCode(answer) == "invalid_parameter", "\(uri)")
            }
            let one = try await ServerTests.get(client, "/v1/dev/messages?to=%2B48600100200")
            #expect(one.status == .ok && String(buffer: one.body) == #"{"messages":[]}"#)
        }
    }

    /// One parser for every `Authorization: Bearer` (sessions and API keys alike).
    @Test func theBearerCredentialIsParsedOneWay() {
        #expect(BearerCredential.parse("Bearer abc") == "abc")
        #expect(BearerCredential.parse("bearer abc") == "abc" && BearerCredential.parse("BEARER  abc") == "abc")
        for refused in [nil, "", "Bearer", "Bearer ", "Basic abc", "Bearer a b", "abc"] {
            #expect(BearerCredential.parse(refused) == nil, "\(refused ?? "nil")")
        }
        let long = "Bearer " + String(repeating: "a", count: BearerCredential.headerCharactersMax)
        #expect(BearerCredential.parse(long) == nil)
        #expect(BearerCredential.parse(String(long.prefix(BearerCredential.headerCharactersMax))) != nil)
    }
}
