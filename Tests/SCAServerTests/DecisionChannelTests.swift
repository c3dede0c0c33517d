import Foundation
import HTTPTypes
import HummingbirdCore
import NIOCore
import NIOEmbedded
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1
import SCAClients
import SCARules
import SCASchema
import SCAStore
import Synchronization
import Testing

@testable import SCAServer

/// `DecisionChannelHandler` in a channel with the handlers of `sca serve`'s connections
/// (`DecisionHTTP1Channel.configure`: the HTTP/1.1 codecs before it, the conversion to HTTP
/// types and Hummingbird's connection-state handler after it), on a real store: requests go in as
/// bytes, answers come out as bytes (the router's through the encoders, the handler's past
/// them), and the router's side is played by the test. (Over real connections, the
/// `connection` transport of `ServerTests` and the system tests drive it.)
@Suite struct DecisionChannelTests {
    /// Counts the reads asked of the socket (it sits next to it, before the codecs).
    final class ReadCounter: ChannelOutboundHandler, Sendable {
        typealias OutboundIn = IOData
        let reads = Atomic(0)

        func read(context: ChannelHandlerContext) {
            reads.add(1, ordering: .relaxed)
            context.read()
        }
    }

    static func withChannel(
        _ body: (NIOAsyncTestingChannel, DecisionStore, ReadCounter) async throws -> Void
    ) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sca-channel-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let database = try await StoreDatabase.open(
            .sqlite(path: directory.appendingPathComponent("sca.sqlite").path), logger: ServerTests.logger
        )
        try await Migrations.migrate(database, schema: EngineSchema.schema, now: "2026-11-21T00:00:00Z")
        let store = DecisionStore(database: database, engine: RulesEngine(), logger: ServerTests.logger)
        let clients = ClientRegistry(store: store, pepper: ClientsRouteTests.pepper)
        let server = SCAServer(store: store, limits: ServerLimits(bodyBytesMax: 4096), clients: clients, logger: ServerTests.logger)
        let keys = try await ServerTests.TestKeys(clients)
        let counter = ReadCounter()
        let channel = try await NIOAsyncTestingChannel { channel in
            let pipeline = channel.pipeline.syncOperations
            try pipeline.addHandler(counter)
            try DecisionHTTP1Channel.configure(
                pipeline, handler: DecisionChannelHandler(server: server, serverName: "sca"), logger: ServerTests.logger
            )
        }
        try await channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 8080)).get()
        do {
            try await ServerTests.$keys.withValue(keys) { try await body(channel, store, counter) }
        } catch {
            await database.close()
            throw error
        }
        _ = try? await channel.finish(acceptAlreadyClosed: true)
        await database.close()
    }

    /// A decision request as bytes, with `fields` (whole header lines) in its head.
    static func decisionRequest(_ id: String, version: String = "1.1", fields: [String] = []) -> ByteBuffer {
        let body = payment(id: id, amount: "5.00")
        let head =
            ["POST /v1/decisions HTTP/\(version)", "Host: localhost", "Content-Type: application/json"]
            + (ServerTests.keys.map { ["Authorization: Bearer \($0.decider)"] } ?? []) + fields
            + ["Content-Length: \(body.utf8.count)"]
        return ByteBuffer(string: head.joined(separator: "\r\n") + "\r\n\r\n" + body)
    }

    /// A decision request's head announcing a body over the limit of 4,096 bytes.
    static func oversizedHead(path: String = "/v1/decisions") -> ByteBuffer {
        ByteBuffer(string: "POST \(path) HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100000\r\n\r\n")
    }

    static let health = ByteBuffer(string: "GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n")

    /// One answer as it went over the wire.
    struct Answer {
        var status: Int
        /// By lowercased name.
        var headers: [String: String]
        var body: String
    }

    /// What the channel wrote, read as answers in order.
    final class Wire {
        private var bytes = ByteBuffer()

        /// The next answer, waiting up to 5 s for it (nil after that: a failure, not a hang).
        func next(_ channel: NIOAsyncTestingChannel) async throws -> Answer? {
            for _ in 0..<500 {
                while let more = try await channel.readOutbound(as: ByteBuffer.self) { bytes.writeImmutableBuffer(more) }
                if let answer = take() { return answer }
                try await Task.sleep(for: .milliseconds(10))
            }
            return nil
        }

        /// Whether nothing was written beyond the answers already taken.
        func isEmpty(_ channel: NIOAsyncTestingChannel) async throws -> Bool {
            while let more = try await channel.readOutbound(as: ByteBuffer.self) { bytes.writeImmutableBuffer(more) }
            return bytes.readableBytes == 0
        }

        /// One whole answer (head, then a body of its `Content-Length`) off the front.
        private func take() -> Answer? {
            let text = String(buffer: bytes)
            guard let headEnd = text.utf8.firstRange(of: "\r\n\r\n".utf8) else { return nil }
            var lines = String(text[..<headEnd.lowerBound]).components(separatedBy: "\r\n")
            let statusLine = lines.removeFirst().split(separator: " ")
            guard statusLine.count >= 2, statusLine[0] == "HTTP/1.1", let status = Int(statusLine[1]) else { return nil }
            var headers: [String: String] = [:]
            for line in lines {
                guard let colon = line.firstIndex(of: ":") else { return nil }
                headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
            let headBytes = text.utf8.distance(from: text.utf8.startIndex, to: headEnd.upperBound)
            let length = Int(headers["content-length"] ?? "0") ?? 0
            guard bytes.readableBytes >= headBytes + length else { return nil }
            bytes.moveReaderIndex(forwardBy: headBytes)
            let body = bytes.readString(length: length) ?? ""
            bytes.discardReadBytes()
            return Answer(status: status, headers: headers, body: body)
        }
    }

    /// Whether the channel closes within 5 s.
    static func closes(_ channel: NIOAsyncTestingChannel) async throws -> Bool {
        for _ in 0..<500 where channel.isActive { try await Task.sleep(for: .milliseconds(10)) }
        return !channel.isActive
    }

    @Test func aDecisionPipelinedBehindARouterRequestWaitsForTheRoutersAnswer() async throws {
        try await Self.withChannel { channel, store, counter in
            var pipelined = Self.health
            pipelined.writeImmutableBuffer(Self.decisionRequest("d1"))
            try await channel.writeInbound(pipelined)
            // The router's request is passed on; the decision behind it is held.
            guard case .head(let passed)? = try await channel.readInbound(as: HTTPRequestPart.self) else {
                Issue.record("the router's request was not passed on")
                return
            }
            #expect(passed.path == "/health")
            guard case .end? = try await channel.readInbound(as: HTTPRequestPart.self) else {
                Issue.record("the router's request did not end")
                return
            }
            #expect(try await channel.readInbound(as: HTTPRequestPart.self) == nil)
            // While it is held, the socket is not read.
            let readsBefore = counter.reads.load(ordering: .relaxed)
            try await channel.testingEventLoop.executeInContext { channel.read() }
            #expect(counter.reads.load(ordering: .relaxed) == readsBefore)
            try await Task.sleep(for: .milliseconds(200))
            let wire = Wire()
            #expect(try await wire.isEmpty(channel))
            #expect(try await store.database.integer("SELECT COUNT(*) FROM decisions") == 0)

            // The router answers; only then is the decision made and answered, after it.
            try await channel.writeOutbound(HTTPResponsePart.head(HTTPResponse(status: .ok, headerFields: [.contentLength: "2"])))
            try await channel.writeOutbound(HTTPResponsePart.body(ByteBuffer(string: "ok")))
            try await channel.writeOutbound(HTTPResponsePart.end(nil))
            let routers = try await wire.next(channel)
            #expect(routers?.status == 200)
            #expect(routers?.body == "ok")
            guard let answer = try await wire.next(channel) else {
                Issue.record("the decision was not answered")
                return
            }
            #expect(answer.status == 201)
            #expect(answer.headers["content-type"] == "application/json")
            #expect(answer.headers["server"] == "sca")
            #expect(answer.headers["date"]?.hasSuffix(" GMT") == true)
            #expect(answer.headers["connection"] == nil)
            #expect(answer.headers["location"] == "/v1/decisions/" + (answer.headers["decision-id"] ?? "?"))
            #expect(answer.body.contains(#""id":"d1""#))
            #expect(answer.headers["content-length"] == String(answer.body.utf8.count))
            #expect(try await store.database.integer("SELECT COUNT(*) FROM decisions") == 1)
            #expect(try await channel.readInbound(as: HTTPRequestPart.self) == nil)
            #expect(try await wire.isEmpty(channel))
            // Nothing is held any more: the read asked for meanwhile is made.
            #expect(counter.reads.load(ordering: .relaxed) == readsBefore + 1)
        }
    }

    @Test func aBodyTooLargeIsRefusedAtItsHeadAndTheConnectionGoesOn() async throws {
        try await Self.withChannel { channel, store, _ in
            let wire = Wire()
            try await channel.writeInbound(Self.oversizedHead(path: "/v1/decisions?trace=1"))
            let refused = try await wire.next(channel)
            #expect(refused?.status == 413)
            #expect(refused?.body.contains(#""code":"body_too_large""#) == true)
            // The rest of that body is dropped, not passed on; the next request is served.
            for _ in 0..<20 { try await channel.writeInbound(ByteBuffer(repeating: 0x20, count: 5000)) }
            #expect(try await channel.readInbound(as: HTTPRequestPart.self) == nil)
            try await channel.writeInbound(Self.decisionRequest("d2"))
            #expect(try await wire.next(channel)?.status == 201)
            #expect(try await store.database.integer("SELECT COUNT(*) FROM decisions") == 1)
        }
    }

    @Test func shutdownWhileARefusedBodyArrivesClosesAtOnce() async throws {
        try await Self.withChannel { channel, _, _ in
            try await channel.writeInbound(Self.oversizedHead())
            #expect(try await Wire().next(channel)?.status == 413)
            try await channel.testingEventLoop.executeInContext {
                channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
            }
            // Its answer is written; shutdown does not wait for the rest of a body no one reads.
            #expect(try await Self.closes(channel))
        }
    }

    /// Hummingbird's handler, which knows nothing of the decision, would close the
    /// connection at once; the decision's answer comes first.
    @Test func shutdownClosesTheConnectionAfterTheDecisionInFlight() async throws {
        try await Self.withChannel { channel, store, _ in
            // The writer is held in a transaction of its own until shutdown has begun, so
            // the decision is still in flight then (a fast writer would answer it first).
            let (started, starting) = AsyncStream.makeStream(of: Void.self)
            let (released, release) = AsyncStream.makeStream(of: Void.self)
            let holding = Task {
                try await store.transact { _ in
                    starting.yield()
                    for await _ in released { break }
                }
            }
            for await _ in started { break }
            try await channel.writeInbound(Self.decisionRequest("d3"))
            try await channel.testingEventLoop.executeInContext {
                channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
            }
            release.finish()
            try await holding.value
            // Answered in full, saying it closes, then closed; the decision is stored.
            let answer = try await Wire().next(channel)
            #expect(answer?.status == 201)
            #expect(answer?.headers["connection"] == "close")
            #expect(try await Self.closes(channel))
            #expect(try await store.database.integer("SELECT COUNT(*) FROM decisions") == 1)
        }
    }

    /// HTTP/1.0 keeps a connection only when the request says `keep-alive` (RFC 9112
    /// section 9.3); a decision answered on one that does not ends it, and on one that
    /// stays, the next request is served.
    @Test(arguments: [
        (version: "1.0", connection: nil, closes: true), ("1.0", "keep-alive", false), ("1.1", nil, false), ("1.1", "close", true),
    ])
    func aDecisionEndsTheConnectionWhenTheRequestAsks(version: String, connection: String?, closes: Bool) async throws {
        try await Self.withChannel { channel, _, _ in
            let fields = connection.map { ["Connection: \($0)"] } ?? []
            try await channel.writeInbound(Self.decisionRequest("v\(version)", version: version, fields: fields))
            let wire = Wire()
            let answer = try await wire.next(channel)
            #expect(answer?.status == 201)
            #expect(answer?.headers["connection"] == (closes ? "close" : nil))
            if closes {
                #expect(try await Self.closes(channel))
            } else {
                try await channel.writeInbound(Self.decisionRequest("next", version: version, fields: fields))
                #expect(try await wire.next(channel)?.status == 201)
            }
        }
    }

    /// The same for the router's requests: the head it is given says exactly `close`, the
    /// one spelling after which Hummingbird ends the connection, and its answer says so.
    @Test(arguments: [
        (version: "1.0", connection: nil, closes: true), ("1.0", "keep-alive", false), ("1.1", nil, false),
        ("1.1", "close", true), ("1.1", "Close", true), ("1.1", "close, te", true),
    ])
    func aRouterRequestEndsTheConnectionWhenItAsks(version: String, connection: String?, closes: Bool) async throws {
        try await Self.withChannel { channel, _, _ in
            let field = connection.map { "Connection: \($0)\r\n" } ?? ""
            try await channel.writeInbound(ByteBuffer(string: "GET /health HTTP/\(version)\r\nHost: localhost\r\n\(field)\r\n"))
            guard case .head(let passed)? = try await channel.readInbound(as: HTTPRequestPart.self) else {
                Issue.record("the router's request was not passed on")
                return
            }
            #expect(passed.headerFields[.connection] == (closes ? "close" : connection))
            try await channel.writeOutbound(HTTPResponsePart.head(HTTPResponse(status: .ok, headerFields: [.contentLength: "2"])))
            try await channel.writeOutbound(HTTPResponsePart.body(ByteBuffer(string: "ok")))
            try await channel.writeOutbound(HTTPResponsePart.end(nil))
            let answer = try await Wire().next(channel)
            #expect(answer?.status == 200)
            #expect(answer?.headers["connection"] == (closes ? "close" : nil))
        }
    }

    /// Two `Idempotency-Key` fields are one value joined by ", ", as the router sees them,
    /// which is not a valid key: 400, and nothing is stored.
    @Test func repeatedIdempotencyKeyFieldsAreRefusedAsTheRouterRefusesThem() async throws {
        try await Self.withChannel { channel, store, _ in
            try await channel.writeInbound(Self.decisionRequest("k1", fields: ["Idempotency-Key: a", "idempotency-key: b"]))
            let refused = try await Wire().next(channel)
            #expect(refused?.status == 400)
            #expect(refused?.body.contains("invalid_idempotency_key") == true)
            #expect(try await store.database.integer("SELECT COUNT(*) FROM decisions") == 0)

            // One field, any spelling of its name: the key is taken.
            try await channel.writeInbound(Self.decisionRequest("k1", fields: ["IDEMPOTENCY-KEY: k-1"]))
            #expect(try await Wire().next(channel)?.status == 201)
            // Stored inside the calling client's scope.
            #expect(try await store.database.integer("SELECT COUNT(*) FROM idempotency_keys WHERE key LIKE 'cli_%:k-1'") == 1)
        }
    }

    /// The fast path checks the key as the router's routes do: without a decider's key
    /// nothing is decided, and the connection goes on.
    @Test func aDecisionWithoutADecidersKeyIsRefusedAndNothingIsWritten() async throws {
        try await Self.withChannel { channel, store, _ in
            let keys = try #require(ServerTests.keys)
            let anonymous = ServerTests.$keys.withValue(nil) { Self.decisionRequest("a1") }
            let wrongKind = ServerTests.$keys.withValue(nil) {
                Self.decisionRequest("a2", fields: ["Authorization: Bearer \(keys.merchant)"])
            }
            let wire = Wire()
            try await channel.writeInbound(anonymous)
            let refused = try await wire.next(channel)
            #expect(refused?.status == 401 && refused?.headers["www-authenticate"] == #"Bearer realm="sca""#)
            try await channel.writeInbound(wrongKind)
            let outOfScope = try await wire.next(channel)
            #expect(outOfScope?.status == 403 && outOfScope?.body.contains("insufficient_scope") == true)
            #expect(try await store.database.integer("SELECT COUNT(*) FROM decisions") == 0)
            try await channel.writeInbound(Self.decisionRequest("a3"))
            #expect(try await wire.next(channel)?.status == 201)
        }
    }

    @Test func theDateHeaderIsAnIMFFixdate() {
        var epoch: time_t = 0
        #expect(HTTPDate.format(&epoch) == "Thu, 01 Jan 1970 00:00:00 GMT")
        var example: time_t = 784_111_777  // RFC 9110's example date
        #expect(HTTPDate.format(&example) == "Sun, 06 Nov 1994 08:49:37 GMT")
    }
}
