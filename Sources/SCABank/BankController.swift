import HTTPTypes
import Hummingbird
import SCAAuth
import SCAGate
import SCAHTTP
import SCAPrimitives
import SCARules
import SCAStore

/// The demo bank's routes (docs/AUTH-API.md): logging in, accounts and statements,
/// beneficiaries, transfers. Each protected call goes through the gate.
public struct BankController<Context: RequestContext>: Sendable {
    public let bank: Bank
    public let limits: RequestLimits
    var auth: AuthService { bank.auth }

    public init(bank: Bank, limits: RequestLimits) {
        self.bank = bank
        self.limits = limits
    }

    public func add(to router: Router<Context>) {
        router.get("/v1/accounts") { request, _ in
            await answering { .json(JSONList("accounts", try await bank.accounts(userID: try await caller(request).userID))) }
        }
        router.get("/v1/accounts/{account_id}/statement") { request, context in
            await answering { try await statement(request, context) }
        }
        router.get("/v1/beneficiaries") { request, _ in
            await answering { .json(JSONList("beneficiaries", try await bank.beneficiaries(userID: try await caller(request).userID))) }
        }
        router.post("/v1/beneficiaries") { request, _ in await answering { try await addBeneficiary(request) } }
        router.post("/v1/beneficiaries/{beneficiary_id}/trust") { request, context in
            await answering { try await trust(request, context) }
        }
        router.post("/v1/transfers") { request, _ in await answering { try await transfer(request) } }
        router.get("/v1/transfers") { request, _ in
            await answering { .json(JSONList("transfers", try await bank.transfers(userID: try await caller(request).userID))) }
        }
    }

    func caller(_ request: Request) async throws -> AuthService.Caller {
        try await auth.caller(bearer: BearerCredential.parse(request), authenticatedOnly: true)
    }

    func binding(_ request: Request, body: [UInt8], userID: String) -> [UInt8] {
        AuthController<Context>.binding(request, body: body, userID: userID)
    }

    func respond(_ outcome: GateOutcome, created: Bool) -> Response { outcome.response(created: created) }

    // MARK: The demo bank

    func statement(_ request: Request, _ context: Context) async throws -> Response {
        let caller = try await caller(request)
        let accountID = context.parameters.get("account_id") ?? ""
        guard try await bank.accounts(userID: caller.userID).contains(where: { $0.id == accountID }) else {
            throw GateRefusal(.notFound, "account not found")
        }
        let action = ProtectedAction(
            userID: caller.userID, actionType: "statement",
            decisionRequest: auth.decisionRequest(action: "ais_access", userID: caller.userID, consent: Bank.appConsent),
            binding: binding(request, body: [], userID: caller.userID),
            effect: { _ in bank.statement(userID: caller.userID, account: accountID) }
        )
        return respond(try await auth.perform(action, approval: request.headers[.approval]), created: false)
    }

    func addBeneficiary(_ request: Request) async throws -> Response {
        let caller = try await caller(request)
        let body = try await JSONBody.read(request, limit: limits.bodyBytesMax)
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

    func trust(_ request: Request, _ context: Context) async throws -> Response {
        let caller = try await caller(request)
        let body = try await JSONBody.bytes(request, limit: limits.bodyBytesMax)
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
            effect: { _ in { _ in Bank.Beneficiary.Listed(beneficiary: beneficiary, trusted: true).json } }
        )
        return respond(try await auth.perform(action, approval: request.headers[.approval]), created: false)
    }

    func transfer(_ request: Request) async throws -> Response {
        let caller = try await caller(request)
        let body = try await JSONBody.read(request, limit: limits.bodyBytesMax)
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

}
