import Foundation
import HTTPTypes
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1
import SCAHTTP
import SCAStore

/// Serves `POST /v1/decisions` on the connection's event loop; every other request passes
/// on, untouched, to Hummingbird's router.
///
/// The decision endpoint is the hot path of the service. Through the router a decision
/// crosses threads four times (event loop, the connection's task, the writer, the task
/// again, the event loop); here it crosses twice (event loop, writer, event loop), and the
/// request's body is collected, checked and decoded where it arrives. What it answers is
/// the route's own logic (`SCAServer.decisionStep` and `decisionReply`), so the two differ
/// only in transport. It reads the HTTP/1.1 decoder's parts as they are, ahead of their
/// conversion to HTTP types for the router (`DecisionHTTP1Channel`), and writes its answer
/// as bytes in one buffer, next to the socket (`WireOutlet`), rather than as parts through
/// the two HTTP encoders the router's answers take.
///
/// One request is answered at a time, as HTTP/1.1 requires: parts of a pipelined request
/// that arrive before the current answer has ended (the router's or this handler's) are
/// held, with reading paused, and handled after it. Graceful shutdown closes a connection
/// after the decision it is answering; the router's requests are left to Hummingbird's own
/// connection handler after this one.
final class DecisionChannelHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    /// The router's answers, passed on as they are; this handler's own leave as bytes
    /// through `wire`.
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    static let path = "/v1/decisions"
    /// Room reserved for an answer's status line and headers, ahead of its body (a
    /// decision's are about 200 bytes); the buffer grows if they need more.
    static let headBytesReserved = 256

    /// The request being answered.
    private enum Exchange {
        case none
        /// A request for the router: its parts go on, its answer comes back through `write`.
        /// After one that ends the connection (`closeAfter`), Hummingbird closes it.
        case router(requestEnded: Bool, responseEnded: Bool, closeAfter: Bool)
        /// A decision request whose body is arriving.
        case collecting(Decision, ByteBuffer)
        /// A decision request answered 413 before its body ended; the rest is dropped.
        case refused(requestEnded: Bool)
        /// A decision request in the store; `answer` ends it.
        case deciding

        /// Whether the current request is still arriving (or there is none), so a part
        /// read now belongs to it (or starts the next) rather than to a pipelined one.
        var takesParts: Bool {
            switch self {
            case .none, .collecting, .router(requestEnded: false, _, _), .refused(requestEnded: false): return true
            case .router, .refused, .deciding: return false
            }
        }
    }

    /// What the answer to one decision request needs from its head.
    private struct Decision: Sendable {
        let closeAfter: Bool
        /// The caller's API key (`Authorization`), checked as the router's routes check it.
        let authorization: String?
        let idempotencyKey: Result<String?, APIError>
        let start: ContinuousClock.Instant
    }

    /// An inbound event held until the current answer has ended.
    private enum Held {
        case part(HTTPServerRequestPart)
        case inputClosed
        /// A parse error of a pipelined request: Hummingbird answers it with 400 and closes.
        case error(any Error)
    }

    private let server: SCAServer
    private let serverName: String?
    private var exchange = Exchange.none
    private var held = CircularBuffer<Held>()
    private var readHeld = false
    /// Parts passed on since the last read completed: Hummingbird's channel takes what it
    /// was given only at a read's completion, so a drain outside a read must signal one.
    private var forwarded = false
    private var draining = false
    /// Graceful shutdown began while a decision was being answered: close after it.
    private var quiescing = false
    private var isActive = true
    private var date = HTTPDate()
    /// Where this handler's answers are written, as bytes: the context of a `WireOutlet`
    /// next to the socket, past the HTTP encoders.
    private var wire: ChannelHandlerContext?

    init(server: SCAServer, serverName: String?) {
        self.server = server
        self.serverName = serverName
    }

    // MARK: Inbound

    /// Whether what arrives now must wait: something already waits, or the current request
    /// has ended and its answer has not.
    private var mustHold: Bool { !held.isEmpty || !exchange.takesParts }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard isActive else { return }  // closing after an answer: nothing more is served
        let part = unwrapInboundIn(data)
        if mustHold {
            held.append(.part(part))
        } else {
            receive(part, context: context)
        }
    }

    private func receive(_ part: HTTPServerRequestPart, context: ChannelHandlerContext) {
        switch (exchange, part) {
        case (.none, .head(let head)):
            // A connection ends with the answer when the request asks for that:
            // `Connection: close`, or HTTP/1.0 without `keep-alive` (RFC 9112 section 9.3).
            guard head.method == .POST, Self.isDecisionPath(head.uri) else {
                exchange = .router(requestEnded: false, responseEnded: false, closeAfter: !head.isKeepAlive)
                forward(head.isKeepAlive ? part : .head(Self.closing(head)), context: context)
                return
            }
            let decision = Decision(
                closeAfter: !head.isKeepAlive, authorization: head.headers.first(name: "authorization"),
                idempotencyKey: IdempotencyKey.parse(head.headers), start: .now
            )
            if let length = head.headers.first(name: "content-length").flatMap(Int.init), length > server.limits.bodyBytesMax {
                refuse(decision, context: context)
            } else {
                exchange = .collecting(decision, context.channel.allocator.buffer(capacity: 0))
            }
        case (.router(requestEnded: false, let responseEnded, let closeAfter), _):
            forward(part, context: context)
            if case .end = part {
                exchange = .router(requestEnded: true, responseEnded: responseEnded, closeAfter: closeAfter)
                if responseEnded { finished(context: context) }
            }
        case (.collecting(let decision, var body), .body(let chunk)):
            guard body.readableBytes + chunk.readableBytes <= server.limits.bodyBytesMax else {
                refuse(decision, context: context)
                return
            }
            exchange = .deciding  // drops the enum's reference, so the append does not copy
            if body.readableBytes == 0 {
                body = chunk  // most bodies come in one chunk: kept as read, not copied
            } else {
                body.writeImmutableBuffer(chunk)
            }
            exchange = .collecting(decision, body)
        case (.collecting(let decision, let body), .end):
            exchange = .deciding
            let loop = context.eventLoop
            let bound = NIOLoopBound((self, context), eventLoop: loop)
            let server = self.server
            // Refusals come back at once, on this loop; decisions on the writer's thread.
            let answerHere: @Sendable (JSONReply) -> Void = { reply in
                let (handler, context) = bound.value
                handler.answer(reply, decision, context: context)
            }
            let answer: @Sendable (JSONReply) -> Void = { reply in
                if loop.inEventLoop { answerHere(reply) } else { loop.execute { answerHere(reply) } }
            }
            // A key seen before is not read again (its decision's transaction checks it):
            // the decision goes to the writer from here, with no task between.
            if let caller = server.seenDecisionCaller(decision.authorization) {
                server.decide(caller, idempotencyKey: decision.idempotencyKey, body: .success(body), reply: answer)
            } else {
                Task {
                    let caller = await server.readDecisionCaller(decision.authorization)
                    server.decide(caller, idempotencyKey: decision.idempotencyKey, body: .success(body), reply: answer)
                }
            }
        case (.refused(requestEnded: false), .end):
            exchange = .refused(requestEnded: true)
            finished(context: context)
        case (.refused(requestEnded: false), _):
            break
        default:
            // A body before a head, or a head inside a body: the codec never delivers
            // these, and a connection that did is closed rather than guessed at.
            server.logger.error("unexpected HTTP part", metadata: ["part": "\(part)"])
            context.close(promise: nil)
        }
    }

    /// `head` with the one `Connection` value Hummingbird ends a connection after (exactly
    /// `close`), in place of whatever else said so (HTTP/1.0 without `keep-alive`, `Close`,
    /// `close, te`).
    static func closing(_ head: HTTPRequestHead) -> HTTPRequestHead {
        var head = head
        head.headers.replaceOrAdd(name: "connection", value: "close")
        return head
    }

    private func forward(_ part: HTTPServerRequestPart, context: ChannelHandlerContext) {
        forwarded = true
        context.fireChannelRead(wrapInboundOut(part))
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        forwarded = false
        context.fireChannelReadComplete()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch event {
        case is ChannelShouldQuiesceEvent:
            switch exchange {
            case .collecting, .deciding:
                quiescing = true
            case .none, .router, .refused:
                // Hummingbird's handler closes the connection now (a refused request's answer
                // is already written), or after the router's answer.
                context.fireUserInboundEventTriggered(event)
            }
        case let event as ChannelEvent where event == .inputClosed && mustHold:
            held.append(.inputClosed)
        default:
            context.fireUserInboundEventTriggered(event)
        }
    }

    /// Errors (the HTTP parser's) go on in order with the parts around them.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if mustHold {
            held.append(.error(error))
        } else {
            context.fireErrorCaught(error)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        stopServing()
        context.fireChannelInactive()
    }

    /// The connection is closing: nothing more is read or answered on it.
    private func stopServing() {
        isActive = false
        held.removeAll()
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let outlet = WireOutlet()
        do {
            try context.pipeline.syncOperations.addHandler(outlet, position: .first)
            wire = try context.pipeline.syncOperations.context(handler: outlet)
        } catch {
            stopServing()  // the pipeline is being torn down: nothing will be served
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        isActive = false
        wire = nil  // the context holds the pipeline, which holds this handler
    }

    // MARK: Outbound

    /// The router's answers pass through, saying `Connection: close` when the connection
    /// ends after them; the end of one ends its exchange.
    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let part = unwrapOutboundIn(data)
        if case .head(var head) = part, case .router(_, responseEnded: false, closeAfter: true) = exchange {
            head.headers.replaceOrAdd(name: "connection", value: "close")
            context.write(wrapOutboundOut(.head(head)), promise: promise)
        } else {
            context.write(data, promise: promise)
        }
        guard case .end = part, case .router(let requestEnded, responseEnded: false, let closeAfter) = exchange
        else { return }
        exchange = .router(requestEnded: requestEnded, responseEnded: true, closeAfter: closeAfter)
        if closeAfter { stopServing() }  // Hummingbird closes the connection after this answer
        if requestEnded { finished(context: context) }
    }

    /// Reading waits while pipelined parts are held.
    func read(context: ChannelHandlerContext) {
        if held.isEmpty {
            context.read()
        } else {
            readHeld = true
        }
    }

    // MARK: Answers

    private func refuse(_ decision: Decision, context: ChannelHandlerContext) {
        exchange = .refused(requestEnded: false)
        write(APIError.bodyTooLarge(server.limits.bodyBytesMax).reply, decision, context: context)
    }

    private func answer(_ reply: JSONReply, _ decision: Decision, context: ChannelHandlerContext) {
        write(reply, decision, context: context)
        finished(context: context)
    }

    /// The current exchange has ended: the held parts and events are handled in order,
    /// until one of them starts an exchange that cannot end at once.
    private func finished(context: ChannelHandlerContext) {
        exchange = .none
        guard isActive, !draining else { return }
        draining = true
        defer { draining = false }
        while isActive, exchange.takesParts, let next = held.popFirst() {
            switch next {
            case .part(let part): receive(part, context: context)
            case .inputClosed: context.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
            case .error(let error): context.fireErrorCaught(error)
            }
        }
        if forwarded {
            forwarded = false
            context.fireChannelReadComplete()
        }
        if isActive, held.isEmpty, readHeld {
            readHeld = false
            context.read()
        }
    }

    /// Writes the reply with the headers Hummingbird would give it (`Content-Type`,
    /// `Content-Length`, `Date`, `Server`), counts it in the metrics, and closes the
    /// connection after it (saying `Connection: close`) when the client asked to or the
    /// server is shutting down.
    private func write(_ reply: JSONReply, _ decision: Decision, context: ChannelHandlerContext) {
        server.metrics.requestFinished(
            method: "POST", route: Self.path, status: reply.status.code, since: decision.start, logger: server.logger
        )
        guard isActive, let wire else { return }
        let closeAfter = decision.closeAfter || quiescing
        var fields = reply.headerFields
        fields[.contentLength] = String(reply.body.count)
        fields[.date] = date.now()
        if let serverName { fields[.server] = serverName }
        if closeAfter { fields[.connection] = "close" }
        let bytes = Self.encode(status: reply.status, fields: fields, body: reply.body, allocator: context.channel.allocator)
        if closeAfter {
            stopServing()
            let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
            wire.writeAndFlush(NIOAny(bytes)).whenComplete { _ in bound.value.close(promise: nil) }
        } else {
            wire.writeAndFlush(NIOAny(bytes), promise: nil)
        }
    }

    /// An HTTP/1.1 response with a body of known length, as bytes (RFC 9112 section 4 and
    /// 5): one buffer, so the answer leaves in one write. The fields are `HTTPFields`, whose
    /// names and values are valid by construction.
    static func encode(status: HTTPResponse.Status, fields: HTTPFields, body: [UInt8], allocator: ByteBufferAllocator) -> ByteBuffer {
        var bytes = allocator.buffer(capacity: headBytesReserved + body.count)
        bytes.writeStaticString("HTTP/1.1 ")
        bytes.writeString(String(status.code))
        bytes.writeStaticString(" ")
        bytes.writeString(status.reasonPhrase)
        bytes.writeStaticString("\r\n")
        for field in fields {
            bytes.writeString(field.name.rawName)
            bytes.writeStaticString(": ")
            bytes.writeString(field.value)
            bytes.writeStaticString("\r\n")
        }
        bytes.writeStaticString("\r\n")
        bytes.writeBytes(body)
        return bytes
    }

    /// `/v1/decisions`, with or without a query; any other spelling goes to the router,
    /// which answers it with the same logic.
    static func isDecisionPath(_ path: String) -> Bool {
        return path == Self.path || (path.hasPrefix(Self.path) && path.utf8.dropFirst(Self.path.utf8.count).first == UInt8(ascii: "?"))
    }
}

/// The `Date` header's value (RFC 9110's IMF-fixdate), formatted at most once a second.
struct HTTPDate {
    private var second = -1
    private var text = ""

    mutating func now() -> String {
        var clock = time(nil)
        if Int(clock) != second {
            second = Int(clock)
            text = Self.format(&clock)
        }
        return text
    }

    private static let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    static func format(_ clock: inout time_t) -> String {
        var parts = tm()
        gmtime_r(&clock, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(days[Int(parts.tm_wday)]), \(two(parts.tm_mday)) \(months[Int(parts.tm_mon)]) \(1900 + parts.tm_year) "
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) GMT"
    }
}

/// A place at the front of the pipeline, next to the socket: what is written through its
/// context goes out as it is. `DecisionChannelHandler` writes its answers there as bytes,
/// past the two HTTP encoders that the router's answers go through. Everything else passes
/// it untouched.
final class WireOutlet: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = IOData
}

/// Hummingbird's HTTP/1.1 child channel (`HTTP1Channel`, with its default limits) with
/// `DecisionChannelHandler` between the HTTP/1.1 decoder and the conversion of requests to
/// HTTP types for the router, so that a decision's head is read as the decoder made it.
struct DecisionHTTP1Channel: ServerChildChannel, HTTPChannelHandler {
    typealias Value = NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>

    let responder: HTTPChannelHandler.Responder
    let makeHandler: @Sendable () -> DecisionChannelHandler

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            try Self.configure(channel.pipeline.syncOperations, handler: makeHandler(), logger: logger)
            return try NIOAsyncChannel(wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: true))
        }
    }

    func handle(value: Value, logger: Logger) async {
        await handleHTTP(asyncChannel: value, logger: logger)
    }

    /// The connection's handlers, in order: the HTTP/1.1 encoder and decoder, `handler`, the
    /// conversion to HTTP types, Hummingbird's connection state; limits and idle timeout are
    /// those of Hummingbird's default `HTTP1Channel.Configuration`.
    static func configure(
        _ pipeline: ChannelPipeline.SynchronousOperations, handler: DecisionChannelHandler, logger: Logger
    ) throws {
        let defaults = HTTP1Channel.Configuration()
        var limits = NIOHTTPDecoderLimitConfiguration()
        limits.maxHeaderFieldSize = defaults.httpDecoder.maxHeaderFieldSize
        limits.maxHeaderListSize = defaults.httpDecoder.maxHeaderListSize
        limits.maxHeaderFieldCount = defaults.httpDecoder.maxHeaderFieldCount
        try pipeline.configureHTTPServerPipeline(
            withPipeliningAssistance: false, withErrorHandling: false, withOutboundHeaderValidation: false,
            withEncoderConfiguration: .init(), withDecoderLimitConfiguration: limits
        )
        try pipeline.addHandler(handler)
        try pipeline.addHandler(HTTP1ToHTTPServerCodec(secure: false))
        try pipeline.addHandler(HTTPConnectionStateHandler(idleTimeout: defaults.idleTimeout.map { Duration($0) }, logger: logger))
    }
}
