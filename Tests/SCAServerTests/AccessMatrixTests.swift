import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SCAClients
import Testing
import Yams

/// Who may call what, read from the OpenAPI document's own security declarations: every
/// operation, called anonymously, with a revoked key, a malformed one, a key of each client
/// kind and another tenant's, answers as its declaration says. An operation that declares
/// nothing fails the test, so a new route cannot be added without saying who may call it.
@Suite struct AccessMatrixTests {
    /// One caller of the matrix, and how it was made.
    struct Caller {
        let label: String
        let bearer: String?
        /// The kind of a live key; nil for no key, a revoked key or a malformed one.
        let kind: ClientKind?
    }

    /// What an answer is, for the matrix: its status and its error code, if any.
    struct Seen: CustomStringConvertible {
        let status: Int
        let code: String?
        var description: String { "\(status) \(code ?? "")" }
        var isRefusedKey: Bool { status == 401 && code == "unauthenticated" }
        var isOutOfScope: Bool { status == 403 && code == "insufficient_scope" }
    }

    @Test func everyOperationAnswersEachCallerAsItsSecurityDeclares() async throws {
        try await ServerTests.withServer { client, _ in
            let keys = try #require(ServerTests.keys)
            let registry = keys.clients
            let tpp = try await registry.create(kind: .tpp, name: "Matrix TPP", environment: .test).key
            let revoked = try await registry.create(kind: .operator, name: "Matrix revoked", environment: .test)
            _ = try await registry.revoke(revoked.client.id)
            let otherDecider = try await registry.create(kind: .decider, name: "Other tenant", environment: .test).key
            let otherMerchant = try await registry.create(kind: .merchant, name: "Other tenant", environment: .test).key
            let target = try await registry.create(kind: .partner, name: "Matrix target", environment: .test).client.id
            let callers = [
                Caller(label: "no key", bearer: nil, kind: nil),
                Caller(label: "a malformed key", bearer: "sk_test_not-a-key", kind: nil),
                Caller(label: "a revoked key", bearer: revoked.key, kind: nil),
                Caller(label: "operator", bearer: keys.operator, kind: .operator),
                Caller(label: "decider", bearer: keys.decider, kind: .decider),
                Caller(label: "merchant", bearer: keys.merchant, kind: .merchant),
                Caller(label: "partner", bearer: keys.partner, kind: .partner),
                Caller(label: "tpp", bearer: tpp, kind: .tpp),
            ]

            // The first tenant's resources, which the other tenant must not find.
            let decision = try await ServerTests.post(client, "/v1/decisions", TenancyTests.largePayment(id: "m1"), bearer: keys.decider)
            let decisionID = try #require(decision.headers[HTTPField.Name("Decision-Id")!])
            let paid = try await ServerTests.post(
                client, "/v1/payments",
                #"{"source": {"type": "card", "number": "4000010000000019", "expiry_month": 12, "expiry_year": 2030}, "amount": 2500, "currency": "EUR", "3ds": {"enabled": true, "challenge_indicator": "no_challenge_requested"}}"#,
                bearer: keys.merchant)
            let paymentID = try #require(ServerTests.json(paid)["id"] as? String)
            let otherTenant: [ClientScope: String] = [.decisions: otherDecider, .payments: otherMerchant]

            let document = try #require(
                try Yams.load(yaml: String(buffer: try await ServerTests.get(client, "/openapi.yaml").body)) as? [String: Any])
            let paths = try #require(document["paths"] as? [String: [String: Any]])
            var operations = 0
            for (path, item) in paths.sorted(by: { $0.key < $1.key }) {
                for (method, value) in item.sorted(by: { $0.key < $1.key }) where ["get", "post", "delete"].contains(method) {
                    let name = "\(method.uppercased()) \(path)"
                    guard let operation = value as? [String: Any], let security = operation["security"] as? [[String: [String]]] else {
                        Issue.record("\(name) declares no security")
                        continue
                    }
                    operations += 1
                    let uri = Self.uri(path, decision: decisionID, payment: paymentID, client: target)
                    func call(_ bearer: String?) async throws -> Seen {
                        var headers = HTTPFields()
                        if let bearer { headers[.authorization] = "Bearer " + bearer }
                        let httpMethod: HTTPRequest.Method = method == "get" ? .get : method == "delete" ? .delete : .post
                        // An empty object, or what the operation needs to reach its resource.
                        let body =
                            httpMethod == .get ? nil : ByteBuffer(string: path.hasSuffix("/sca-result") ? #"{"result":"passed"}"# : "{}")
                        if body != nil { headers[.contentType] = "application/json" }
                        let answer = try await client.execute(uri: uri, method: httpMethod, headers: headers, body: body) { $0 }
                        return Seen(status: Int(answer.status.code), code: ServerTests.errorCode(answer))
                    }
                    let schemes = Dictionary(security.flatMap { $0.map { ($0.key, $0.value) } }, uniquingKeysWith: +)
                    if let scopes = schemes["apiKey"] {
                        guard let scopeName = scopes.first, let scope = ClientScope(rawValue: scopeName), scopes.count == 1 else {
                            Issue.record("\(name): apiKey needs exactly one known scope, not \(scopes)")
                            continue
                        }
                        var owner: Caller?
                        for caller in callers {
                            let seen = try await call(caller.bearer)
                            guard let kind = caller.kind else {
                                #expect(seen.isRefusedKey, "\(name) with \(caller.label): \(seen)")
                                continue
                            }
                            if kind.scopes.contains(scope) {
                                owner = caller
                            } else {
                                #expect(seen.isOutOfScope, "\(name) with a \(caller.label) key: \(seen)")
                            }
                        }
                        let ownsResource = path.contains("{id}") || path.contains("{payment_id}")
                        if ownsResource, let other = otherTenant[scope] {
                            let seen = try await call(other)
                            #expect(seen.status == 404, "\(name) with another tenant's key: \(seen)")
                        }
                        // Last, as it may change what it names (a capture, a revocation).
                        let mine = try await call(try #require(owner, "\(name): no client kind has scope \(scope)").bearer)
                        #expect(!mine.isRefusedKey && !mine.isOutOfScope && mine.status < 500, "\(name) with its own key: \(mine)")
                    } else if schemes["session"] != nil {
                        for caller in callers {
                            let seen = try await call(caller.bearer)
                            #expect(seen.isRefusedKey, "\(name) needs a session; with \(caller.label): \(seen)")
                        }
                    } else {
                        // Public, or bound to a one-time token or a device's signature: an API
                        // key neither opens nor closes it.
                        let anonymous = try await call(nil)
                        #expect(anonymous.status < 500 && !anonymous.isOutOfScope, "\(name) with no key: \(anonymous)")
                        for caller in callers where caller.kind != nil {
                            let seen = try await call(caller.bearer)
                            #expect(seen.status == anonymous.status, "\(name) with a \(caller.label) key: \(seen), \(anonymous) without")
                        }
                    }
                }
            }
            #expect(operations > 50)
        }
    }

    /// The operation's path with its parameters filled in.
    static func uri(_ path: String, decision: String, payment: String, client: String) -> String {
        path.replacingOccurrences(of: "{id}", with: decision).replacingOccurrences(of: "{payment_id}", with: payment)
            .replacingOccurrences(of: "{client_id}", with: client).replacingOccurrences(of: "{file}", with: "index.html")
            .replacingOccurrences(of: #"\{[a-z_]+\}"#, with: "x", options: .regularExpression)
    }
}
