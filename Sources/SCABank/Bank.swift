import SCAAuth
import SCAGate
import SCAPrimitives
import SCARules
import SCAStore
import SQLKit

/// The demo bank behind the gate: accounts, beneficiaries, transfers, statements. Real
/// resources in storage (`BankRepository`), so that what the gate protects actually
/// happens (or does not). Its answers are values; their `json` is what the API shows.
public struct Bank: Sendable {
    public let auth: AuthService
    let repository: BankRepository

    public init(auth: AuthService) {
        self.auth = auth
        repository = BankRepository(database: auth.store.database)
    }

    public static let ibanLength = 15...34
    public static let referenceCharactersMax = 140
    /// What demo mode funds a new customer's account with.
    public static let demoOpeningBalance = Money(minorUnits: 1_000_000, currency: Currency(code: "PLN")!)
    /// The consent the bank's own app reads account information under (its statements).
    public static let appConsent = "bank-app"

    public struct Account: JSONAnswer {
        public let id: String
        public let name: String
        public let currency: Currency
        public let balance: Int64

        public func write(to out: inout JSONBuilder) {
            out.string("id", id)
            out.string("name", name)
            out.string("currency", currency.code)
            out.string("balance", Money(minorUnits: balance, currency: currency).decimalString)
        }
    }

    public struct Beneficiary: Sendable {
        public let id: String
        public let name: String
        public let iban: String

        /// The payee's PSP country: the IBAN's country code.
        public var country: String { String(iban.prefix(2)) }

        /// The beneficiary as the API lists it, with whether the rules engine trusts it.
        public struct Listed: JSONAnswer {
            public let beneficiary: Beneficiary
            public let trusted: Bool

            public func write(to out: inout JSONBuilder) {
                out.string("id", beneficiary.id)
                out.string("name", beneficiary.name)
                out.string("iban", beneficiary.iban)
                out.bool("trusted", trusted)
            }
        }
    }

    public struct Transfer: JSONAnswer {
        public let id: String
        public let accountID: String
        public let beneficiaryID: String
        public let amount: Money
        public let reference: String
        public let sca: String
        public let decisionID: String
        public let createdAt: Instant

        public func write(to out: inout JSONBuilder) {
            out.string("id", id)
            out.string("status", "executed")
            out.string("account_id", accountID)
            out.string("beneficiary_id", beneficiaryID)
            out.string("amount", amount.decimalString)
            out.string("currency", amount.currency.code)
            out.string("reference", reference)
            out.string("sca", sca)
            out.string("decision_id", decisionID)
            out.string("created_at", createdAt.rfc3339)
        }
    }

    /// One line of a statement: a transfer out of the account.
    public struct StatementEntry: JSONAnswer {
        public let transferID: String
        public let amount: Money
        public let payee: String
        public let reference: String
        public let sca: String
        public let at: Instant

        public func write(to out: inout JSONBuilder) {
            out.string("transfer_id", transferID)
            out.string("amount", "-" + amount.decimalString)
            out.string("currency", amount.currency.code)
            out.string("payee", payee)
            out.string("reference", reference)
            out.string("sca", sca)
            out.string("at", at.rfc3339)
        }
    }

    // MARK: Reads

    public func accounts(userID: String) async throws -> [Account] { try await repository.accounts(userID: userID) }

    public func beneficiary(_ id: String, userID: String) async throws -> Beneficiary? {
        try await repository.beneficiary(id, userID: userID)
    }

    /// The trusted flag is the rules engine's own list (RTS Art. 13): what it exempts is what it shows.
    public func beneficiaries(userID: String) async throws -> [Beneficiary.Listed] {
        let trusted = try await repository.trustedPayees(userID: userID)
        return try await repository.beneficiaries(userID: userID).map { .init(beneficiary: $0, trusted: trusted.contains($0.id)) }
    }

    public func transfers(userID: String) async throws -> [Transfer] { try await repository.transfers(userID: userID) }

    /// Checks an IBAN's form and its ISO 7064 mod-97 check digits.
    public static func isValidIBAN(_ iban: String) -> Bool {
        let bytes = Array(iban.utf8)
        guard ibanLength.contains(bytes.count),
            bytes[0...1].allSatisfy({ $0 >= 65 && $0 <= 90 }), bytes[2...3].allSatisfy({ $0 >= 48 && $0 <= 57 }),
            bytes.allSatisfy({ ($0 >= 48 && $0 <= 57) || ($0 >= 65 && $0 <= 90) })
        else { return false }
        var remainder = 0
        for byte in bytes[4...] + bytes[0..<4] {
            let value = byte >= 65 ? Int(byte) - 55 : Int(byte) - 48
            remainder = value >= 10 ? (remainder * 100 + value) % 97 : (remainder * 10 + value) % 97
        }
        return remainder == 1
    }

    // MARK: Effects of protected calls

    /// Demo mode's part of a registration: a funded current account (`AuthService`'s
    /// `onRegistration`).
    public static let openDemoAccount: AuthService.RegistrationWork = { userID, scope in
        try await BankRepository.openAccount(
            Secrets.identifier("acc"), userID: userID, name: "Current account", balance: demoOpeningBalance, scope: scope)
    }

    public func addBeneficiary(userID: String, id: String, name: String, iban: String) -> TransactionWork<String> {
        { scope in
            let beneficiary = Beneficiary(id: id, name: name, iban: iban)
            try await BankRepository.insertBeneficiary(beneficiary, userID: userID, scope: scope)
            var payload = JSONBuilder()
            payload.string("user_id", userID)
            payload.string("beneficiary_id", id)
            scope.audit("beneficiary_added", payload: payload.json)
            return Beneficiary.Listed(beneficiary: beneficiary, trusted: false).json
        }
    }

    /// Debits the account (never below zero) and records the transfer with the decision
    /// that allowed it.
    public func transfer(
        userID: String, account: String, beneficiary: Beneficiary, amount: Money, reference: String, allowance: Allowance
    ) -> TransactionWork<String> {
        { scope in
            guard let balance = try await BankRepository.debit(amount, account: account, userID: userID, scope: scope) else {
                throw GateRefusal(.insufficientFunds, "the account's balance is too low")
            }
            let transfer = Transfer(
                id: Secrets.identifier("trf"), accountID: account, beneficiaryID: beneficiary.id, amount: amount, reference: reference,
                sca: allowance.sca, decisionID: allowance.decision.id, createdAt: scope.now
            )
            try await BankRepository.insertTransfer(transfer, userID: userID, scope: scope)
            var payload = JSONBuilder()
            payload.string("transfer_id", transfer.id)
            payload.string("user_id", userID)
            payload.string("decision_id", allowance.decision.id)
            payload.string("amount", amount.decimalString)
            payload.string("currency", amount.currency.code)
            payload.string("beneficiary_id", beneficiary.id)
            payload.string("sca", allowance.sca)
            scope.audit("transfer_executed", payload: payload.json)
            var decision = JSONBuilder()
            decision.string("decision_id", allowance.decision.id)
            decision.string("outcome", allowance.decision.outcome)
            decision.string("reason", allowance.decision.reason)
            var out = JSONBuilder()
            out.string("id", transfer.id)
            out.string("status", "executed")
            out.string("account_id", account)
            out.string("beneficiary_id", beneficiary.id)
            out.string("payee", beneficiary.name)
            out.string("amount", amount.decimalString)
            out.string("currency", amount.currency.code)
            out.string("reference", reference)
            out.string("sca", allowance.sca)
            out.string("balance", Money(minorUnits: balance, currency: amount.currency).decimalString)
            out.raw("decision", decision.json)
            return out.json
        }
    }

    /// The account's transfers, newest first (read inside the protected call).
    public func statement(userID: String, account: String) -> TransactionWork<String> {
        { scope in
            let entries = try await BankRepository.statement(account: account, userID: userID, scope: scope)
            var payload = JSONBuilder()
            payload.string("user_id", userID)
            payload.string("account_id", account)
            scope.audit("statement_read", payload: payload.json)
            var out = JSONBuilder()
            out.string("account_id", account)
            out.objects("entries", entries)
            return out.json
        }
    }
}
