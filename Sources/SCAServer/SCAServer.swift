import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOHTTP1
import SCAAudit
import SCABank
import SCAClients
import SCAContract
import SCAGate
import SCAHTTP
import SCAPayments
import SCAPrimitives
import SCARules
import SCAService
import SCAStore

/// What the HTTP shell needs besides the store: its limits.
public struct ServerLimits: Sendable {
    /// Request bodies larger than this are refused with 413.
    public var bodyBytesMax: Int
    /// The largest page of `GET /v1/audit`.
    public var auditPageMax: Int

    public init(
        bodyBytesMax: Int = ServiceConfiguration.bodyBytesMaxDefault,
        auditPageMax: Int = ServiceConfiguration.auditPageMaxDefault
    ) {
        self.bodyBytesMax = bodyBytesMax
        self.auditPageMax = auditPageMax
    }
}

/// The routes of `sca serve`. They translate HTTP to the store and back; no rule lives here.
public struct SCAServer: Sendable {
    public let store: DecisionStore
    public let limits: ServerLimits
    public let metrics: ServerMetrics
    /// Users, factors, the one-time-token protocol and the demo bank; without it those
    /// routes are absent (404).
    public let bank: Bank?
    /// Card payments, 3DS and the sandbox; without it those routes are absent (404).
    public let payments: PaymentService?
    /// The API clients: every machine-facing route asks it for the caller's key.
    public let clients: ClientRegistry
    /// The demo shop's merchant (`--demo`), for the checkout page's server-side step.
    public let demoShop: ResourceOwner?
    let decoder: SCAContract.RequestDecoder
    let logger: Logger

    public init(
        store: DecisionStore, limits: ServerLimits, metrics: ServerMetrics = ServerMetrics(), bank: Bank? = nil,
        payments: PaymentService? = nil, clients: ClientRegistry, demoShop: ResourceOwner? = nil, logger: Logger
    ) {
        self.store = store
        self.clients = clients
        self.demoShop = demoShop
        self.bank = bank
        self.payments = payments
        self.limits = limits
        self.metrics = metrics
        self.logger = logger
        // Over HTTP an absent `sca` means the SCA is still pending (DESIGN, decision contract).
        decoder = SCAContract.RequestDecoder(referenceRates: store.engine.configuration.referenceRates, absentSCA: nil)
    }

    /// The HTTP/1.1 server for `router()`: its connections serve `POST /v1/decisions` on
    /// their event loops (`DecisionChannelHandler`) and pass every other request on.
    /// `serverName` is the `Server` header, as in the application's configuration.
    public func http1(serverName: String?) -> HTTPServerBuilder {
        HTTPServerBuilder { responder in
            DecisionHTTP1Channel(responder: responder) { DecisionChannelHandler(server: self, serverName: serverName) }
        }
    }

    public func router() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: ObservabilityMiddleware(metrics: metrics, logger: logger))
        let routes = RouteIndex()
        router.add(middleware: ErrorShapeMiddleware(routes: routes))
        router.get("/health") { _, _ in Response.json(#"{"status":"ok"}"#) }
        router.get("/ready") { _, _ in
            await store.database.ping()
                ? Response.json(#"{"status":"ready"}"#)
                : APIError(status: .serviceUnavailable, code: "database_unreachable", message: "the database does not answer").response
        }
        router.get("/metrics") { request, _ in
            await answering {
                _ = try await clients.require(.metrics, request)
                let (transactions, jobs) = await (store.commits, store.committedJobs)
                metrics.committed(transactions: transactions, decisions: jobs)
                var headers = HTTPFields()
                headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
                return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: metrics.render())))
            }
        }
        router.get("/openapi.yaml") { _, _ in
            var headers = HTTPFields()
            headers[.contentType] = "application/yaml"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: OpenAPIDocument.bytes)))
        }
        router.post("/v1/decisions") { request, _ in try await postDecision(request) }
        router.get("/v1/decisions/{id}") { request, context in
            await answering {
                let owner = try await decider(authorization: request.headers[.authorization])
                let id = context.parameters.get("id") ?? ""
                guard let decision = try await lookup(id, owner: owner) else { throw APIError.notFound("decision \(id.prefix(64))") }
                return Response.json(Self.view(decision))
            }
        }
        router.post("/v1/decisions/{id}/sca-result") { request, context in
            await answering {
                try await postSCAResult(
                    request, id: context.parameters.get("id") ?? "",
                    owner: try await decider(authorization: request.headers[.authorization]))
            }
        }
        router.get("/v1/audit") { request, _ in
            await answering {
                _ = try await clients.require(.audit, request)
                return try await auditPage(request)
            }
        }
        router.get("/v1/audit/verify") { request, _ in
            await answering {
                _ = try await clients.require(.audit, request)
                return try await verify()
            }
        }
        let requestLimits = RequestLimits(bodyBytesMax: limits.bodyBytesMax)
        if let bank {
            router.get("/v1/dev/messages") { request, _ in
                await answering {
                    _ = try await clients.require(.developmentMessages, request)
                    return try Self.developmentMessages(bank.auth.messages, to: request.uri.queryParameters.get("to"))
                }
            }
            // A login's SCA covers the app's account information that follows it.
            AuthController(auth: bank.auth, limits: requestLimits) { userID in
                try await bank.auth.recordAccountAccessSCA(userID: userID, consent: Bank.appConsent)
            }.add(to: router)
            BankController(bank: bank, limits: requestLimits).add(to: router)
            WebAssets.add(to: router)
        }
        if let payments {
            PaymentsController(payments: payments, clients: clients, limits: requestLimits, demoShop: demoShop).add(to: router)
        }
        ClientsController(clients: clients, limits: requestLimits).add(to: router)
        routes.set(router.routes.map { ($0.method.rawValue, $0.path.description) })
        return router
    }

    // MARK: Decisions

    private func postDecision(_ request: Request) async throws -> Response {
        let authorization = request.headers[.authorization]
        let caller = if let seen = seenDecisionCaller(authorization) { seen } else { await readDecisionCaller(authorization) }
        let body = await collect(request)
        let reply = await withCheckedContinuation { continuation in
            decide(caller, idempotencyKey: IdempotencyKey.parse(request), body: body) { continuation.resume(returning: $0) }
        }
        return reply.response
    }

    /// Who asks for a decision: the tenant whose namespace it uses and the digest of its
    /// key, which the decision's transaction checks again; or the refusal.
    typealias DecisionCaller = Result<(owner: ResourceOwner, credential: String), APIError>

    /// The caller, when its key was seen before (no read); nil otherwise.
    func seenDecisionCaller(_ authorization: String?) -> DecisionCaller? {
        clients.seenDecisionCaller(authorization).map { seen in
            seen.map { (.client($0.client.id, tenant: $0.client.tenant), $0.credential) }.mapError(\.apiError)
        }
    }

    /// The caller, read from the store.
    func readDecisionCaller(_ authorization: String?) async -> DecisionCaller {
        do {
            let (client, credential) = try await clients.readDecisionCaller(authorization)
            return .success((.client(client.id, tenant: client.tenant), credential))
        } catch let refusal as any APIRefusal {
            return .failure(refusal.apiError)
        } catch {
            return .failure(.storage(error, otherwise: "the API key could not be checked"))
        }
    }

    /// `POST /v1/decisions` once its caller is known, from the route and from
    /// `DecisionChannelHandler`, which differ only in how bytes reach them and leave: the
    /// answer goes to `reply`, at once or on the writer's thread once committed.
    func decide(
        _ caller: DecisionCaller, idempotencyKey: Result<String?, APIError>, body: Result<ByteBuffer, APIError>,
        reply: @escaping @Sendable (JSONReply) -> Void
    ) {
        switch caller {
        case .failure(let refusal):
            reply(refusal.reply)
        case .success(let (owner, credential)):
            switch decisionStep(idempotencyKey: idempotencyKey, body: body, owner: owner, credential: credential) {
            case .reply(let answer):
                reply(answer)
            case .submit(let submission):
                let clients = self.clients
                store.decide(submission) { result in
                    if case .unauthenticated = result { clients.forget(credential: credential) }
                    reply(decisionReply(result))
                }
            }
        }
    }

    /// What `POST /v1/decisions` does with an authorised request: answer it at once (a bad
    /// idempotency key or body), or submit it to the store.
    enum DecisionStep {
        case reply(JSONReply)
        case submit(DecisionSubmission)
    }

    func decisionStep(
        idempotencyKey: Result<String?, APIError>, body: Result<ByteBuffer, APIError>, owner: ResourceOwner, credential: String
    ) -> DecisionStep {
        let key: String?
        switch idempotencyKey {
        case .success(let value): key = value
        case .failure(let error): return .reply(error.reply)
        }
        let bytes: [UInt8]
        switch body {
        case .success(let buffer): bytes = Array(buffer.readableBytesView)
        case .failure(let error): return .reply(error.reply)
        }
        switch decoder.decode(line: bytes) {
        case .success(let decisionRequest):
            return .submit(
                store.submission(
                    decisionRequest, text: String(decoding: bytes, as: UTF8.self), owner: owner, credential: credential, idempotencyKey: key
                ))
        case .failure(let error):
            // Same error object as a `sca decide` error line; 400 when not JSON, 422 when
            // JSON that breaks the contract.
            var out: [UInt8] = []
            AnswerEncoder.encode(error, into: &out)
            return .reply(JSONReply(status: error.code == .invalidJSON ? .badRequest : .unprocessableContent, body: out))
        }
    }

    /// The answer to a submitted decision; counts it in the metrics unless replayed.
    func decisionReply(_ result: DecisionResult) -> JSONReply {
        switch result {
        case .decided(let decision, let replayed):
            if !replayed { metrics.decided(outcome: decision.outcome, reason: decision.reason) }
            var headers = HTTPFields()
            headers[.location] = "/v1/decisions/\(decision.id)"
            headers[.decisionID] = decision.id
            if replayed { headers[.idempotentReplayed] = "true" }
            return JSONReply(status: .created, headers: headers, body: Array(decision.answer.utf8))
        case .unauthenticated:
            return AccessRefusal.unauthenticated.apiError.reply
        case .idempotencyConflict:
            return APIError(
                status: .unprocessableContent, code: "idempotency_key_reused",
                message: "this Idempotency-Key was used for a different request"
            ).reply
        case .busy:
            return APIError.busy.reply
        case .unavailable(let message):
            return APIError.unavailable(message).reply
        }
    }

    /// The development SMS sender's messages to one number, for an operator. Never every
    /// number's at once: with a username and a PIN, a list of every customer's codes would
    /// be a login for anyone.
    static func developmentMessages(_ messages: DevMessages?, to: String?) throws -> Response {
        guard let messages else { throw GateRefusal(.notFound, "the development SMS sender is not enabled") }
        guard let to, !to.isEmpty else {
            throw APIError.invalidParameter("to: the phone number whose messages to read (E.164)")
        }
        return .json(JSONList("messages", messages.messages(to: to)))
    }

    /// Whose decisions a decider's key makes and reads: its tenant's, in the tenant's own
    /// namespace of the rules state. No key reaches the engine's own (`ResourceOwner`).
    func decider(authorization: String?) async throws -> ResourceOwner {
        let client = try await clients.require(.decisions, authorization: authorization)
        return .client(client.id, tenant: client.tenant)
    }

    private func lookup(_ id: String, owner: ResourceOwner) async throws -> StoredDecision? {
        do {
            return try await store.decision(id: id, owner: owner)
        } catch {
            logger.error("decision lookup failed", metadata: ["error": "\(String(reflecting: error))"])
            throw HTTPError(.serviceUnavailable)
        }
    }

    /// `{"decision_id", "created_at", "sca", "answer"}`: the stored answer, byte for byte.
    static func view(_ decision: StoredDecision) -> String {
        var out: [UInt8] = []
        out.append(contentsOf: #"{"decision_id":"#.utf8)
        JSONWriter.appendString(decision.id, into: &out)
        out.append(contentsOf: #","created_at":"#.utf8)
        JSONWriter.appendString(decision.createdAt, into: &out)
        out.append(contentsOf: #","sca":"#.utf8)
        JSONWriter.appendString(decision.sca.rawValue, into: &out)
        out.append(contentsOf: #","answer":"#.utf8)
        out.append(contentsOf: decision.answer.utf8)
        out.append(UInt8(ascii: "}"))
        return String(decoding: out, as: UTF8.self)
    }

    private func postSCAResult(_ request: Request, id: String, owner: ResourceOwner) async throws -> Response {
        if case .failure(let error) = IdempotencyKey.parse(request) { return error.response }
        let body: ByteBuffer
        switch await collect(request) {
        case .success(let value): body = value
        case .failure(let error): return error.response
        }
        let value: JSONValue
        do {
            value = try JSONParser.parse(Array(body.readableBytesView))
        } catch {
            return APIError(status: .badRequest, code: "invalid_json", message: "body is not valid JSON: \(error.message)").response
        }
        guard case .object(let object) = value, case .string(let text)? = object["result"] else {
            return APIError(status: .unprocessableContent, code: "missing_field", message: "result: required, \"passed\" or \"failed\"")
                .response
        }
        guard let result = SCAResult(rawValue: text) else {
            return APIError(status: .unprocessableContent, code: "invalid_value", message: "result: must be \"passed\" or \"failed\"")
                .response
        }
        switch await store.reportSCA(decision: id, result: result, owner: owner) {
        case .recorded(let decision, let replayed):
            var headers = HTTPFields()
            if replayed { headers[.idempotentReplayed] = "true" }
            return Response.json(Self.view(decision), headers: headers)
        case .notFound:
            return APIError.notFound("decision \(id.prefix(64))").response
        case .notPending(let decision):
            let message =
                decision.sca == .notRequired
                ? "the decision did not require SCA" : "an SCA result (\(decision.sca.rawValue)) is already recorded"
            return APIError(status: .conflict, code: "sca_not_pending", message: message).response
        case .busy:
            return APIError.busy.response
        case .unavailable(let message):
            return APIError.unavailable(message).response
        }
    }

    // MARK: Audit

    private func auditPage(_ request: Request) async throws -> Response {
        let parameters = request.uri.queryParameters
        var after: UInt64 = 0
        if let text = parameters.get("after") {
            guard let value = UInt64(text) else { return APIError.invalidParameter("after: a sequence number, 0 or more").response }
            after = value
        }
        var limit = min(100, limits.auditPageMax)
        if let text = parameters.get("limit") {
            guard let value = Int(text), value >= 1, value <= limits.auditPageMax else {
                return APIError.invalidParameter("limit: 1 to \(limits.auditPageMax)").response
            }
            limit = value
        }
        let events = try await store.auditEvents(after: after, limit: limit)
        var out: [UInt8] = Array(#"{"events":["#.utf8)
        for (index, event) in events.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: #"{"sequence":"#.utf8)
            out.append(contentsOf: String(event.sequence).utf8)
            out.append(contentsOf: #","at":"#.utf8)
            JSONWriter.appendString(event.at, into: &out)
            out.append(contentsOf: #","kind":"#.utf8)
            JSONWriter.appendString(event.kind, into: &out)
            out.append(contentsOf: #","payload":"#.utf8)
            JSONWriter.appendString(event.payload, into: &out)
            out.append(contentsOf: #","previous_hash":""#.utf8)
            out.append(contentsOf: hex(event.previousHash).utf8)
            out.append(contentsOf: #"","hash":""#.utf8)
            out.append(contentsOf: hex(event.hash).utf8)
            out.append(contentsOf: #""}"#.utf8)
        }
        out.append(contentsOf: "],\"next_after\":".utf8)
        if events.count == limit, let last = events.last {
            out.append(contentsOf: String(last.sequence).utf8)
        } else {
            out.append(contentsOf: "null".utf8)
        }
        out.append(UInt8(ascii: "}"))
        return Response.json(out)
    }

    private func verify() async throws -> Response {
        Response.json(Self.verificationJSON(try await store.verifyAudit()))
    }

    /// `{"status":"intact","events":N,"head":"…"}` or `{"status":"broken","kind":…,"sequence":N,"position":N,"message":…}`.
    public static func verificationJSON(_ verification: AuditVerification) -> String {
        switch verification {
        case .intact(let events, let head):
            return #"{"status":"intact","events":\#(events),"head":"\#(hex(head))"}"#
        case .broken(let found):
            var out: [UInt8] = []
            JSONWriter.appendString(found.description, into: &out)
            return
                #"{"status":"broken","kind":"\#(found.kind.rawValue)","sequence":\#(found.sequence),"position":\#(found.position),"message":"#
                + String(decoding: out, as: UTF8.self) + "}"
        }
    }

    // MARK: Request parts

    private func collect(_ request: Request) async -> Result<ByteBuffer, APIError> {
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limits.bodyBytesMax {
            return .failure(.bodyTooLarge(limits.bodyBytesMax))
        }
        do {
            return .success(try await request.body.collect(upTo: limits.bodyBytesMax))
        } catch {
            return .failure(.bodyTooLarge(limits.bodyBytesMax))
        }
    }

}
