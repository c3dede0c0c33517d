import HTTPTypes
import Hummingbird
import SCAGate
import SCAHTTP
import SCAPrimitives
import SCARules

extension AccessRefusal: APIRefusal {
    /// 401 or 403, and nothing about which part of the key was wrong.
    public var apiError: APIError {
        switch self {
        case .unauthenticated:
            var headers = HTTPFields()
            headers[.wwwAuthenticate] = #"Bearer realm="sca""#
            return APIError(
                status: .unauthorized, code: "unauthenticated", message: "a valid API key is required (Authorization: Bearer sk_…)",
                headers: headers)
        case .insufficientScope:
            return APIError(status: .forbidden, code: "insufficient_scope", message: "this API key may not call this operation")
        }
    }
}

extension ClientRegistry {
    /// The calling client when its key may use `scope`; otherwise throws the refusal
    /// (`answering` turns it into 401 or 403). Every machine-facing route starts with it.
    public func require(_ scope: ClientScope, _ request: Request) async throws -> Client {
        try await require(scope, authorization: request.headers[.authorization])
    }

    /// The same, from the header's value (`DecisionChannelHandler` has no `Request`).
    public func require(_ scope: ClientScope, authorization: String?) async throws -> Client {
        switch try await authorize(authorization, for: scope) {
        case .success(let client): return client
        case .failure(let refusal): throw refusal
        }
    }
}

/// The operator's client administration API (docs/CLIENTS.md): the same operations as the
/// `sca clients` commands, each behind an operator key (scope `clients`).
public struct ClientsController<Context: RequestContext>: Sendable {
    public let clients: ClientRegistry
    public let limits: RequestLimits

    public init(clients: ClientRegistry, limits: RequestLimits) {
        self.clients = clients
        self.limits = limits
    }

    public func add(to router: Router<Context>) {
        router.get("/v1/clients") { request, _ in
            await answering {
                _ = try await clients.require(.clients, request)
                return .json(JSONList("clients", try await clients.list()))
            }
        }
        router.post("/v1/clients") { request, _ in
            await answering {
                _ = try await clients.require(.clients, request)
                let body = try await JSONBody.read(request, limit: limits.bodyBytesMax)
                let kindName = try body.text("kind")
                guard let kind = ClientKind(rawValue: kindName) else {
                    throw GateRefusal(.invalid, "kind: " + ClientKind.choices)
                }
                let environmentName = try body.optionalText("environment") ?? KeyEnvironment.test.rawValue
                guard let environment = KeyEnvironment(rawValue: environmentName) else {
                    throw GateRefusal(.invalid, "environment: test or live")
                }
                let issued = try await clients.create(
                    kind: kind, name: try body.text("name"), tenant: try body.optionalText("tenant"), environment: environment)
                return .json(issued, status: .created)
            }
        }
        router.post("/v1/clients/{client_id}/rotate") { request, context in
            await answering {
                _ = try await clients.require(.clients, request)
                let body = try await JSONBody.optional(request, limit: limits.bodyBytesMax)
                var overlap = ClientRegistry.rotationOverlapDefault
                if let value = body?.object["overlap_seconds"] {
                    guard case .number(let number) = value, let seconds = Int64(exactly: number) else {
                        throw GateRefusal(.invalid, "overlap_seconds: a whole number of seconds")
                    }
                    overlap = .seconds(seconds)
                }
                return .json(try await clients.rotate(context.parameters.get("client_id") ?? "", overlap: overlap), status: .created)
            }
        }
        router.post("/v1/clients/{client_id}/revoke") { request, context in
            await answering {
                _ = try await clients.require(.clients, request)
                return .json(try await clients.revoke(context.parameters.get("client_id") ?? ""))
            }
        }
    }
}
