import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import SCAAuth
import SCABank
import SCAClients
import SCAContract
import SCAGate
import SCAPayments
import SCARules
import SCASchema
import SCAServer
import SCAService
import SCAStore
import ServiceLifecycle
import Synchronization
import Testing
import Yams

/// The HTTP shell over an SQLite store, in process.
@Suite struct ServerTests {
    /// Where every test server's clock starts.
    static let start = Instant(rfc3339: "2026-11-21T12:00:00Z")!

    static let logger: Logger = {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        return logger
    }()

    /// How requests reach the routes: in process to the router, or over a real connection
    /// to `sca serve`'s HTTP server, whose event loops answer `POST /v1/decisions`
    /// themselves (`DecisionChannelHandler`) and pass the rest to the router.
    enum Transport: CaseIterable, Sendable {
        case router
        case connection
    }

    /// Runs `body` against a server on a fresh SQLite store.
    static func withServer(
        limits: ServerLimits = ServerLimits(), transport: Transport = .router,
        queueMax: Int = DecisionStore.Options.queueMaxDefault, clock: ManualClock = ManualClock(ServerTests.start),
        routes: RouteList? = nil, _ body: @Sendable (any TestClientProtocol, DecisionStore) async throws -> Void
    ) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sca-server-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let database = try await StoreDatabase.open(.sqlite(path: directory.appendingPathComponent("sca.sqlite").path), logger: logger)
        try await Migrations.migrate(database, schema: EngineSchema.schema, now: "2026-11-21T00:00:00Z")
        let store = DecisionStore(
            database: database, engine: RulesEngine(), options: .init(queueMax: queueMax), clock: .manual(clock), logger: logger)
        let settings = AuthSettings(
            relyingParty: WebAuthnRelyingParty(id: "localhost", origins: ["http://localhost:8080"]),
            challengeLifetime: .minutes(5), attemptPolicy: AttemptPolicy(), sessionIdle: .minutes(5), demo: true
        )
        let pins = PinCheckPool(threads: 1, queueMax: 8)
        let auth = try AuthService(
            store: store, settings: settings, pepper: Array(repeating: 1, count: 32), masterKey: Array(repeating: 2, count: 32),
            scrypt: .init(logN: 10, blockSize: 8, parallelism: 1), pins: pins, messages: DevMessages(), logger: logger
        )
        let payments = try await PaymentService(
            store: store, settings: PaymentSettings(), masterKey: Array(repeating: 2, count: 32), pepper: Array(repeating: 1, count: 32)
        )
        let clients = ClientRegistry(store: store, pepper: Array(repeating: 1, count: 32))
        let keys = try await TestKeys(clients)
        let server = SCAServer(
            store: store, limits: limits, bank: Bank(auth: auth), payments: payments, clients: clients, demoShop: keys.merchantOwner,
            logger: logger)
        routes?.set(server.router().routes.map { "\($0.method) \($0.path)" })
        do {
            try await $keys.withValue(keys) {
                switch transport {
                case .router:
                    try await Application(router: server.router(), logger: logger).test(.router) { client in try await body(client, store) }
                case .connection:
                    let app = Application(
                        router: server.router(), server: server.http1(serverName: "sca"),
                        configuration: .init(address: .hostname("127.0.0.1", port: 0), serverName: "sca"), logger: logger
                    )
                    try await app.test(.live) { client in try await body(client, store) }
                }
            }
        } catch {
            // Closed before the error goes on: an open connection's end is an assertion.
            await pins.shutdown()
            await database.close()
            throw error
        }
        await pins.shutdown()
        await database.close()
    }

    /// A key of each kind, made by `withServer` for its server. The helpers without
    /// `bearer:` send the one the route needs, as a client of that kind would; the refusals
    /// are tested with `bearer:` (`ClientsRouteTests`, `AccessMatrixTests`).
    struct TestKeys: Sendable {
        let decider: String
        let `operator`: String
        let merchant: String
        let partner: String
        /// The merchant's tenant, which is also the demo shop's (`/demo-shop/…`).
        let merchantOwner: ResourceOwner
        /// The registry that issued them, for tests that need more clients.
        let clients: ClientRegistry

        init(_ clients: ClientRegistry) async throws {
            self.clients = clients
            decider = try await clients.create(kind: .decider, name: "Test decider", environment: .test).key
            `operator` = try await clients.create(kind: .operator, name: "Test operator", environment: .test).key
            let merchantKey = try await clients.create(kind: .merchant, name: "Test merchant", environment: .test)
            merchant = merchantKey.key
            merchantOwner = .client(merchantKey.client.id, tenant: merchantKey.client.tenant)
            partner = try await clients.create(kind: .partner, name: "Test partner", environment: .test).key
        }

        /// The key a route of this path needs, if any.
        func key(for uri: String) -> String? {
            let path = uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? uri
            if path.hasPrefix("/v1/decisions") { return decider }
            if ["/v1/audit", "/metrics", "/v1/clients", "/v1/dev/"].contains(where: path.hasPrefix) { return `operator` }
            if ["/v1/payments", "/v1/notifications", "/v1/sandbox/"].contains(where: path.hasPrefix) { return merchant }
            return nil
        }
    }

    @TaskLocal static var keys: TestKeys?

    static func post(_ client: any TestClientProtocol, _ uri: String, _ body: String, key: String? = nil) async throws -> TestResponse {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        if let key { headers[HTTPField.Name("Idempotency-Key")!] = key }
        if let bearer = keys?.key(for: uri) { headers[.authorization] = "Bearer " + bearer }
        return try await client.execute(uri: uri, method: .post, headers: headers, body: ByteBuffer(string: body)) { $0 }
    }

    /// A GET with the key the route needs (`TestKeys`).
    static func get(_ client: any TestClientProtocol, _ uri: String) async throws -> TestResponse {
        try await get(client, uri, bearer: keys?.key(for: uri))
    }

    /// A GET with exactly this API key, or none.
    static func get(_ client: any TestClientProtocol, _ uri: String, bearer: String?) async throws -> TestResponse {
        var headers = HTTPFields()
        if let bearer { headers[.authorization] = "Bearer " + bearer }
        return try await client.execute(uri: uri, method: .get, headers: headers) { $0 }
    }

    /// A POST with exactly this API key (`Authorization: Bearer`), or none.
    static func post(
        _ client: any TestClientProtocol, _ uri: String, _ body: String, bearer: String?, key: String? = nil
    ) async throws -> TestResponse {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        if let bearer { headers[.authorization] = "Bearer " + bearer }
        if let key { headers[HTTPField.Name("Idempotency-Key")!] = key }
        return try await client.execute(uri: uri, method: .post, headers: headers, body: ByteBuffer(string: body)) { $0 }
    }

    static func json(_ response: TestResponse) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(String(buffer: response.body).utf8)) as? [String: Any]) ?? [:]
    }

    static func errorCode(_ response: TestResponse) -> String? {
        (json(response)["error"] as? [String: Any])?["code"] as? String
    }

    static let examples = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("examples")

    // MARK: Same answers as `sca decide`

    @Test func theWorkedExampleOverHTTPGivesTheReplayAnswers() async throws {
        // With every `sca` written out (replay reads an absent one as passed, HTTP as
        // pending), HTTP and replay agree.
        let text = try String(contentsOf: Self.examples.appendingPathComponent("worked-example.jsonl"), encoding: .utf8)
        let lines = text.split(separator: "\n").map { line in
            line.contains(#""sca":"#) ? String(line) : String(line.dropLast()) + #","sca":"passed"}"#
        }
        let configuration = try await ConfigurationLoader.load(
            file: Self.examples.appendingPathComponent("worked-example.yaml").path, environment: [:]
        )
        var stream = DecisionStream(configuration: configuration.rules)
        let expected = lines.map { stream.answer(text: $0).first ?? "" }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sca-server-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let database = try await StoreDatabase.open(.sqlite(path: directory.appendingPathComponent("sca.sqlite").path), logger: Self.logger)
        try await Migrations.migrate(database, schema: EngineSchema.schema, now: "2026-11-21T00:00:00Z")
        let store = DecisionStore(database: database, engine: RulesEngine(configuration: configuration.rules), logger: Self.logger)
        let clients = ClientRegistry(store: store, pepper: Array(repeating: 1, count: 32))
        let app = Application(router: SCAServer(store: store, limits: ServerLimits(), clients: clients, logger: Self.logger).router())
        try await Self.$keys.withValue(try await TestKeys(clients)) {
            try await app.test(.router) { client in
                for (line, answer) in zip(lines, expected) {
                    let response = try await Self.post(client, "/v1/decisions", line)
                    #expect(response.status == .created)
                    #expect(String(buffer: response.body) == answer)
                }
            }
        }
        await database.close()
    }

    // MARK: Unknown routes

    @Test func anUnknownRouteGetsTheJSONErrorShape() async throws {
        try await Self.withServer { client, _ in
            let response = try await client.execute(uri: "/v1/no-such-route", method: .get) { $0 }
            #expect(response.status == .notFound)
            #expect(response.headers[.contentType] == "application/json")
            #expect(Self.errorCode(response) == "not_found")
        }
    }

    @Test("a wrong method answers 405 with Allow, on both transports", arguments: [Transport.router, .connection])
    func aWrongMethodGets405WithAllow(transport: Transport) async throws {
        try await Self.withServer(transport: transport) { client, _ in
            for (uri, method, allowed) in [
                ("/v1/decisions", HTTPRequest.Method.get, "POST"), ("/v1/decisions/dec_x", .delete, "GET"),
                ("/v1/payments/pay_x", .put, "GET"), ("/health", .post, "GET"),
                ("/v1/users/u/factors", .put, "GET, POST"),
            ] {
                let response = try await client.execute(uri: uri, method: method) { $0 }
                #expect(response.status == .methodNotAllowed, "\(method) \(uri)")
                #expect(response.headers[.allow] == allowed, "\(method) \(uri)")
                #expect(Self.errorCode(response) == "method_not_allowed")
            }
            #expect(try await client.execute(uri: "/v1/nothing/here", method: .put) { $0 }.status == .notFound)
        }
    }

    // MARK: A full writer queue

    @Test(arguments: Transport.allCases) func aFullQueueAnswers503BusyWithRetryAfter(transport: Transport) async throws {
        try await Self.withServer(transport: transport, queueMax: 1) { client, store in
            // Hold the writer inside a job, so that one decision fills the queue.
            let (entered, enteredSignal) = AsyncStream<Void>.makeStream()
            let (release, releaseSignal) = AsyncStream<Void>.makeStream()
            let holding = Task {
                _ = try await store.transact { _ in
                    enteredSignal.yield()
                    for await _ in release { break }
                    return 0
                }
            }
            for await _ in entered { break }
            let line = #"{"id":"q","at":"2026-11-21T08:00:00Z","action":"login","payer":{"id":"anna","psp_country":"DE"}}"#
            // The test client sends one request at a time: the one that fills the queue goes
            // to the store directly.
            let request = try RequestDecoder(referenceRates: RulesConfiguration().referenceRates, absentSCA: nil)
                .decode(line: Array(line.utf8)).get()
            let queued = Task { await store.decide(store.submission(request, text: line)) }
            for _ in 0..<5_000 where store.queuedJobs == 0 { try await Task.sleep(for: .milliseconds(1)) }
            #expect(store.queuedJobs == 1)

            let refused = try await Self.post(client, "/v1/decisions", line)
            #expect(refused.status == .serviceUnavailable)
            #expect(Self.errorCode(refused) == "busy")
            #expect(refused.headers[.retryAfter] == "1")

            releaseSignal.yield()
            try await holding.value
            guard case .decided = await queued.value else {
                Issue.record("the queued decision was not decided")
                return
            }
        }
    }

    // MARK: Bad input writes nothing

    @Test(arguments: Transport.allCases) func badBodiesGetStableErrorsAndWriteNothing(transport: Transport) async throws {
        try await Self.withServer(limits: ServerLimits(bodyBytesMax: 2048), transport: transport) { client, store in
            let notJSON = try await Self.post(client, "/v1/decisions", "{not json")
            #expect(notJSON.status == .badRequest)
            #expect(Self.errorCode(notJSON) == "invalid_json")

            let missing = try await Self.post(client, "/v1/decisions", #"{"id":"x","at":"2026-11-21T08:00:00Z","action":"payment"}"#)
            #expect(missing.status == .unprocessableContent)
            #expect(Self.errorCode(missing) == "missing_field")
            #expect(Self.json(missing)["id"] as? String == "x")

            let currency = try await Self.post(client, "/v1/decisions", payment(id: "y", currency: "XXX"))
            #expect(currency.status == .unprocessableContent)

            let large = try await Self.post(client, "/v1/decisions", String(repeating: " ", count: 4096))
            #expect(large.status == .contentTooLarge)
            #expect(Self.errorCode(large) == "body_too_large")

            let badKey = try await Self.post(client, "/v1/decisions", payment(id: "z"), key: String(repeating: "k", count: 300))
            #expect(badKey.status == .badRequest)
            #expect(Self.errorCode(badKey) == "invalid_idempotency_key")

            #expect(try await store.database.integer("SELECT COUNT(*) FROM decisions") == 0)
            #expect(try await store.database.integer("SELECT COUNT(*) FROM audit_events WHERE kind <> 'client_created'") == 0)
        }
    }

    // MARK: Decisions, idempotency, SCA results

    @Test(arguments: Transport.allCases) func aDecisionCanBeReadBackAndItsSCACompleted(transport: Transport) async throws {
        try await Self.withServer(transport: transport) { client, _ in
            var last: TestResponse?
            for index in 1...6 { last = try await Self.post(client, "/v1/decisions", payment(id: "p\(index)", amount: "5.00")) }
            let sixth = try #require(last)
            #expect(Self.json(sixth)["outcome"] as? String == "sca_required")
            let location = try #require(sixth.headers[.location])
            let read = try await Self.get(client, location)
            #expect(read.status == .ok)
            #expect(Self.json(read)["sca"] as? String == "pending")
            #expect((Self.json(read)["answer"] as? [String: Any])?["id"] as? String == "p6")

            let passed = try await Self.post(client, location + "/sca-result", #"{"result":"passed"}"#)
            #expect(passed.status == .ok)
            #expect(Self.json(passed)["sca"] as? String == "passed")
            let again = try await Self.post(client, location + "/sca-result", #"{"result":"passed"}"#)
            #expect(again.status == .ok && again.headers[HTTPField.Name("Idempotent-Replayed")!] == "true")
            let other = try await Self.post(client, location + "/sca-result", #"{"result":"failed"}"#)
            #expect(other.status == .conflict && Self.errorCode(other) == "sca_not_pending")
            let invalid = try await Self.post(client, location + "/sca-result", #"{"result":"maybe"}"#)
            #expect(invalid.status == .unprocessableContent)

            let next = try await Self.post(client, "/v1/decisions", payment(id: "p7", amount: "5.00"))
            #expect(Self.json(next)["outcome"] as? String == "exempt")

            #expect(try await Self.get(client, "/v1/decisions/dec_aaaaaaaaaaaaaaaaaaaaaaaaaa").status == .notFound)
            #expect(try await Self.get(client, "/v1/decisions/nonsense").status == .notFound)
        }
    }

    @Test(arguments: Transport.allCases) func aRetryWithTheSameKeyReturnsTheSameAnswer(transport: Transport) async throws {
        try await Self.withServer(transport: transport) { client, store in
            let first = try await Self.post(client, "/v1/decisions", payment(id: "k"), key: "retry-1")
            let second = try await Self.post(client, "/v1/decisions", payment(id: "k"), key: "retry-1")
            #expect(first.status == .created && second.status == .created)
            #expect(String(buffer: first.body) == String(buffer: second.body))
            #expect(first.headers[.location] == second.headers[.location])
            #expect(second.headers[HTTPField.Name("Idempotent-Replayed")!] == "true")
            let reused = try await Self.post(client, "/v1/decisions", payment(id: "other"), key: "retry-1")
            #expect(reused.status == .unprocessableContent && Self.errorCode(reused) == "idempotency_key_reused")
            #expect(try await store.database.integer("SELECT COUNT(*) FROM decisions") == 1)
        }
    }

    @Test func theRetentionServiceSweepsUntilShutdown() async throws {
        let clock = ManualClock(Self.start)
        try await Self.withServer(clock: clock) { client, store in
            #expect(try await Self.post(client, "/v1/decisions", payment(id: "r"), key: "retention-1").status == .created)
            // A day later: the hour-long key is past its retention at the first sweep.
            clock.advance(.days(1))
            let metrics = ServerMetrics()
            #expect(
                String(decoding: metrics.render(), as: UTF8.self).contains(#"sca_retention_deleted_rows_total{table="idempotency_keys"} 0"#)
            )
            let service = RetentionService(
                store: store, policy: RetentionPolicy(idempotencyKeys: .seconds(3600), sessionIdle: .minutes(5)),
                interval: .milliseconds(20), metrics: metrics, logger: Self.logger
            )
            let group = ServiceGroup(configuration: .init(services: [service], logger: Self.logger))
            try await withThrowingTaskGroup { tasks in
                tasks.addTask { try await group.run() }
                var keys: Int64? = nil
                for _ in 0..<250 {  // at most 5 s
                    keys = try await store.database.integer("SELECT COUNT(*) FROM idempotency_keys")
                    if keys == 0 { break }
                    try await Task.sleep(for: .milliseconds(20))
                }
                #expect(keys == 0)
                // Shutdown ends the wait between sweeps, and the service returns without an error.
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
            }
            #expect(try await store.database.integer("SELECT COUNT(*) FROM decisions") == 1)
            let exposed = String(decoding: metrics.render(), as: UTF8.self)
            #expect(exposed.contains(#"sca_retention_deleted_rows_total{table="idempotency_keys"} 1"#))
            #expect(exposed.contains(#"sca_retention_deleted_rows_total{table="auth_sessions"} 0"#))
            #expect(exposed.contains("sca_retention_failed_sweeps_total 0"))
            // The key is free again.
            let again = try await Self.post(client, "/v1/decisions", payment(id: "r"), key: "retention-1")
            #expect(again.status == .created && again.headers[HTTPField.Name("Idempotent-Replayed")!] == nil)
        }
    }

    // MARK: Audit and operations

    @Test func auditPagesAndVerification() async throws {
        try await Self.withServer { client, store in
            for index in 1...5 { _ = try await Self.post(client, "/v1/decisions", payment(id: "a\(index)")) }
            let page = Self.json(try await Self.get(client, "/v1/audit?after=1&limit=2"))
            let events = try #require(page["events"] as? [[String: Any]])
            #expect(events.map { $0["sequence"] as? Int } == [2, 3])
            #expect(page["next_after"] as? Int == 3)
            #expect(try await Self.get(client, "/v1/audit?limit=0").status == .badRequest)
            #expect(try await Self.get(client, "/v1/audit?after=-1").status == .badRequest)

            let intact = Self.json(try await Self.get(client, "/v1/audit/verify"))
            // The four test clients' creations, then the five decisions.
            #expect(intact["status"] as? String == "intact" && intact["events"] as? Int == 4 + 5)
            try await store.database.execute("DELETE FROM audit_events WHERE sequence = 2")
            let broken = Self.json(try await Self.get(client, "/v1/audit/verify"))
            #expect(broken["status"] as? String == "broken" && broken["kind"] as? String == "missing" && broken["sequence"] as? Int == 3)
        }
    }

    @Test(arguments: Transport.allCases) func operationsEndpoints(transport: Transport) async throws {
        try await Self.withServer(transport: transport) { client, _ in
            #expect(try await Self.get(client, "/health").status == .ok)
            let ready = try await Self.get(client, "/ready")
            #expect(ready.status == .ok && Self.json(ready)["status"] as? String == "ready")
            _ = try await Self.post(client, "/v1/decisions", payment(id: "m1"))
            let metrics = String(buffer: try await Self.get(client, "/metrics").body)
            #expect(metrics.contains(#"sca_decisions_total{outcome="exempt",reason="low_value"} 1"#))
            #expect(metrics.contains(#"sca_http_requests_total{method="POST",route="/v1/decisions",status="201"} 1"#))
            #expect(metrics.contains("sca_http_request_duration_seconds_bucket"))
            // The four test clients' creations, then the decision.
            #expect(metrics.contains("\nsca_store_transactions 5.0\n") && metrics.contains("\nsca_store_jobs 5.0\n"))
        }
    }

    @Test func readyFailsWhenTheDatabaseDoesNotAnswer() async throws {
        try await Self.withServer { client, store in
            await store.database.close()
            let ready = try await Self.get(client, "/ready")
            #expect(ready.status == .serviceUnavailable)
            #expect(Self.errorCode(ready) == "database_unreachable")
            #expect(try await Self.get(client, "/health").status == .ok)
        }
    }

    // MARK: The one-time-token protocol over HTTP

    @Test func aProtectedCallAnswers403WithAOneTimeTokenAndItsStatus() async throws {
        try await Self.withServer { client, _ in
            let registered = try await Self.post(client, "/v1/users", #"{"username":"anna","name":"Anna","pin":"739148"}"#)
            #expect(registered.status == .created)
            let taken = try await Self.post(client, "/v1/users", #"{"username":"anna","name":"Anna","pin":"739148"}"#)
            #expect(taken.status == .conflict && Self.errorCode(taken) == "username_taken")
            let userID = try #require(Self.json(registered)["user_id"] as? String)
            let session = try #require(Self.json(registered)["session"] as? String)
            var bearer = HTTPFields()
            bearer[.authorization] = "Bearer \(session)"
            let totp = try await client.execute(
                uri: "/v1/users/\(userID)/factors", method: .post, headers: bearer, body: ByteBuffer(string: #"{"kind":"totp"}"#)
            ) { $0 }
            #expect(totp.status == .created)
            // An enrolment session opens nothing else.
            #expect(try await client.execute(uri: "/v1/accounts", method: .get, headers: bearer) { $0 }.status == .unauthorized)

            let login = try await Self.post(client, "/v1/sessions", #"{"username":"anna"}"#)
            #expect(login.status == .forbidden)
            #expect(login.headers[HTTPField.Name("x-2fa-approval-result")!] == "REJECTED")
            let token = try #require(login.headers[HTTPField.Name("x-2fa-approval")!])
            #expect(Self.json(login)["one_time_token"] as? String == token)
            #expect(Self.json(login)["action_type"] as? String == "login")
            var tokenHeader = HTTPFields()
            tokenHeader[HTTPField.Name("One-Time-Token")!] = token
            let status = try await client.execute(uri: "/v1/one-time-token/status", method: .get, headers: tokenHeader) { $0 }
            #expect(status.status == .ok)
            let challenges = try #require(Self.json(status)["challenges"] as? [[String: Any]])
            #expect(challenges.compactMap { ($0["primary_challenge"] as? [String: Any])?["type"] as? String } == ["pin", "totp"])
            #expect(Self.json(status)["state"] as? String == "created")

            // A wrong PIN and a malformed token get the same answer.
            let wrong = try await client.execute(
                uri: "/v1/one-time-token/pin/verify", method: .post, headers: tokenHeader, body: ByteBuffer(string: #"{"pin":"000000"}"#)
            ) { $0 }
            var unknown = HTTPFields()
            unknown[HTTPField.Name("One-Time-Token")!] = "not-a-token"
            let stranger = try await client.execute(
                uri: "/v1/one-time-token/pin/verify", method: .post, headers: unknown, body: ByteBuffer(string: #"{"pin":"739148"}"#)
            ) { $0 }
            #expect(wrong.status == .unprocessableContent && stranger.status == .unprocessableContent)
            #expect(String(buffer: wrong.body) == String(buffer: stranger.body))

            // Repeating the call before approval is refused.
            var approval = HTTPFields()
            approval[HTTPField.Name("x-2fa-approval")!] = token
            let early = try await client.execute(
                uri: "/v1/sessions", method: .post, headers: approval, body: ByteBuffer(string: #"{"username":"anna"}"#)
            ) { $0 }
            #expect(early.status == .forbidden && Self.errorCode(early) == "approval_invalid")
        }
    }

    @Test func theAppIsServed() async throws {
        try await Self.withServer { client, _ in
            let page = try await Self.get(client, "/app/")
            #expect(page.status == .ok)
            #expect(String(buffer: page.body).contains("sca-challenge.js"))
            #expect(try await Self.get(client, "/app/sca-challenge.js").status == .ok)
            #expect(try await Self.get(client, "/app/..%2FPackage.swift").status == .notFound)
        }
    }

    // MARK: The OpenAPI document matches the routes

    @Test func theAppIsServedWithItsSlashAndRedirectedWithout() async throws {
        try await Self.withServer { client, _ in
            let bare = try await Self.get(client, "/app")
            #expect(bare.status == .movedPermanently && bare.headers[.location] == "/app/")
            let page = try await Self.get(client, "/app/")
            #expect(page.status == .ok && String(buffer: page.body).contains("<html"))
        }
    }

    /// The routes as the router has them (filled by `withServer`).
    final class RouteList: Sendable {
        private let list = Mutex<[String]>([])
        var all: [String] { list.withLock { $0 } }
        func set(_ routes: [String]) { list.withLock { $0 = routes } }
    }

    /// The router's own route list against the document: no hand-kept list between them.
    @Test func theOpenAPIDocumentDescribesEveryRouteAndNothingElse() async throws {
        let routes = RouteList()
        try await Self.withServer(routes: routes) { client, _ in
            let response = try await Self.get(client, "/openapi.yaml")
            #expect(response.status == .ok)
            let document = try #require(try Yams.load(yaml: String(buffer: response.body)) as? [String: Any])
            #expect(document["openapi"] as? String == "3.1.0")
            let paths = try #require(document["paths"] as? [String: Any])
            var documented: Set<String> = []
            for (path, item) in paths {
                for method in ((item as? [String: Any]) ?? [:]).keys where ["get", "post", "put", "patch", "delete"].contains(method) {
                    documented.insert("\(method.uppercased()) \(path)")
                }
            }
            #expect(routes.all.count > 40)
            #expect(documented == Set(routes.all))
            // Every documented route is served (a route Hummingbird does not know is a bare 404).
            for entry in routes.all {
                let route = (method: String(entry.prefix { $0 != " " }), path: String(entry.drop { $0 != " " }.dropFirst()))
                let uri = route.path.replacingOccurrences(of: "{id}", with: "dec_aaaaaaaaaaaaaaaaaaaaaaaaaa")
                    .replacingOccurrences(of: #"\{[a-z_]+\}"#, with: "x", options: .regularExpression)
                let method: HTTPRequest.Method = route.method == "GET" ? .get : route.method == "DELETE" ? .delete : .post
                let answer = try await client.execute(uri: uri, method: method, body: ByteBuffer(string: "{}")) { $0 }
                #expect(!(answer.status == .notFound && answer.body.readableBytes == 0), "\(route.method) \(route.path) is not served")
            }
        }
    }
}

func payment(id: String, amount: String = "20.00", currency: String = "EUR") -> String {
    #"{"id":"\#(id)","at":"2026-11-21T08:00:00Z","action":"payment","payer":{"id":"anna","psp_country":"DE","instrument":"card-1"},"payee":{"id":"shop","psp_country":"DE"},"amount":{"value":"\#(amount)","currency":"\#(currency)"},"payment":{"method":"card","channel":"remote","initiator":"payer"}}"#
}

@Suite struct PaymentRouteTests {
    /// The payments API over HTTP: a frictionless payment, its idempotent replay, a reused
    /// key, bad JSON, a capture, the trace, and the checkout and challenge pages.
    @Test func paymentsOverHTTP() async throws {
        try await ServerTests.withServer { client, _ in
            let body =
                #"{"source": {"type": "card", "number": "4000010000000019", "expiry_month": 12, "expiry_year": 2030}, "amount": 2500, "currency": "EUR", "3ds": {"enabled": true, "challenge_indicator": "no_challenge_requested"}}"#
            let created = try await ServerTests.post(client, "/v1/payments", body, key: "k1")
            #expect(created.status == .created)
            let payment = ServerTests.json(created)
            #expect(payment["status"] as? String == "Authorized")
            let replay = try await ServerTests.post(client, "/v1/payments", body, key: "k1")
            #expect(replay.status == .ok)
            #expect(replay.headers[HTTPField.Name("Idempotent-Replayed")!] == "true")
            #expect(String(buffer: replay.body) == String(buffer: created.body))
            let reused = try await ServerTests.post(client, "/v1/payments", body.replacingOccurrences(of: "2500", with: "2600"), key: "k1")
            #expect(reused.status == .unprocessableContent)
            #expect(ServerTests.errorCode(reused) == "idempotency_key_reused")
            let broken = try await ServerTests.post(client, "/v1/payments", "{not json", key: "k2")
            #expect(broken.status == .badRequest)
            #expect(ServerTests.errorCode(broken) == "invalid_json")
            let invalid = try await ServerTests.post(
                client, "/v1/payments", #"{"source": {"type": "card"}, "amount": 1, "currency": "EUR"}"#)
            #expect(invalid.status == .unprocessableContent)
            let id = try #require(payment["id"] as? String)
            let capture = try await ServerTests.post(client, "/v1/payments/\(id)/captures", #"{"amount": 1000}"#, key: "c1")
            #expect(capture.status == .accepted)
            // A retried capture captures nothing more; the key with another amount is refused.
            let retried = try await ServerTests.post(client, "/v1/payments/\(id)/captures", #"{"amount": 1000}"#, key: "c1")
            #expect(retried.status == .ok)
            #expect(String(buffer: retried.body) == String(buffer: capture.body))
            let otherAmount = try await ServerTests.post(client, "/v1/payments/\(id)/captures", #"{"amount": 500}"#, key: "c1")
            #expect(ServerTests.errorCode(otherAmount) == "idempotency_key_reused")
            #expect(ServerTests.json(try await ServerTests.get(client, "/v1/payments/\(id)"))["captured_amount"] as? Int == 1000)
            #expect(ServerTests.json(try await ServerTests.get(client, "/v1/payments/\(id)"))["status"] as? String == "Partially Captured")
            let over = try await ServerTests.post(client, "/v1/payments/\(id)/captures", #"{"amount": 2000}"#)
            #expect(over.status == .unprocessableContent)
            let trace = ServerTests.json(try await ServerTests.get(client, "/v1/payments/\(id)/trace"))
            #expect((trace["messages"] as? [Any])?.isEmpty == false)
            #expect(try await ServerTests.get(client, "/v1/payments/pay_0000000000000000").status == .notFound)
            let page = try await ServerTests.get(client, "/app/checkout.html")
            #expect(page.status == .ok)
            #expect(String(buffer: page.body).contains("checkout.js"))
            // A challenge page, HTML-escaped and framable by the shop only.
            let pending = ServerTests.json(
                try await ServerTests.post(
                    client, "/v1/payments", body.replacingOccurrences(of: "4000010000000019", with: "4000020000000018")))
            let redirect = try #require(((pending["_links"] as? [String: Any])?["redirect"] as? [String: Any])?["href"] as? String)
            let challenge = try await ServerTests.get(client, redirect)
            #expect(challenge.status == .ok)
            #expect(String(buffer: challenge.body).contains("Pay 25.00 EUR to Demo Shop"))
            #expect(challenge.headers[HTTPField.Name("Content-Security-Policy")!]?.contains("frame-ancestors 'self'") == true)
            let cards = ServerTests.json(try await ServerTests.get(client, "/v1/sandbox/cards"))
            #expect((cards["cards"] as? [Any])?.count == 17)
        }
    }
}
