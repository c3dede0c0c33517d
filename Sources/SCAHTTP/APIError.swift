import Foundation
import HTTPTypes
import Hummingbird
import NIOConcurrencyHelpers
import SCAContract
import SCAPrimitives
import SCAStore

/// An error answer: `{"error": {"code": ..., "message": ...}}` with a stable code.
public struct APIError: Error, Sendable {
    public let status: HTTPResponse.Status
    public let code: String
    public let message: String
    /// Headers the answer carries besides its JSON type (`Retry-After` on `busy`).
    public var headers: HTTPFields = [:]

    public init(status: HTTPResponse.Status, code: String, message: String, headers: HTTPFields = [:]) {
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers
    }

    /// Seconds a client is asked to wait before it retries a `busy` call.
    public static let busyRetryAfterSeconds = 1

    public static func bodyTooLarge(_ limit: Int) -> APIError {
        APIError(status: .contentTooLarge, code: "body_too_large", message: "the request body is larger than \(limit) bytes")
    }
    public static func notFound(_ what: String) -> APIError { APIError(status: .notFound, code: "not_found", message: "\(what) not found") }
    public static func invalidParameter(_ message: String) -> APIError {
        APIError(status: .badRequest, code: "invalid_parameter", message: message)
    }
    public static func unavailable(_ message: String) -> APIError {
        APIError(status: .serviceUnavailable, code: "storage_unavailable", message: message)
    }
    /// The writer's queue is full (`DecisionStore.Options.queueMax`): nothing was written.
    public static let busy = APIError(
        status: .serviceUnavailable, code: "busy", message: "the server is busy: nothing was written; retry after a moment",
        headers: [.retryAfter: String(busyRetryAfterSeconds)]
    )

    /// The answer to a store failure: `busy` for a full queue, `storage_unavailable` for
    /// anything else (whose detail stays in the log).
    public static func storage(_ error: any Error, otherwise message: String) -> APIError {
        if case StorageError.busy? = error as? StorageError { return .busy }
        return .unavailable(message)
    }

    public var reply: JSONReply {
        var out: [UInt8] = []
        out.append(contentsOf: #"{"error":{"code":"#.utf8)
        JSONWriter.appendString(code, into: &out)
        out.append(contentsOf: #","message":"#.utf8)
        JSONWriter.appendString(message, into: &out)
        out.append(contentsOf: "}}".utf8)
        return JSONReply(status: status, headers: headers, body: out)
    }

    public var response: Response { reply.response }
}

/// A JSON answer before a transport puts it on the wire: a Hummingbird `Response`, or
/// the bytes a channel handler writes (`DecisionChannelHandler`).
public struct JSONReply: Sendable {
    public var status: HTTPResponse.Status
    /// Headers besides `Content-Type: application/json`.
    public var headers: HTTPFields = [:]
    public var body: [UInt8]

    public init(status: HTTPResponse.Status, headers: HTTPFields = [:], body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// `headers` with `Content-Type: application/json`.
    public var headerFields: HTTPFields {
        var fields = headers
        fields[.contentType] = "application/json"
        return fields
    }

    public var response: Response { Response(status: status, headers: headerFields, body: .init(byteBuffer: ByteBuffer(bytes: body))) }
}

extension Response {
    public static func json(_ bytes: [UInt8], status: HTTPResponse.Status = .ok, headers extra: HTTPFields = [:]) -> Response {
        JSONReply(status: status, headers: extra, body: bytes).response
    }

    /// A service's answer, written by the one JSON writer.
    public static func json(_ answer: some JSONAnswer, status: HTTPResponse.Status = .ok, headers extra: HTTPFields = [:]) -> Response {
        json(answer.jsonBytes, status: status, headers: extra)
    }

    /// A stored or composite value, written by `JSONValueEncoder` (through the one writer).
    public static func json(encoding value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        json(try JSONValueEncoder.bytes(value), status: status)
    }

    public static func json(_ text: String, status: HTTPResponse.Status = .ok, headers extra: HTTPFields = [:]) -> Response {
        json(Array(text.utf8), status: status, headers: extra)
    }
}

extension HTTPField.Name {
    public static let idempotencyKey = HTTPField.Name("Idempotency-Key")!
    public static let idempotentReplayed = HTTPField.Name("Idempotent-Replayed")!
    public static let decisionID = HTTPField.Name("Decision-Id")!
}

/// The routes a router serves, by path template, for answering a wrong method with `405`
/// and `Allow`. Filled once every route is added (`set`), read on every request after.
public final class RouteIndex: Sendable {
    private let routes = NIOLockedValueBox<[(method: String, segments: [Substring])]>([])

    public init() {}

    public func set(_ routes: [(method: String, path: String)]) {
        self.routes.withLockedValue { $0 = routes.map { ($0.method, $0.path.split(separator: "/")) } }
    }

    /// The methods served at `path` (a template's `{name}` matches any one segment).
    public func methods(for path: String) -> [String] {
        let segments = path.split(separator: "/")
        let methods = routes.withLockedValue { routes in
            routes.filter { route in
                route.segments.count == segments.count
                    && zip(route.segments, segments).allSatisfy { $0.hasPrefix("{") || $0 == $1 }
            }.map(\.method)
        }
        return Array(Set(methods)).sorted()
    }
}

/// Gives the router's own refusals (no route for the path, a path that does not parse)
/// the API's one error shape, where Hummingbird answers them with an empty body; a path
/// served with other methods answers `405` with `Allow`.
public struct ErrorShapeMiddleware<Context: RequestContext>: RouterMiddleware {
    let routes: RouteIndex

    public init(routes: RouteIndex = RouteIndex()) { self.routes = routes }

    /// The most of a request's path an error message repeats.
    public static var pathCharactersMax: Int { 64 }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError {
            let path = String(request.uri.path.prefix(Self.pathCharactersMax))
            if error.status == .notFound {
                let allowed = routes.methods(for: request.uri.path)
                guard allowed.isEmpty else {
                    return APIError(
                        status: .methodNotAllowed, code: "method_not_allowed",
                        message: "\(request.method.rawValue) is not served at \(path); it takes \(allowed.joined(separator: ", "))",
                        headers: [.allow: allowed.joined(separator: ", ")]
                    ).response
                }
            }
            let (code, message) =
                error.status == .notFound
                ? ("not_found", "no route for \(request.method.rawValue) \(path)")
                : ("http_\(error.status.code)", error.body ?? error.status.reasonPhrase)
            var answer = APIError(status: error.status, code: code, message: message)
            answer.headers = error.headers
            return answer.response
        }
    }
}
