import HTTPTypes
import Hummingbird
import NIOHTTP1
import SCAContract
import SCAPrimitives
import SCAStore

/// A refusal a service gives (a used token, an unknown payment): each family maps its
/// own to the API's error shape.
public protocol APIRefusal: Error {
    var apiError: APIError { get }
}

/// Runs a handler and turns what it throws into the API's error answers: a refusal
/// into its own, a store failure into `busy` or `storage_unavailable` (the detail stays in
/// the log), so that nothing but the one error shape leaves a controller.
public func answering(_ handler: () async throws -> Response) async -> Response {
    do {
        return try await handler()
    } catch let refusal as any APIRefusal {
        return refusal.apiError.response
    } catch let error as APIError {
        return error.response
    } catch {
        return APIError.storage(error, otherwise: "the request could not be completed; nothing was changed").response
    }
}

/// Limits every controller applies to what it reads.
public struct RequestLimits: Sendable {
    /// Request bodies larger than this are refused with 413.
    public var bodyBytesMax: Int
    /// `Idempotency-Key` values longer than this are refused.
    public static let idempotencyKeyBytesMax = 255

    public init(bodyBytesMax: Int) { self.bodyBytesMax = bodyBytesMax }
}

/// A JSON request body: its bytes (for bindings and digests) and its members.
public struct JSONBody: Sendable {
    public let bytes: [UInt8]
    public let object: JSONObject

    static func invalid(_ message: String) -> APIError { APIError(status: .unprocessableContent, code: "invalid_value", message: message) }

    public static func bytes(_ request: Request, limit: Int) async throws -> [UInt8] {
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit { throw APIError.bodyTooLarge(limit) }
        do {
            return Array(try await request.body.collect(upTo: limit).readableBytesView)
        } catch {
            throw APIError.bodyTooLarge(limit)
        }
    }

    public static func read(_ request: Request, limit: Int) async throws -> JSONBody {
        let bytes = try await bytes(request, limit: limit)
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes)
        } catch {
            throw APIError(status: .badRequest, code: "invalid_json", message: "body is not valid JSON: \(error.message)")
        }
        guard case .object(let object) = value else { throw invalid("the body must be a JSON object") }
        return JSONBody(bytes: bytes, object: object)
    }

    /// The body, or nil when it is empty (or only white space).
    public static func optional(_ request: Request, limit: Int) async throws -> JSONBody? {
        let bytes = try await bytes(request, limit: limit)
        if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) { return nil }
        guard case .object(let object)? = try? JSONParser.parse(bytes) else {
            throw APIError(status: .badRequest, code: "invalid_json", message: "body is not a JSON object")
        }
        return JSONBody(bytes: bytes, object: object)
    }

    public func optionalText(_ name: String) throws -> String? {
        switch object[name] {
        case nil, .null?: return nil
        case .string(let value)?: return value
        default: throw Self.invalid("\(name): must be a string")
        }
    }

    public func text(_ name: String) throws -> String {
        guard let value = try optionalText(name) else { throw Self.invalid("\(name): required") }
        return value
    }

    public func bytes(_ name: String) throws -> [UInt8] {
        guard let value = Base64URL.decode(try text(name)) else { throw Self.invalid("\(name): base64url") }
        return value
    }
}

/// The credential of `Authorization: Bearer <credential>` (RFC 6750 §2.1): a session, a
/// one-time token's holder or an API key; each caller then checks its own shape.
public enum BearerCredential {
    /// Longer header values are refused unread: every credential the engine issues is
    /// far shorter (a session 43 characters, an API key 51).
    public static let headerCharactersMax = 256

    public static func parse(_ request: Request) -> String? { parse(request.headers[.authorization]) }

    /// The scheme is case-insensitive (RFC 9110 §11.1); one credential, no spaces in it.
    public static func parse(_ authorization: String?) -> String? {
        guard let authorization, authorization.utf8.count <= headerCharactersMax else { return nil }
        let parts = authorization.split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        return String(parts[1])
    }
}

/// `Idempotency-Key`: printable ASCII, 1 to 255 bytes, or absent.
public enum IdempotencyKey {
    public static func parse(_ request: Request) -> Result<String?, APIError> { parse(request.headers[.idempotencyKey]) }

    /// The same from the HTTP/1.1 decoder's fields: several are one value joined by ", ",
    /// as `HTTPFields` joins them.
    public static func parse(_ headers: HTTPHeaders) -> Result<String?, APIError> {
        let values = headers["idempotency-key"]
        return parse(values.isEmpty ? nil : values.joined(separator: ", "))
    }

    public static func parse(_ key: String?) -> Result<String?, APIError> {
        guard let key else { return .success(nil) }
        guard !key.isEmpty, key.utf8.count <= RequestLimits.idempotencyKeyBytesMax, key.utf8.allSatisfy({ $0 >= 0x21 && $0 <= 0x7E })
        else {
            return .failure(
                APIError(
                    status: .badRequest, code: "invalid_idempotency_key",
                    message: "Idempotency-Key: 1 to \(RequestLimits.idempotencyKeyBytesMax) printable ASCII characters"
                ))
        }
        return .success(key)
    }
}
