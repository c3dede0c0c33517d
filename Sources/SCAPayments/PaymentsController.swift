import Foundation
import HTTPTypes
import Hummingbird
import SCACards
import SCAClients
import SCAGate
import SCAHTTP
import SCAPrimitives
import SCAStore

/// The payments API (docs/PAYMENTS-API.md) and the simulated issuer's challenge page.
/// They parse, call `PaymentService`, and map the outcome; the flow lives in SCACards.
/// Every payments route needs a merchant's key and sees that merchant's tenant only; the
/// challenge page is the cardholder's, reached by the link the payment gave (its
/// `acs_trans_id`, 96 random bits, is the capability).
public struct PaymentsController<Context: RequestContext>: Sendable {
    public let payments: PaymentService
    public let clients: ClientRegistry
    public let limits: RequestLimits
    /// The demo shop's merchant (`sca serve --demo`): the checkout page's own server-side
    /// step, `/demo-shop/…`, pays as it without a key ever reaching the browser.
    public let demoShop: ResourceOwner?

    public init(payments: PaymentService, clients: ClientRegistry, limits: RequestLimits, demoShop: ResourceOwner? = nil) {
        self.payments = payments
        self.clients = clients
        self.limits = limits
        self.demoShop = demoShop
    }

    public func add(to router: Router<Context>) {
        router.post("/v1/payments") { request, _ in await answering { try await create(request, owner: try await merchant(request)) } }
        router.get("/v1/payments/{payment_id}") { request, context in
            await answering { .json(try await payments.payment(Self.paymentID(context), owner: try await merchant(request))) }
        }
        router.get("/v1/payments/{payment_id}/trace") { request, context in
            await answering { try .json(encoding: try await payments.trace(Self.paymentID(context), owner: try await merchant(request))) }
        }
        router.post("/v1/payments/{payment_id}/captures") { request, context in
            await answering { try await capture(request, context, owner: try await merchant(request)) }
        }
        router.get("/v1/notifications") { request, _ in
            await answering { .json(try await payments.notifications(owner: try await merchant(request))) }
        }
        router.get("/v1/sandbox/cards") { request, _ in
            await answering {
                _ = try await merchant(request)
                return .json(payments.sandboxCards())
            }
        }
        if let demoShop { addDemoShop(demoShop, to: router) }
        addChallengePage(to: router)
    }

    /// The demo shop's server-side step: what a real shop's backend does with its secret
    /// key, in process, for the checkout page. Only with `--demo`; only its own payments.
    func addDemoShop(_ shop: ResourceOwner, to router: Router<Context>) {
        router.post("/demo-shop/payments") { request, _ in await answering { try await create(request, owner: shop) } }
        router.get("/demo-shop/payments/{payment_id}") { _, context in
            await answering { .json(try await payments.payment(Self.paymentID(context), owner: shop)) }
        }
        router.get("/demo-shop/payments/{payment_id}/trace") { _, context in
            await answering { try .json(encoding: try await payments.trace(Self.paymentID(context), owner: shop)) }
        }
        router.get("/demo-shop/sandbox-cards") { _, _ in await answering { .json(payments.sandboxCards()) } }
    }

    /// The calling merchant's tenant: every payments route starts here.
    func merchant(_ request: Request) async throws -> ResourceOwner {
        let client = try await clients.require(.payments, request)
        return .client(client.id, tenant: client.tenant)
    }

    func create(_ request: Request, owner: ResourceOwner) async throws -> Response {
        let key: String?
        switch IdempotencyKey.parse(request) {
        case .success(let value): key = value
        case .failure(let error): return error.response
        }
        // Not JSON: 400, as everywhere in the API; the service validates the rest (422).
        let body = try await JSONBody.read(request, limit: limits.bodyBytesMax)
        let answer: PaymentService.Answer
        do {
            answer = try await payments.create(body: body.bytes, idempotencyKey: key, owner: owner)
        } catch is PaymentService.IdempotencyKeyReused {
            return Self.keyReused
        }
        var headers = HTTPFields()
        if answer.replayed { headers[.idempotentReplayed] = "true" }
        return .json(answer.json, status: answer.created ? .created : .ok, headers: headers)
    }

    func capture(_ request: Request, _ context: Context, owner: ResourceOwner) async throws -> Response {
        let key: String?
        switch IdempotencyKey.parse(request) {
        case .success(let value): key = value
        case .failure(let error): return error.response
        }
        let body = try await JSONBody.optional(request, limit: limits.bodyBytesMax)
        do {
            let answer = try await payments.capture(
                Self.paymentID(context), body: body?.object, bodyBytes: body?.bytes ?? [], idempotencyKey: key, owner: owner
            )
            var headers = HTTPFields()
            if answer.replayed { headers[.idempotentReplayed] = "true" }
            return .json(answer.json, status: answer.replayed ? .ok : .accepted, headers: headers)
        } catch is PaymentService.IdempotencyKeyReused {
            return Self.keyReused
        }
    }

    /// The simulated issuer's challenge page and its answers.
    func addChallengePage(to router: Router<Context>) {
        router.get("/v1/3ds/challenges/{acs_trans_id}") { _, context in
            let id = context.parameters.get("acs_trans_id") ?? ""
            guard let view = payments.challengeView(id) else {
                return APIError.notFound("challenge").response
            }
            return ChallengePage.response(view, acsTransID: id)
        }
        router.post("/v1/3ds/challenges/{acs_trans_id}") { request, context in
            await answering {
                let id = context.parameters.get("acs_trans_id") ?? ""
                let body = try await JSONBody.read(request, limit: limits.bodyBytesMax)
                let answer: SimulatedIssuer.ChallengeAnswer
                if case .bool(true)? = body.object["cancel"] {
                    answer = .cancel
                } else {
                    var trust = false
                    if case .bool(let value)? = body.object["trust_merchant"] { trust = value }
                    answer = .respond(password: try body.text("password"), code: try body.text("code"), trustMerchant: trust)
                }
                var out = JSONBuilder()
                switch try await payments.answerChallenge(id, answer) {
                case .retry(let remaining):
                    out.string("status", "retry")
                    out.integer("attempts_remaining", Int64(remaining))
                    out.string("message", "The details were not accepted. Attempts left: \(remaining).")
                case .finished(let paymentID, let transStatus):
                    out.string("status", "finished")
                    out.string("payment_id", paymentID)
                    out.string("trans_status", transStatus)
                }
                return .json(out.json)
            }
        }
    }

    static var keyReused: Response {
        APIError(
            status: .unprocessableContent, code: "idempotency_key_reused", message: "this Idempotency-Key was used for a different request"
        ).response
    }

    static func paymentID(_ context: Context) throws -> String {
        let id = context.parameters.get("payment_id") ?? ""
        guard id.hasPrefix("pay_"), id.utf8.count <= 40 else { throw GateRefusal(.notFound, "payment not found") }
        return id
    }
}

/// The simulated issuer's challenge page: what the cardholder sees in the checkout's frame.
enum ChallengePage {
    static func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }

    static func response(_ view: SimulatedIssuer.ChallengeView, acsTransID: String) -> Response {
        let trust =
            view.offersTrustedListing
            ? """
            <p><label><input type="checkbox" id="trust-merchant"> Trust \(escape(view.merchantName)): skip this step for its next payments</label></p>
            """
            : ""
        let html = """
            <!doctype html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(escape(view.issuerName)): confirm your payment</title>
            <link rel="stylesheet" href="/app/style.css">
            </head>
            <body class="acs" data-acs-trans-id="\(escape(acsTransID))">
            <main>
            <h1>\(escape(view.issuerName))</h1>
            <p id="display-text"><strong>\(escape(view.displayText))</strong></p>
            <p>Card \(escape(view.maskedCard)). We verify it is you with your \(escape(view.method)).</p>
            <form id="challenge-form">
            <p><label for="password">Card password</label><br><input id="password" type="password" autocomplete="off" required></p>
            <p><label for="otp">Code sent by SMS</label><br><input id="otp" inputmode="numeric" autocomplete="one-time-code" required></p>
            <p class="sandbox" id="sandbox-otp">Sandbox only: the code sent is \(escape(view.sandboxCode)); the password is \(escape(SimulatedIssuer.sandboxPassword)).</p>
            \(trust)
            <p><button id="confirm" type="submit">Confirm</button> <button id="cancel" type="button">Cancel</button></p>
            </form>
            <p id="message" role="alert"></p>
            </main>
            <script src="/app/acs-challenge.js"></script>
            </body>
            </html>
            """
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.cacheControl] = "no-store"
        headers[HTTPField.Name("Content-Security-Policy")!] =
            "default-src 'self'; script-src 'self'; style-src 'self'; frame-ancestors 'self'; base-uri 'none'"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
    }
}
