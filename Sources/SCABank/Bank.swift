import SCAAuth
import SCAGate
import SCAPrimitives
import SCARules
import SCAStore
import SQLKit

/// The demo bank behind the gate: accounts, beneficiaries, transfers, statements. Real
/// resources in storage, so that what the gate protects actually happens (or does not).
public struct Bank: Sendable {
    public let auth: AuthService

    public init(auth: AuthService) {
        self.auth = auth
    }

    var database: StoreDatabase { auth.store.database }

    /// The consent the bank's own app reads account information under (its statements).
    public static let appConsent = "bank-app"

    public static let ibanLength = 15...34
    public static let referenceCharactersMax = 140
    /// Most entries a statement or the transfer list returns (newest first).
    public static let listMax = 500

    public struct Account: Sendable {
        public let id: String
        public let name: String
        public let currency: Currency
        public let balance: Int64

        var json: String {
            var out = JSONBuilder()
            out.string("id", id)
            out.string("name", name)
            out.string("currency", currency.code)
            out.string("balance", Money(minorUnits: balance, currency: currency).decimalString)
            return out.json
        }
    }

    public struct Beneficiary: Sendable {
        public let id: String
        public let name: String
        public let iban: String

        /// The payee's PSP country: the IBAN's country code.
        public var country: String { String(iban.prefix(2)) }
    }

    static func account(_ row: any SQLRow) throws -> Account {
        let code = try row.decode(column: "currency", as: String.self)
        guard let currency = Currency(code: code) else { throw StorageError.corrupt("unknown currency \(code)") }
        return Account(
            id: try row.decode(column: "id", as: String.self), name: try row.decode(column: "name", as: String.self),
            currency: currency, balance: try row.decode(column: "balance", as: Int64.self)
        )
    }

    public func accounts(userID: String) async throws -> [Account] {
        try await database.read(
            "SELECT id, name, currency, balance FROM bank_accounts WHERE user_id = \(bind: userID) ORDER BY id"
        ).map(Self.account)
    }

    public func accountsJSON(userID: String) async throws -> String {
        "{\"accounts\":[" + (try await accounts(userID: userID)).map(\.json).joined(separator: ",") + "]}"
    }

    public func beneficiary(_ id: String, userID: String) async throws -> Beneficiary? {
        try await database.read(
            "SELECT id, name, iban FROM bank_beneficiaries WHERE id = \(bind: id) AND user_id = \(bind: userID)"
        ).first.map {
            Beneficiary(
                id: try $0.decode(column: "id", as: String.self), name: try $0.decode(column: "name", as: String.self),
                iban: try $0.decode(column: "iban", as: String.self)
            )
        }
    }

    public static func beneficiaryJSON(id: String, name: String, iban: String, trusted: Bool) -> String {
        var out = JSONBuilder()
        out.string("id", id)
        out.string("name", name)
        out.string("iban", iban)
        out.bool("trusted", trusted)
        return out.json
    }

    /// The trusted list is the rules engine's own (RTS Art. 13): what it exempts is what it shows.
    func trustedPayees(userID: String) async throws -> Set<String> {
        Set(
            try await database.read("SELECT payee FROM trusted_payees WHERE payer = \(bind: userID)").map {
                try $0.decode(column: "payee", as: String.self)
            })
    }

    public func beneficiariesJSON(userID: String) async throws -> String {
        let trusted = try await trustedPayees(userID: userID)
        let items = try await database.read(
            "SELECT id, name, iban FROM bank_beneficiaries WHERE user_id = \(bind: userID) ORDER BY created_at, id"
        ).map { row in
            let id = try row.decode(column: "id", as: String.self)
            return Self.beneficiaryJSON(
                id: id, name: try row.decode(column: "name", as: String.self), iban: try row.decode(column: "iban", as: String.self),
                trusted: trusted.contains(id)
            )
        }
        return "{\"beneficiaries\":[" + items.joined(separator: ",") + "]}"
    }

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

    public func addBeneficiary(userID: String, id: String, name: String, iban: String) -> TransactionWork<String> {
        { scope in
            try await scope.run(
                """
                INSERT INTO bank_beneficiaries (id, user_id, name, iban, created_at) VALUES \
                (\(bind: id), \(bind: userID), \(bind: name), \(bind: iban), \(bind: scope.now.millisecondsSinceEpoch))
                """)
            var payload = JSONBuilder()
            payload.string("user_id", userID)
            payload.string("beneficiary_id", id)
            scope.audit("beneficiary_added", payload: payload.json)
            return Self.beneficiaryJSON(id: id, name: name, iban: iban, trusted: false)
        }
    }

    /// Debits the account with a conditional update (never below zero) and records the
    /// transfer with the decision that allowed it.
    public func transfer(
        userID: String, account: String, beneficiary: Beneficiary, amount: Money, reference: String, allowance: Allowance
    ) -> TransactionWork<String> {
        { scope in
            let debited = try await scope.all(
                """
                UPDATE bank_accounts SET balance = balance - \(bind: amount.minorUnits) WHERE id = \(bind: account) \
                AND user_id = \(bind: userID) AND currency = \(bind: amount.currency.code) \
                AND balance >= \(bind: amount.minorUnits) RETURNING balance
                """)
            guard let row = debited.first else { throw GateRefusal(.insufficientFunds, "the account's balance is too low") }
            let balance = try row.decode(column: "balance", as: Int64.self)
            let id = Secrets.identifier("trf")
            try await scope.run(
                """
                INSERT INTO bank_transfers (id, user_id, account_id, beneficiary_id, amount, currency, reference, decision_id, \
                sca, created_at) VALUES (\(bind: id), \(bind: userID), \(bind: account), \(bind: beneficiary.id), \
                \(bind: amount.minorUnits), \(bind: amount.currency.code), \(bind: reference), \(bind: allowance.decision.id), \
                \(bind: allowance.sca), \(bind: scope.now.millisecondsSinceEpoch))
                """)
            var payload = JSONBuilder()
            payload.string("transfer_id", id)
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
            out.string("id", id)
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
            let rows = try await scope.all(
                """
                SELECT t.id, t.amount, t.currency, t.reference, t.created_at, t.sca, b.name FROM bank_transfers t \
                JOIN bank_beneficiaries b ON b.id = t.beneficiary_id WHERE t.account_id = \(bind: account) \
                AND t.user_id = \(bind: userID) ORDER BY t.created_at DESC, t.id LIMIT \(bind: Self.listMax)
                """)
            let entries = try rows.map { row in
                let code = try row.decode(column: "currency", as: String.self)
                guard let currency = Currency(code: code) else { throw StorageError.corrupt("unknown currency \(code)") }
                var out = JSONBuilder()
                out.string("transfer_id", try row.decode(column: "id", as: String.self))
                out.string(
                    "amount", "-" + Money(minorUnits: try row.decode(column: "amount", as: Int64.self), currency: currency).decimalString)
                out.string("currency", code)
                out.string("payee", try row.decode(column: "name", as: String.self))
                out.string("reference", try row.decode(column: "reference", as: String.self))
                out.string("sca", try row.decode(column: "sca", as: String.self))
                out.string("at", Instant(millisecondsSinceEpoch: try row.decode(column: "created_at", as: Int64.self)).rfc3339)
                return out.json
            }
            var payload = JSONBuilder()
            payload.string("user_id", userID)
            payload.string("account_id", account)
            scope.audit("statement_read", payload: payload.json)
            return #"{"account_id":"# + JSONBuilder.quoted(account) + #","entries":["# + entries.joined(separator: ",") + "]}"
        }
    }

    public func transfersJSON(userID: String) async throws -> String {
        let rows = try await database.read(
            """
            SELECT id, account_id, beneficiary_id, amount, currency, reference, sca, created_at, decision_id FROM bank_transfers \
            WHERE user_id = \(bind: userID) ORDER BY created_at DESC, id LIMIT \(bind: Self.listMax)
            """)
        let items = try rows.map { row in
            let code = try row.decode(column: "currency", as: String.self)
            guard let currency = Currency(code: code) else { throw StorageError.corrupt("unknown currency \(code)") }
            var out = JSONBuilder()
            out.string("id", try row.decode(column: "id", as: String.self))
            out.string("status", "executed")
            out.string("account_id", try row.decode(column: "account_id", as: String.self))
            out.string("beneficiary_id", try row.decode(column: "beneficiary_id", as: String.self))
            out.string("amount", Money(minorUnits: try row.decode(column: "amount", as: Int64.self), currency: currency).decimalString)
            out.string("currency", code)
            out.string("reference", try row.decode(column: "reference", as: String.self))
            out.string("sca", try row.decode(column: "sca", as: String.self))
            out.string("decision_id", try row.decode(column: "decision_id", as: String.self))
            out.string("created_at", Instant(millisecondsSinceEpoch: try row.decode(column: "created_at", as: Int64.self)).rfc3339)
            return out.json
        }
        return "{\"transfers\":[" + items.joined(separator: ",") + "]}"
    }
}
