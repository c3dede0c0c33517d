import Foundation
import HTTPTypes
import Hummingbird
import SCAAuth
import SCAContract
import SCAGate
import SCAPrimitives
import SCARules
import SCAStore

extension HTTPField.Name {
    static let approval = HTTPField.Name("x-2fa-approval")!
    static let approvalResult = HTTPField.Name("x-2fa-approval-result")!
    static let oneTimeToken = HTTPField.Name("One-Time-Token")!
    static let deviceSignature = HTTPField.Name("Device-Signature")!
}

/// The routes of users and factors, the one-time-token protocol and the demo bank
/// (docs/AUTH-API.md). They parse, call `AuthService` / `Bank`, and map the outcome.
struct GateRoutes: Sendable {
    let bank: Bank
    let limits: ServerLimits
    var auth: AuthService { bank.auth }

    func add(to router: Router<BasicRequestContext>) {
        router.post("/v1/users") { request, _ in await answer { try await register(request) } }
        router.get("/v1/users/{user_id}/factors") { request, context in
            await answer {
                let userID = try await ownUser(request, context, enrolment: true)
                return .json(try await auth.factorsJSON(userID: userID))
            }
        }
        router.post("/v1/users/{user_id}/factors") { request, context in await answer { try await enrol(request, context) } }
        router.delete("/v1/users/{user_id}/factors/{factor_id}") { request, context in
            await answer { try await revoke(request, context) }
        }
        router.post("/v1/users/{user_id}/webauthn/registration-options") { request, context in
            await answer {
                let userID = try await ownUser(request, context, enrolment: true)
                return .json(try await auth.registrationOptionsJSON(userID: userID))
            }
        }

        router.get("/v1/one-time-token/status") { request, _ in
            await answer {
                guard let status = try await auth.statusJSON(token: request.headers[.oneTimeToken]) else {
                    throw GateRefusal(.notFound, "one-time token not found")
                }
                return .json(status)
            }
        }
        router.post("/v1/one-time-token/pin/verify") { request, _ in
            await answer { try await verify(request) { .pin(try $0.text("pin")) } }
        }
        router.post("/v1/one-time-token/totp/verify") { request, _ in
            await answer { try await verify(request) { .totp(try $0.text("code")) } }
        }
        router.post("/v1/one-time-token/sms/verify") { request, _ in
            await answer { try await verify(request) { .sms(try $0.text("code")) } }
        }
        router.post("/v1/one-time-token/device-key/verify") { request, _ in
            await answer {
                try await verify(request) { .deviceKey(factorID: try $0.text("factor_id"), signature: try $0.bytes("signature")) }
            }
        }
        router.post("/v1/one-time-token/webauthn/verify") { request, _ in
            await answer {
                try await verify(request) {
                    .webauthn(
                        credentialID: try $0.text("credential_id"), clientDataJSON: try $0.bytes("client_data_json"),
                        authenticatorData: try $0.bytes("authenticator_data"), signature: try $0.bytes("signature")
                    )
                }
            }
        }
        router.post("/v1/one-time-token/device-key/challenge") { request, _ in
            await answer { .json(try await auth.deviceKeyChallengeJSON(token: request.headers[.oneTimeToken])) }
        }
        router.post("/v1/one-time-token/webauthn/options") { request, _ in
            await answer { .json(try await auth.webAuthnOptionsJSON(token: request.headers[.oneTimeToken])) }
        }
        router.post("/v1/one-time-token/sms/trigger") { request, _ in
            await answer {
                let body = try await Body.optional(request, limit: limits.bodyBytesMax)
                let channel = try body?.optionalText("channel")
                return .json(try await auth.triggerSMS(token: request.headers[.oneTimeToken], channel: channel), status: .accepted)
            }
        }
        router.post("/v1/one-time-token/push/trigger") { request, _ in
            await answer { .json(try await auth.triggerPush(token: request.headers[.oneTimeToken]), status: .accepted) }
        }
        router.get("/v1/devices/{factor_id}/approvals") { request, context in
            await answer {
                let signature = request.headers[.deviceSignature].flatMap(Base64URL.decode)
                return .json(try await auth.deviceFeed(factorID: context.parameters.get("factor_id") ?? "", signature: signature))
            }
        }
        router.post("/v1/approvals/{approval_id}") { request, context in
            await answer {
                let body = try await Body.read(request, limit: limits.bodyBytesMax)
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

        router.post("/v1/sessions") { request, _ in await answer { try await login(request) } }
        router.delete("/v1/sessions/current") { request, _ in
            await answer {
                _ = try await caller(request)
                try await auth.endSession(bearer: bearer(request) ?? "")
                return .json(#"{"status":"ended"}"#)
            }
        }
        router.get("/v1/accounts") { request, _ in
            await answer { .json(try await bank.accountsJSON(userID: try await caller(request).userID)) }
        }
        router.get("/v1/accounts/{account_id}/statement") { request, context in
            await answer { try await statement(request, context) }
        }
        router.get("/v1/beneficiaries") { request, _ in
            await answer { .json(try await bank.beneficiariesJSON(userID: try await caller(request).userID)) }
        }
        router.post("/v1/beneficiaries") { request, _ in await answer { try await addBeneficiary(request) } }
        router.post("/v1/beneficiaries/{beneficiary_id}/trust") { request, context in
            await answer { try await trust(request, context) }
        }
        router.post("/v1/transfers") { request, _ in await answer { try await transfer(request) } }
        router.get("/v1/transfers") { request, _ in
            await answer { .json(try await bank.transfersJSON(userID: try await caller(request).userID)) }
        }
        router.get("/v1/dev/messages") { request, _ in
            await answer {
                guard let messages = auth.messages else { throw GateRefusal(.notFound, "the development SMS sender is not enabled") }
                let items = messages.messages(to: request.uri.queryParameters.get("to")).map { message in
                    var out = JSONBuilder()
                    out.string("to", message.to)
                    out.string("channel", message.channel)
                    out.string("text", message.text)
                    out.string("at", message.at)
                    return out.json
                }
                return .json("{\"messages\":[" + items.joined(separator: ",") + "]}")
            }
        }
        WebAssets.add(to: router)
    }

    // MARK: Outcomes

    /// Runs a handler and turns its refusals and failures into error answers.
    func answer(_ handler: () async throws -> Response) async -> Response { await Self.answering(handler) }

    /// Runs a handler and maps its refusals and errors to their responses (every family
    /// built on the gate's refusals shares it).
    static func answering(_ handler: () async throws -> Response) async -> Response {
        do {
            return try await handler()
        } catch let refusal as GateRefusal {
            return Self.response(refusal)
        } catch let error as APIError {
            return error.response
        } catch {
            return APIError.storage(error, otherwise: "the request could not be completed; nothing was changed").response
        }
    }

    static func response(_ refusal: GateRefusal) -> Response {
        let status: HTTPResponse.Status
        var headers = HTTPFields()
        switch refusal.kind {
        case .notFound: status = .notFound
        case .conflict, .usernameTaken, .scaUnavailable: status = .conflict
        case .invalid, .verificationFailed, .insufficientFunds: status = .unprocessableContent
        case .unauthenticated: status = .unauthorized
        case .approvalInvalid:
            status = .forbidden
            headers[.approvalResult] = "REJECTED"
        case .forbidden: status = .forbidden
        case .rateLimited: status = .tooManyRequests
        case .busy: status = .serviceUnavailable
        }
        var response = APIError(status: status, code: refusal.kind.rawValue, message: refusal.message).response
        for field in headers { response.headers.append(field) }
        return response
    }

    /// The gate's outcome as HTTP: the action's answer, or 403 with a one-time token.
    func respond(_ outcome: GateOutcome, created: Bool) -> Response {
        switch outcome {
        case .done(let body, let approved, let decision):
            var headers = HTTPFields()
            headers[.decisionID] = decision.id
            if approved { headers[.approvalResult] = "APPROVED" }
            return .json(body, status: created ? .created : .ok, headers: headers)
        case .challenge(let token, let decision, let actionType, let displayText):
            var headers = HTTPFields()
            headers[.approval] = token
            headers[.approvalResult] = "REJECTED"
            var out = JSONBuilder()
            out.raw(
                "error",
                #"{"code":"sca_required","message":"strong customer authentication is required: pass the one-time token's challenges, then repeat this request with the x-2fa-approval header"}"#
            )
            out.string("one_time_token", token)
            out.string("action_type", actionType)
            out.string("decision_id", decision.id)
            out.string("reason", decision.reason)
            out.string("display_text", displayText)
            return .json(out.json, status: .forbidden, headers: headers)
        case .refused(let decision):
            var out = JSONBuilder()
            out.raw("error", #"{"code":"refused","message":"the rules engine refused this action ("# + decision.reason + #")"}"#)
            out.string("decision_id", decision.id)
            out.string("reason", decision.reason)
            return .json(out.json, status: .forbidden)
        }
    }

    // MARK: Callers

    func bearer(_ request: Request) -> String? {
        guard let value = request.headers[.authorization], value.hasPrefix("Bearer ") else { return nil }
        return String(value.dropFirst(7))
    }

    func caller(_ request: Request, enrolment: Bool = false) async throws -> AuthService.Caller {
        try await auth.caller(bearer: bearer(request), authenticatedOnly: !enrolment)
    }

    /// The caller, who must be the user named in the path.
    func ownUser(_ request: Request, _ context: BasicRequestContext, enrolment: Bool) async throws -> String {
        let caller = try await caller(request, enrolment: enrolment)
        guard context.parameters.get("user_id") == caller.userID else { throw GateRefusal(.notFound, "user not found") }
        return caller.userID
    }

    /// The binding of this exact request by this user.
    func binding(_ request: Request, body: [UInt8], userID: String) -> [UInt8] {
        var target = request.uri.path
        if let query = request.uri.query { target += "?" + query }
        return AuthService.binding(method: request.method.rawValue, path: target, body: body, userID: userID)
    }

    // MARK: Users and factors

    func register(_ request: Request) async throws -> Response {
        let body = try await Body.read(request, limit: limits.bodyBytesMax)
        let registration = try await auth.register(
            username: try body.text("username"), name: try body.text("name"), pin: try body.text("pin")
        )
        var out = JSONBuilder()
        out.string("user_id", registration.userID)
        out.string("username", registration.username)
        out.string("session", registration.session)
        return .json(out.json, status: .created)
    }

    func enrol(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let userID = try await ownUser(request, context, enrolment: true)
        let body = try await Body.read(request, limit: limits.bodyBytesMax)
        let draft = try await auth.prepareFactor(userID: userID, try FactorRequest(json: body.object))
        return try await sensitive(request, body: body.bytes, userID: userID, actionType: "add_factor") { _ in
            { scope in try await auth.insertFactor(draft, userID: userID, scope: scope) }
        }
    }

    func revoke(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let userID = try await ownUser(request, context, enrolment: true)
        let factorID = context.parameters.get("factor_id") ?? ""
        let body = try await Body.bytes(request, limit: limits.bodyBytesMax)
        let effect = auth.revokeFactor(factorID, userID: userID)
        return try await sensitive(request, body: body, userID: userID, actionType: "revoke_factor", created: false) { _ in effect }
    }

    /// Adding, re-binding or revoking a factor: free while the user has fewer than two
    /// active factors, and a `sensitive_action` behind the gate from then on.
    func sensitive(
        _ request: Request, body: [UInt8], userID: String, actionType: String, created: Bool = true,
        effect: @escaping @Sendable (Allowance?) -> TransactionWork<String>
    ) async throws -> Response {
        let approval = request.headers[.approval]
        if approval == nil, try await auth.activeFactorCount(userID: userID) < 2 {
            let value = try await auth.store.transact { scope in
                // Checked again under the transaction, so two concurrent enrolments cannot
                // both pass as "the second factor".
                guard try await auth.activeFactorCount(userID: userID, scope: scope) < 2 else {
                    throw GateRefusal(.conflict, "the user now has two factors: repeat the call to be asked for SCA")
                }
                return try await effect(nil)(scope)
            }
            return .json(value, status: created ? .created : .ok)
        }
        let action = ProtectedAction(
            userID: userID, actionType: actionType,
            decisionRequest: auth.decisionRequest(action: "sensitive_action", userID: userID),
            binding: binding(request, body: body, userID: userID), effect: { effect($0) }
        )
        return respond(try await auth.perform(action, approval: approval), created: created)
    }

    // MARK: The demo bank

    func login(_ request: Request) async throws -> Response {
        let body = try await Body.read(request, limit: limits.bodyBytesMax)
        let username = try body.text("username")
        guard let userID = try await auth.userID(username: username) else {
            throw GateRefusal(.unauthenticated, "the login was not accepted")
        }
        let session = Secrets.bearerToken()
        let idle = auth.settings.sessionIdle.milliseconds / 1000
        let action = ProtectedAction(
            userID: userID, actionType: "login", decisionRequest: auth.decisionRequest(action: "login", userID: userID),
            binding: binding(request, body: body.bytes, userID: userID), alwaysChallenge: true,
            effect: { _ in bank.openSession(userID: userID, token: session, idleSeconds: idle) }
        )
        return respond(try await auth.perform(action, approval: request.headers[.approval]), created: true)
    }

    func statement(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let caller = try await caller(request)
        let accountID = context.parameters.get("account_id") ?? ""
        guard try await bank.accounts(userID: caller.userID).contains(where: { $0.id == accountID }) else {
            throw GateRefusal(.notFound, "account not found")
        }
        let action = ProtectedAction(
            userID: caller.userID, actionType: "statement",
            decisionRequest: auth.decisionRequest(action: "ais_access", userID: caller.userID, consent: "bank-app"),
            binding: binding(request, body: [], userID: caller.userID),
            effect: { _ in bank.statement(userID: caller.userID, account: accountID) }
        )
        return respond(try await auth.perform(action, approval: request.headers[.approval]), created: false)
    }

    func addBeneficiary(_ request: Request) async throws -> Response {
        let caller = try await caller(request)
        let body = try await Body.read(request, limit: limits.bodyBytesMax)
        let name = try body.text("name")
        try AuthService.checkPayeeName(name)
        let iban = try body.text("iban").replacingOccurrences(of: " ", with: "").uppercased()
        guard Bank.isValidIBAN(iban) else { throw GateRefusal(.invalid, "iban: not a valid IBAN (country, check digits, account)") }
        let id = Secrets.identifier("ben")
        let action = ProtectedAction(
            userID: caller.userID, actionType: "add_beneficiary",
            decisionRequest: auth.decisionRequest(
                action: "add_beneficiary", userID: caller.userID, payee: (id, String(iban.prefix(2)))
            ),
            binding: binding(request, body: body.bytes, userID: caller.userID),
            effect: { _ in bank.addBeneficiary(userID: caller.userID, id: id, name: name, iban: iban) }
        )
        return respond(try await auth.perform(action, approval: request.headers[.approval]), created: true)
    }

    func trust(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let caller = try await caller(request)
        let body = try await Body.bytes(request, limit: limits.bodyBytesMax)
        guard let beneficiary = try await bank.beneficiary(context.parameters.get("beneficiary_id") ?? "", userID: caller.userID) else {
            throw GateRefusal(.notFound, "beneficiary not found")
        }
        let action = ProtectedAction(
            userID: caller.userID, actionType: "trust_beneficiary",
            decisionRequest: auth.decisionRequest(
                action: "trust_beneficiary", userID: caller.userID, payee: (beneficiary.id, beneficiary.country)
            ),
            binding: binding(request, body: body, userID: caller.userID),
            // The trusted list is the engine's: the passed SCA reported for this decision adds it.
            effect: { _ in { _ in Bank.beneficiaryJSON(id: beneficiary.id, name: beneficiary.name, iban: beneficiary.iban, trusted: true) }
            }
        )
        return respond(try await auth.perform(action, approval: request.headers[.approval]), created: false)
    }

    func transfer(_ request: Request) async throws -> Response {
        let caller = try await caller(request)
        let body = try await Body.read(request, limit: limits.bodyBytesMax)
        let accountID = try body.text("account_id")
        guard let account = try await bank.accounts(userID: caller.userID).first(where: { $0.id == accountID }) else {
            throw GateRefusal(.notFound, "account not found")
        }
        guard let beneficiary = try await bank.beneficiary(try body.text("beneficiary_id"), userID: caller.userID) else {
            throw GateRefusal(.notFound, "beneficiary not found")
        }
        let currencyCode = try body.text("currency")
        guard currencyCode == account.currency.code else {
            throw GateRefusal(.invalid, "currency: the account is in \(account.currency.code)")
        }
        guard let amount = Money(decimal: try body.text("amount"), currency: account.currency), amount.minorUnits > 0 else {
            throw GateRefusal(.invalid, "amount: a positive decimal with at most \(account.currency.minorDigits) decimals")
        }
        let reference = try body.optionalText("reference") ?? ""
        guard reference.count <= Bank.referenceCharactersMax else {
            throw GateRefusal(.invalid, "reference: at most \(Bank.referenceCharactersMax) characters")
        }
        guard account.balance >= amount.minorUnits else { throw GateRefusal(.insufficientFunds, "the account's balance is too low") }
        let link = PaymentLink(amount: amount, payee: .init(id: beneficiary.iban, name: beneficiary.name))
        let action = ProtectedAction(
            userID: caller.userID, actionType: "transfer",
            decisionRequest: auth.decisionRequest(
                action: "payment", userID: caller.userID, instrument: account.id, payee: (beneficiary.id, beneficiary.country),
                amount: amount
            ),
            binding: binding(request, body: body.bytes, userID: caller.userID), link: link,
            effect: { allowance in
                bank.transfer(
                    userID: caller.userID, account: account.id, beneficiary: beneficiary, amount: amount, reference: reference,
                    allowance: allowance
                )
            }
        )
        return respond(try await auth.perform(action, approval: request.headers[.approval]), created: true)
    }

    // MARK: Verification

    func verify(_ request: Request, _ answer: (Body) throws -> AuthService.Answer) async throws -> Response {
        let parsed = try answer(try await Body.read(request, limit: limits.bodyBytesMax))
        return .json(try await auth.verify(token: request.headers[.oneTimeToken], parsed))
    }
}

/// A JSON request body.
struct Body: Sendable {
    let bytes: [UInt8]
    let object: JSONObject

    static func bytes(_ request: Request, limit: Int) async throws -> [UInt8] {
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit { throw APIError.bodyTooLarge(limit) }
        do {
            return Array(try await request.body.collect(upTo: limit).readableBytesView)
        } catch {
            throw APIError.bodyTooLarge(limit)
        }
    }

    static func read(_ request: Request, limit: Int) async throws -> Body {
        let bytes = try await bytes(request, limit: limit)
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes)
        } catch {
            throw APIError(status: .badRequest, code: "invalid_json", message: "body is not valid JSON: \(error.message)")
        }
        guard case .object(let object) = value else { throw GateRefusal(.invalid, "the body must be a JSON object") }
        return Body(bytes: bytes, object: object)
    }

    static func optional(_ request: Request, limit: Int) async throws -> Body? {
        let bytes = try await bytes(request, limit: limit)
        if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) { return nil }
        guard case .object(let object)? = try? JSONParser.parse(bytes) else {
            throw APIError(status: .badRequest, code: "invalid_json", message: "body is not a JSON object")
        }
        return Body(bytes: bytes, object: object)
    }

    func optionalText(_ name: String) throws -> String? {
        switch object[name] {
        case nil, .null?: return nil
        case .string(let value)?: return value
        default: throw GateRefusal(.invalid, "\(name): must be a string")
        }
    }

    func text(_ name: String) throws -> String {
        guard let value = try optionalText(name) else { throw GateRefusal(.invalid, "\(name): required") }
        return value
    }

    func bytes(_ name: String) throws -> [UInt8] {
        guard let value = Base64URL.decode(try text(name)) else { throw GateRefusal(.invalid, "\(name): base64url") }
        return value
    }
}
