import SCAAuth
import SCAContract
import SCAPrimitives
import SCARules
import SCAStore

/// A sensitive call, as the gate sees it: who makes it, what the rules engine is asked
/// about it, what exactly is being approved, and what it does once allowed.
public struct ProtectedAction: Sendable {
    public let userID: String
    /// The action type shown to the customer and recorded ("transfer", "login", ...).
    public let actionType: String
    /// The rules engine's request for this action (the decision contract).
    public let decisionRequest: String
    /// What the approval is bound to (`AuthService.binding`).
    public let binding: [UInt8]
    /// For a payment: the amount and payee the customer approves (dynamic linking).
    public let link: PaymentLink?
    /// Ask for SCA even when the engine would not (a login from a client without a
    /// session: the engine's live session belongs to another client).
    public let alwaysChallenge: Bool
    /// What the call does once allowed, inside the transaction that also uses the approval.
    public let effect: @Sendable (Allowance) -> TransactionWork<String>

    public init(
        userID: String, actionType: String, decisionRequest: String, binding: [UInt8], link: PaymentLink? = nil,
        alwaysChallenge: Bool = false, effect: @escaping @Sendable (Allowance) -> TransactionWork<String>
    ) {
        self.userID = userID
        self.actionType = actionType
        self.decisionRequest = decisionRequest
        self.binding = binding
        self.link = link
        self.alwaysChallenge = alwaysChallenge
        self.effect = effect
    }
}

/// Why the action may go ahead: the decision behind it and whether SCA was performed.
public struct Allowance: Sendable {
    public let decision: StoredDecision
    /// `passed` when an approved token was used; otherwise the engine's outcome
    /// (`exempt`, `out_of_scope`, `already_authenticated`).
    public let sca: String
}

public enum GateOutcome: Sendable {
    /// The action ran; `body` is its answer. `approved` when a token was used; no
    /// decision when no SCA could be asked for (a user's first two factors).
    case done(body: String, approved: Bool, decision: StoredDecision?)
    /// SCA is needed: the 403 with a one-time token.
    case challenge(token: String, decision: StoredDecision, actionType: String, displayText: String?)
    /// The rules engine refused the action outright.
    case refused(StoredDecision)
}

extension AuthService {
    /// Adding or revoking a factor. While the user has fewer than two active factors no
    /// SCA can be asked for, so the change is made at once (checked again inside its
    /// transaction, so that two concurrent enrolments cannot both pass as "the second
    /// factor"); from two on it is a `sensitive_action` behind the gate.
    public func changeFactors(
        userID: String, actionType: String, binding: [UInt8], approval: String?,
        effect: @escaping @Sendable (Allowance?) -> TransactionWork<String>
    ) async throws -> GateOutcome {
        if approval == nil, try await activeFactorCount(userID: userID) < 2 {
            let value = try await store.transact { scope in
                guard try await self.activeFactorCount(userID: userID, scope: scope) < 2 else {
                    throw GateRefusal(.conflict, "the user now has two factors: repeat the call to be asked for SCA")
                }
                return try await effect(nil)(scope)
            }
            return .done(body: value, approved: false, decision: nil)
        }
        let action = ProtectedAction(
            userID: userID, actionType: actionType, decisionRequest: decisionRequest(action: "sensitive_action", userID: userID),
            binding: binding, effect: { effect($0) }
        )
        return try await perform(action, approval: approval)
    }

    /// Records the SCA a login just passed as the SCA for the account information that
    /// `consent` (the bank's own app) shows: SCA-RULES §4 `account_information` needs SCA
    /// only when the last one for account information is older than the window (RTS
    /// Art. 10), and the login's is the customer's SCA for accessing the account online.
    /// Decided and reported as its own `ais_access` decision, so the audit chain says so.
    public func recordAccountAccessSCA(userID: String, consent: String) async throws {
        let decision = try await decide(decisionRequest(action: "ais_access", userID: userID, consent: consent))
        if decision.outcome == "sca_required" { _ = await store.reportSCA(decision: decision.id, result: .passed, owner: .engine) }
    }

    /// Decides a request the gate built (`decisionRequest`), as a decision of its own.
    private func decide(_ text: String) async throws -> StoredDecision {
        guard case .success(let request) = decoder.decode(line: Array(text.utf8)) else {
            throw StorageError.corrupt("the gate built a request the decision contract refuses: \(text)")
        }
        switch await store.decide(store.submission(request, text: text)) {
        case .decided(let stored, _): return stored
        case .idempotencyConflict, .unauthenticated:
            throw StorageError.corrupt("a gate decision has no idempotency key and no API key")
        case .busy: throw StorageError.busy
        case .unavailable(let message): throw StorageError.unavailable(message)
        }
    }

    /// Runs a protected call through the gate. Without an approval the rules engine
    /// decides: an action that needs no SCA runs at once, one that needs it gets a token.
    /// With an approval, the token must be approved, unused, alive, bound to this very
    /// request and user; it is used and the action runs in one transaction.
    public func perform(_ action: ProtectedAction, approval: String?) async throws -> GateOutcome {
        if let approval {
            let binding = action.binding
            let userID = action.userID
            let store = self.store
            let (record, body, decision): (TokenRecord, String, StoredDecision) = try await store.transact { scope in
                let record = try await Self.consumeToken(approval, binding: binding, userID: userID, scope: scope)
                guard let decisionID = record.decisionID else { throw GateRefusal(.approvalInvalid, "the approval has no decision") }
                guard let decision = try await DecisionStore.decision(decisionID, scope: scope) else {
                    throw StorageError.corrupt("decision \(decisionID) of a token is missing")
                }
                let body = try await action.effect(Allowance(decision: decision, sca: "passed"))(scope)
                return (record, body, decision)
            }
            // The SCA this decision asked for has been performed and used: the engine
            // applies what it completes (counter resets, trusted payee, session, consent).
            if let decisionID = record.decisionID {
                _ = await store.reportSCA(decision: decisionID, result: .passed, owner: .engine)
            }
            return .done(body: body, approved: true, decision: decision)
        }

        let decision = try await decide(action.decisionRequest)
        switch decision.outcome {
        case "refused":
            return .refused(decision)
        case "sca_required":
            break
        default:
            if !action.alwaysChallenge {
                let sca = decision.outcome
                let body = try await store.transact { scope in
                    try await action.effect(Allowance(decision: decision, sca: sca))(scope)
                }
                return .done(body: body, approved: false, decision: decision)
            }
        }
        let token = try await store.transact { scope in
            try await self.issueToken(
                scope: scope, userID: action.userID, action: action.actionType, binding: action.binding, link: action.link,
                decisionID: decision.id
            )
        }
        return .challenge(token: token, decision: decision, actionType: action.actionType, displayText: action.link?.displayText)
    }

    /// The decision contract's request for an action of `userID` at the bank.
    public func decisionRequest(
        action: String, userID: String, instrument: String? = nil, payee: (id: String, country: String)? = nil,
        amount: Money? = nil, consent: String? = nil
    ) -> String {
        var payer = JSONBuilder()
        payer.string("id", userID)
        payer.string("psp_country", settings.bankCountry)
        if let instrument { payer.string("instrument", instrument) }
        payer.bool("consumer", true)
        var out = JSONBuilder()
        out.string("id", Secrets.identifier("req"))
        out.string("at", store.clock.now().rfc3339)
        out.string("action", action)
        out.raw("payer", payer.json)
        if let payee {
            var json = JSONBuilder()
            json.string("id", payee.id)
            json.string("psp_country", payee.country)
            out.raw("payee", json.json)
        }
        if let amount {
            var json = JSONBuilder()
            json.string("value", amount.decimalString)
            json.string("currency", amount.currency.code)
            out.raw("amount", json.json)
            var payment = JSONBuilder()
            payment.string("method", "credit_transfer")
            payment.string("channel", "remote")
            payment.string("initiator", "payer")
            out.raw("payment", payment.json)
        }
        if let consent { out.raw("consent", #"{"id":"# + JSONBuilder.quoted(consent) + "}") }
        out.bool("customer_present", true)
        return out.json
    }
}
