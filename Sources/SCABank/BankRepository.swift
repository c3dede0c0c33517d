import SCAGate
import SCAPrimitives
import SCARules
import SCAStore
import SQLKit

/// The demo bank's SQL, all of it: its tables are `BankSchema`'s. Reads go to the store's
/// reader; writes run in the transaction they are given.
struct BankRepository: Sendable {
    let database: StoreDatabase

    /// Most entries a statement or the transfer list returns (newest first).
    static let listMax = 500

    // MARK: Reads

    func accounts(userID: String) async throws -> [Bank.Account] {
        try await database.read(
            "SELECT id, name, currency, balance FROM bank_accounts WHERE user_id = \(bind: userID) ORDER BY id"
        ).map(Self.account)
    }

    func beneficiary(_ id: String, userID: String) async throws -> Bank.Beneficiary? {
        try await database.read(
            "SELECT id, name, iban FROM bank_beneficiaries WHERE id = \(bind: id) AND user_id = \(bind: userID)"
        ).first.map(Self.beneficiary)
    }

    func beneficiaries(userID: String) async throws -> [Bank.Beneficiary] {
        try await database.read(
            "SELECT id, name, iban FROM bank_beneficiaries WHERE user_id = \(bind: userID) ORDER BY created_at, id"
        ).map(Self.beneficiary)
    }

    /// The payees the rules engine trusts for `userID` (RTS Art. 13): its list, not ours.
    func trustedPayees(userID: String) async throws -> Set<String> {
        Set(
            try await database.read("SELECT payee FROM trusted_payees WHERE payer = \(bind: userID)").map {
                try $0.decode(column: "payee", as: String.self)
            })
    }

    func transfers(userID: String) async throws -> [Bank.Transfer] {
        try await database.read(
            """
            SELECT id, account_id, beneficiary_id, amount, currency, reference, sca, created_at, decision_id FROM bank_transfers \
            WHERE user_id = \(bind: userID) ORDER BY created_at DESC, id LIMIT \(bind: Self.listMax)
            """
        ).map(Self.transfer)
    }

    // MARK: Writes, in a transaction

    nonisolated(nonsending) static func openAccount(
        _ id: String, userID: String, name: String, balance: Money, scope: TransactionScope
    ) async throws {
        try await scope.run(
            """
            INSERT INTO bank_accounts (id, user_id, name, currency, balance) VALUES \
            (\(bind: id), \(bind: userID), \(bind: name), \(bind: balance.currency.code), \(bind: balance.minorUnits))
            """)
    }

    nonisolated(nonsending) static func insertBeneficiary(_ beneficiary: Bank.Beneficiary, userID: String, scope: TransactionScope)
        async throws
    {
        try await scope.run(
            """
            INSERT INTO bank_beneficiaries (id, user_id, name, iban, created_at) VALUES \
            (\(bind: beneficiary.id), \(bind: userID), \(bind: beneficiary.name), \(bind: beneficiary.iban), \
            \(bind: scope.now.millisecondsSinceEpoch))
            """)
    }

    /// Debits the account with a conditional update, never below zero; the new balance, or
    /// nil when the balance (or the account, or its currency) does not allow it.
    nonisolated(nonsending) static func debit(_ amount: Money, account: String, userID: String, scope: TransactionScope)
        async throws -> Int64?
    {
        let rows = try await scope.all(
            """
            UPDATE bank_accounts SET balance = balance - \(bind: amount.minorUnits) WHERE id = \(bind: account) \
            AND user_id = \(bind: userID) AND currency = \(bind: amount.currency.code) \
            AND balance >= \(bind: amount.minorUnits) RETURNING balance
            """)
        return try rows.first?.decode(column: "balance", as: Int64.self)
    }

    nonisolated(nonsending) static func insertTransfer(_ transfer: Bank.Transfer, userID: String, scope: TransactionScope) async throws {
        try await scope.run(
            """
            INSERT INTO bank_transfers (id, user_id, account_id, beneficiary_id, amount, currency, reference, decision_id, \
            sca, created_at) VALUES (\(bind: transfer.id), \(bind: userID), \(bind: transfer.accountID), \
            \(bind: transfer.beneficiaryID), \(bind: transfer.amount.minorUnits), \(bind: transfer.amount.currency.code), \
            \(bind: transfer.reference), \(bind: transfer.decisionID), \(bind: transfer.sca), \
            \(bind: transfer.createdAt.millisecondsSinceEpoch))
            """)
    }

    /// The account's transfers with their payees' names, newest first, read inside the
    /// protected call.
    nonisolated(nonsending) static func statement(account: String, userID: String, scope: TransactionScope) async throws
        -> [Bank.StatementEntry]
    {
        try await scope.all(
            """
            SELECT t.id, t.amount, t.currency, t.reference, t.created_at, t.sca, b.name FROM bank_transfers t \
            JOIN bank_beneficiaries b ON b.id = t.beneficiary_id WHERE t.account_id = \(bind: account) \
            AND t.user_id = \(bind: userID) ORDER BY t.created_at DESC, t.id LIMIT \(bind: listMax)
            """
        ).map { row in
            Bank.StatementEntry(
                transferID: try row.decode(column: "id", as: String.self), amount: try money(row),
                payee: try row.decode(column: "name", as: String.self), reference: try row.decode(column: "reference", as: String.self),
                sca: try row.decode(column: "sca", as: String.self),
                at: Instant(millisecondsSinceEpoch: try row.decode(column: "created_at", as: Int64.self))
            )
        }
    }

    // MARK: Rows

    static func currency(_ row: any SQLRow) throws -> Currency {
        let code = try row.decode(column: "currency", as: String.self)
        guard let currency = Currency(code: code) else { throw StorageError.corrupt("unknown currency \(code)") }
        return currency
    }

    static func money(_ row: any SQLRow, column: String = "amount") throws -> Money {
        Money(minorUnits: try row.decode(column: column, as: Int64.self), currency: try currency(row))
    }

    static func account(_ row: any SQLRow) throws -> Bank.Account {
        Bank.Account(
            id: try row.decode(column: "id", as: String.self), name: try row.decode(column: "name", as: String.self),
            currency: try currency(row), balance: try row.decode(column: "balance", as: Int64.self)
        )
    }

    static func beneficiary(_ row: any SQLRow) throws -> Bank.Beneficiary {
        Bank.Beneficiary(
            id: try row.decode(column: "id", as: String.self), name: try row.decode(column: "name", as: String.self),
            iban: try row.decode(column: "iban", as: String.self)
        )
    }

    static func transfer(_ row: any SQLRow) throws -> Bank.Transfer {
        Bank.Transfer(
            id: try row.decode(column: "id", as: String.self), accountID: try row.decode(column: "account_id", as: String.self),
            beneficiaryID: try row.decode(column: "beneficiary_id", as: String.self), amount: try money(row),
            reference: try row.decode(column: "reference", as: String.self), sca: try row.decode(column: "sca", as: String.self),
            decisionID: try row.decode(column: "decision_id", as: String.self),
            createdAt: Instant(millisecondsSinceEpoch: try row.decode(column: "created_at", as: Int64.self))
        )
    }
}
