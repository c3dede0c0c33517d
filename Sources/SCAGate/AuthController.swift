import HTTPTypes
import Hummingbird
import SCAAuth
import SCAContract
import SCAHTTP
import SCAPrimitives
import SCARules
import SCAStore

extension HTTPField.Name {
    public static let approval = HTTPField.Name("x-2fa-approval")!
    public static let approvalResult = HTTPField.Name("x-2fa-approval-result")!
    public static let oneTimeToken = HTTPField.Name("One-Time-Token")!
    public static let deviceSignature = HTTPField.Name("Device-Signature")!
}

/// The routes of users and factors, the one-time-token protocol, decoupled approvals and
/// sessions (docs/AUTH-API.md). They parse, call `AuthService`, and map the outcome.
public struct AuthController<Context: RequestContext>: Sendable {
    public let auth: AuthService
    public let limits: RequestLimits
    /// Run with the user's id after a login passed SCA (the bank records it for its app's
    /// account information).
    public let afterLogin: (@Sendable (String) async throws -> Void)?

    public init(auth: AuthService, limits: RequestLimits, afterLogin: (@Sendable (String) async throws -> Void)? = nil) {
        self.auth = auth
        self.limits = limits
        self.afterLogin = afterLogin
    }

    public func add(to router: Router<Context>) {
        addUsersAndFactors(to: router)
        addOneTimeToken(to: router)
        addDecoupledApprovals(to: router)
        addSessions(to: router)
    }

    /// Registration, factors and passkey registration options.
    func addUsersAndFactors(to router: Router<Context>) {
        router.post("/v1/users") { request, _ in await answering { try await register(request) } }
        router.get("/v1/users/{user_id}/factors") { request, context in
            await answering {
                let userID = try await ownUser(request, context, enrolment: true)
                return .json(try await auth.factors(userID: userID))
            }
        }
        router.post("/v1/users/{user_id}/factors") { request, context in await answering { try await enrol(request, context) } }
        router.delete("/v1/users/{user_id}/factors/{factor_id}") { request, context in
            await answering { try await revoke(request, context) }
        }
        router.post("/v1/users/{user_id}/webauthn/registration-options") { request, context in
            await answering {
                let userID = try await ownUser(request, context, enrolment: true)
                return .json(try await auth.registrationOptions(userID: userID))
            }
        }
    }

    /// The one-time token's status, each factor's verification, and the challenges.
    func addOneTimeToken(to router: Router<Context>) {
        router.get("/v1/one-time-token/status") { request, _ in
            await answering {
                guard let status = try await auth.status(token: request.headers[.oneTimeToken]) else {
                    throw GateRefusal(.notFound, "one-time token not found")
                }
                return .json(status)
            }
        }
        router.post("/v1/one-time-token/pin/verify") { request, _ in
            await answering { try await verify(request) { .pin(try $0.text("pin")) } }
        }
        router.post("/v1/one-time-token/totp/verify") { request, _ in
            await answering { try await verify(request) { .totp(try $0.text("code")) } }
        }
        router.post("/v1/one-time-token/sms/verify") { request, _ in
            await answering { try await verify(request) { .sms(try $0.text("code")) } }
        }
        router.post("/v1/one-time-token/device-key/verify") { request, _ in
            await answering {
                try await verify(request) { .deviceKey(factorID: try $0.text("factor_id"), signature: try $0.bytes("signature")) }
            }
        }
        router.post("/v1/one-time-token/webauthn/verify") { request, _ in
            await answering {
                try await verify(request) {
                    .webauthn(
                        credentialID: try $0.text("credential_id"), clientDataJSON: try $0.bytes("client_data_json"),
                        authenticatorData: try $0.bytes("authenticator_data"), signature: try $0.bytes("signature")
                    )
                }
            }
        }
        router.post("/v1/one-time-token/device-key/challenge") { request, _ in
            await answering { .json(try await auth.deviceKeyChallenge(token: request.headers[.oneTimeToken])) }
        }
        router.post("/v1/one-time-token/webauthn/options") { request, _ in
            await answering { .json(try await auth.passkeyOptions(token: request.headers[.oneTimeToken])) }
        }
        router.post("/v1/one-time-token/sms/trigger") { request, _ in
            await answering {
                let body = try await JSONBody.optional(request, limit: limits.bodyBytesMax)
                let channel = try body?.optionalText("channel")
                return .json(try await auth.triggerSMS(token: request.headers[.oneTimeToken], channel: channel), status: .accepted)
            }
        }
        router.post("/v1/one-time-token/push/trigger") { request, _ in
            await answering { .json(try await auth.triggerPush(token: request.headers[.oneTimeToken]), status: .accepted) }
        }
    }

    /// A device's feed of pending approvals, and its answer to one.
    func addDecoupledApprovals(to router: Router<Context>) {
        router.get("/v1/devices/{factor_id}/approvals") { request, context in
            await answering {
                let signature = request.headers[.deviceSignature].flatMap(Base64URL.decode)
                return .json(try await auth.deviceFeed(factorID: context.parameters.get("factor_id") ?? "", signature: signature))
            }
        }
        router.post("/v1/approvals/{approval_id}") { request, context in
            await answering {
                let body = try await JSONBody.read(request, limit: limits.bodyBytesMax)
                let decision = try body.text("decision")
                guard decision == "approve" || decision == "deny" else { throw GateRefusal(.invalid, "decision: approve or deny") }
                let approvalID = context.parameters.get("approval_id") ?? ""
                let factorID = try body.text("factor_id")
                guard decision == "approve" else {
                    return .json(
                        try await auth.answerPush(approvalID: approvalID, factorID: factorID, approve: false, number: 0, signature: []))
                }
                guard case .number(let number)? = body.object["number"], let picked = Int(exactly: number),
                    AuthService.pushNumbers.contains(picked)
                else { throw GateRefusal(.invalid, "number: the number shown on the other screen") }
                return .json(
                    try await auth.answerPush(
                        approvalID: approvalID, factorID: factorID, approve: true, number: picked, signature: try body.bytes("signature")
                    ))
            }
        }
    }

    /// Login and logout.
    func addSessions(to router: Router<Context>) {
        router.post("/v1/sessions") { request, _ in await answering { try await login(request) } }
        router.delete("/v1/sessions/current") { request, _ in
            await answering {
                _ = try await caller(request)
                try await auth.endSession(bearer: BearerCredential.parse(request) ?? "")
                return .json(#"{"status":"ended"}"#)
            }
        }
    }

    // MARK: Callers

    func caller(_ request: Request, enrolment: Bool = false) async throws -> AuthService.Caller {
        try await auth.caller(bearer: BearerCredential.parse(request), authenticatedOnly: !enrolment)
    }

    /// The caller, who must be the user named in the path.
    func ownUser(_ request: Request, _ context: Context, enrolment: Bool) async throws -> String {
        let caller = try await caller(request, enrolment: enrolment)
        guard context.parameters.get("user_id") == caller.userID else { throw GateRefusal(.notFound, "user not found") }
        return caller.userID
    }

    /// The binding of this exact request by this user.
    public static func binding(_ request: Request, body: [UInt8], userID: String) -> [UInt8] {
        var target = request.uri.path
        if let query = request.uri.query { target += "?" + query }
        return AuthService.binding(method: request.method.rawValue, path: target, body: body, userID: userID)
    }

    // MARK: Users and factors

    func register(_ request: Request) async throws -> Response {
        let body = try await JSONBody.read(request, limit: limits.bodyBytesMax)
        let registration = try await auth.register(
            username: try body.text("username"), name: try body.text("name"), pin: try body.text("pin")
        )
        var out = JSONBuilder()
        out.string("user_id", registration.userID)
        out.string("username", registration.username)
        out.string("session", registration.session)
        return .json(out.json, status: .created)
    }

    func enrol(_ request: Request, _ context: Context) async throws -> Response {
        let userID = try await ownUser(request, context, enrolment: true)
        let body = try await JSONBody.read(request, limit: limits.bodyBytesMax)
        let draft = try await auth.prepareFactor(userID: userID, try FactorRequest(json: body.object))
        return try await sensitive(request, body: body.bytes, userID: userID, actionType: "add_factor") { _ in
            { scope in try await auth.insertFactor(draft, userID: userID, scope: scope) }
        }
    }

    func revoke(_ request: Request, _ context: Context) async throws -> Response {
        let userID = try await ownUser(request, context, enrolment: true)
        let factorID = context.parameters.get("factor_id") ?? ""
        let body = try await JSONBody.bytes(request, limit: limits.bodyBytesMax)
        let effect = auth.revokeFactor(factorID, userID: userID)
        return try await sensitive(request, body: body, userID: userID, actionType: "revoke_factor", created: false) { _ in effect }
    }

    /// Adding or revoking a factor: the service decides whether SCA is needed.
    func sensitive(
        _ request: Request, body: [UInt8], userID: String, actionType: String, created: Bool = true,
        effect: @escaping @Sendable (Allowance?) -> TransactionWork<String>
    ) async throws -> Response {
        let outcome = try await auth.changeFactors(
            userID: userID, actionType: actionType, binding: Self.binding(request, body: body, userID: userID),
            approval: request.headers[.approval], effect: effect
        )
        return outcome.response(created: created)
    }

    // MARK: Sessions

    /// A login: always with SCA (the engine's live session belongs to another client).
    func login(_ request: Request) async throws -> Response {
        let body = try await JSONBody.read(request, limit: limits.bodyBytesMax)
        let username = try body.text("username")
        guard let userID = try await auth.userID(username: username) else {
            throw GateRefusal(.unauthenticated, "the login was not accepted")
        }
        let session = Secrets.bearerToken()
        let idle = auth.settings.sessionIdle.milliseconds / 1000
        let action = ProtectedAction(
            userID: userID, actionType: "login", decisionRequest: auth.decisionRequest(action: "login", userID: userID),
            binding: Self.binding(request, body: body.bytes, userID: userID), alwaysChallenge: true,
            effect: { _ in auth.openingSession(userID: userID, token: session, idleSeconds: idle) }
        )
        let outcome = try await auth.perform(action, approval: request.headers[.approval])
        if case .done(_, true, _) = outcome, let afterLogin { try await afterLogin(userID) }
        return outcome.response(created: true)
    }

    // MARK: Verification

    func verify(_ request: Request, _ answer: (JSONBody) throws -> AuthService.Answer) async throws -> Response {
        let parsed = try answer(try await JSONBody.read(request, limit: limits.bodyBytesMax))
        return .json(try await auth.verify(token: request.headers[.oneTimeToken], parsed))
    }
}
