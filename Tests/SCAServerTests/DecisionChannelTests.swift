import Foundation
import HTTPTypes
import HummingbirdCore
import NIOCore
import NIOEmbedded
import NIOHTTPTypes
import SCARules
@testable import SCAServer
import SCAStore
import Synchronization
import Testing

/// `DecisionChannelHandler` in a channel with Hummingbird's connection-state handler after
/// it (as in `sca serve`), on a real store: what it passes on to the router, what it holds,
/// and what it writes. (Over real connections, the `connection` transport of `ServerTests`
/// and the system tests drive it.)
@Suite struct DecisionChannelTests {
    /// Counts the reads asked of the socket (it sits next to it, before the handler).
    final class ReadCounter: ChannelOutboundHandler, Sendable {
        typealias OutboundIn = HTTPResponsePart
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
        try await Migrations.migrate(database, now: "2026-11-21T00:00:00Z")
        let store = DecisionStore(database: database, engine: RulesEngine(), logger: ServerTests.logger)
        let server = SCAServer(store: store, limits: ServerLimits(bodyBytesMax: 4096), logger: ServerTests.logger)
        let counter = ReadCounter()
        let channel = try await NIOAsyncTestingChannel { channel in
            try channel.pipeline.syncOperations.addHandler(counter)
            try channel.pipeline.syncOperations.addHandler(DecisionChannelHandler(server: server, serverName: "sca"))
            try channel.pipeline.syncOperations.addHandler(HTTPConnectionStateHandler(logger: ServerTests.logger))
        }
        try await channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 8080)).get()
        do {
            try await body(channel, store, counter)
        } catch {
            await database.close()
            throw error
        }
        _ = try? await channel.finish(acceptAlreadyClosed: true)
        await database.close()
    }

    static func decisionRequest(_ id: String) -> [HTTPRequestPart] {
        [
            .head(HTTPRequest(method: .post, scheme: nil, authority: "localhost", path: "/v1/decisions")),
            .body(ByteBuffer(string: payment(id: id, amount: "5.00"))), .end(nil),
        ]
    }

    /// A decision request's head announcing a body over the limit of 4,096 bytes.
    static func oversizedHead(path: String = "/v1/decisions") -> HTTPRequestPart {
        var fields = HTTPFields()
        fields[.contentLength] = "100000"
        return .head(HTTPRequest(method: .post, scheme: nil, authority: "localhost", path: path, headerFields: fields))
    }

    static let health: [HTTPRequestPart] = [.head(HTTPRequest(method: .get, scheme: nil, authority: "localhost", path: "/health")), .end(nil)]

    /// The next part written, waiting up to 5 s for it (nil after that: a failure, not a hang).
    static func written(_ channel: NIOAsyncTestingChannel) async throws -> HTTPResponsePart? {
        for _ in 0..<500 {
            if let part = try await channel.readOutbound(as: HTTPResponsePart.self) { return part }
            try await Task.sleep(for: .milliseconds(10))
        }
        return nil
    }

    /// Whether the channel closes within 5 s.
    static func closes(_ channel: NIOAsyncTestingChannel) async throws -> Bool {
        for _ in 0..<500 where channel.isActive { try await Task.sleep(for: .milliseconds(10)) }
        return !channel.isActive
    }

    static func status(_ part: HTTPResponsePart?) -> HTTPResponse.Status? {
        guard case .head(let head)? = part else { return nil }
        return head.status
    }

    static func isEnd(_ part: HTTPResponsePart?) -> Bool {
        guard case .end? = part else { return false }
        return true
    }

    @Test func aDecisionPipelinedBehindARouterRequestWaitsForTheRoutersAnswer() async throws {
        try await Self.withChannel { channel, store, counter in
            for part in Self.health + Self.decisionRequest("d1") { try await channel.writeInbound(part) }
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
            #expect(try await channel.readOutbound(as: HTTPResponsePart.self) == nil)
            #expect(try await store.database.integer("SELECT COUNT(*) FROM decisions") == 0)

            // The router answers; only then is the decision made and answered, after it.
            try await channel.writeOutbound(HTTPResponsePart.head(HTTPResponse(status: .ok)))
            try await channel.writeOutbound(HTTPResponsePart.end(nil))
            #expect(Self.status(try await channel.readOutbound(as: HTTPResponsePart.self)) == .ok)
            #expect(Self.isEnd(try await channel.readOutbound(as: HTTPResponsePart.self)))
            let head = try await Self.written(channel)
            #expect(Self.status(head) == .created)
            guard case .head(let response)? = head else { return }
            #expect(response.headerFields[.contentType] == "application/json")
            #expect(response.headerFields[.server] == "sca")
            #expect(response.headerFields[.location] == "/v1/decisions/" + (response.headerFields[HTTPField.Name("Decision-Id")!] ?? "?"))
            guard case .body(let body)? = try await Self.written(channel) else {
                Issue.record("no body")
                return
            }
            #expect(String(buffer: body).contains(#""id":"d1""#))
            #expect(response.headerFields[.contentLength] == String(body.readableBytes))
            #expect(Self.isEnd(try await Self.written(channel)))
            #expect(try await store.database.integer("SELECT COUNT(*) FROM decisions") == 1)
            #expect(try await channel.readInbound(as: HTTPRequestPart.self) == nil)
            // Nothing is held any more: the read asked for meanwhile is made.
            #expect(counter.reads.load(ordering: .relaxed) == readsBefore + 1)
        }
    }

    @Test func aBodyTooLargeIsRefusedAtItsHeadAndTheConnectionGoesOn() async throws {
        try await Self.withChannel { channel, store, _ in
            try await channel.writeInbound(Self.oversizedHead(path: "/v1/decisions?trace=1"))
            #expect(Self.status(try await channel.readOutbound(as: HTTPResponsePart.self)) == .contentTooLarge)
            guard case .body(let body)? = try await channel.readOutbound(as: HTTPResponsePart.self) else {
                Issue.record("no body")
                return
            }
            #expect(String(buffer: body).contains(#""code":"body_too_large""#))
            #expect(Self.isEnd(try await channel.readOutbound(as: HTTPResponsePart.self)))
            // The rest of that body is dropped, not passed on; the next request is served.
            try await channel.writeInbound(HTTPRequestPart.body(ByteBuffer(repeating: 0x20, count: 5000)))
            try await channel.writeInbound(HTTPRequestPart.end(nil))
            #expect(try await channel.readInbound(as: HTTPRequestPart.self) == nil)
            for part in Self.decisionRequest("d2") { try await channel.writeInbound(part) }
            #expect(Self.status(try await Self.written(channel)) == .created)
            #expect(try await store.database.integer("SELECT COUNT(*) FROM decisions") == 1)
        }
    }

    @Test func shutdownWhileARefusedBodyArrivesClosesAtOnce() async throws {
        try await Self.withChannel { channel, _, _ in
            try await channel.writeInbound(Self.oversizedHead())
            #expect(Self.status(try await Self.written(channel)) == .contentTooLarge)
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
            for part in Self.decisionRequest("d3") { try await channel.writeInbound(part) }
            try await channel.testingEventLoop.executeInContext {
                channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
            }
            // Answered in full, then closed; the decision is stored.
            #expect(Self.status(try await Self.written(channel)) == .created)
            _ = try await Self.written(channel)
            #expect(Self.isEnd(try await Self.written(channel)))
            #expect(try await Self.closes(channel))
            #expect(try await store.database.integer("SELECT COUNT(*) FROM decisions") == 1)
        }
    }

    @Test func theDateHeaderIsAnIMFFixdate() {
        var epoch: time_t = 0
        #expect(HTTPDate.format(&epoch) == "Thu, 01 Jan 1970 00:00:00 GMT")
        var example: time_t = 784_111_777  // RFC 9110's example date
        #expect(HTTPDate.format(&example) == "Sun, 06 Nov 1994 08:49:37 GMT")
    }
}
