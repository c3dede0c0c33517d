import SCAStore

/// The demo bank's tables; its part of the engine's one versioned sequence (`EngineSchema`).
public enum BankSchema {
    public static let migrations: [Migrations.Migration] = [
        Migrations.Migration(
            version: 2, name: "demo bank",
            statements: [
                // The demo bank. Balances in minor units; a transfer debits with a
                // conditional update, so a balance never goes below zero.
                """
                CREATE TABLE bank_accounts (
                    id TEXT PRIMARY KEY,
                    user_id TEXT NOT NULL,
                    name TEXT NOT NULL,
                    currency TEXT NOT NULL,
                    balance BIGINT NOT NULL
                )
                """,
                "CREATE INDEX bank_accounts_user ON bank_accounts (user_id)",
                """
                CREATE TABLE bank_beneficiaries (
                    id TEXT PRIMARY KEY,
                    user_id TEXT NOT NULL,
                    name TEXT NOT NULL,
                    iban TEXT NOT NULL,
                    created_at BIGINT NOT NULL
                )
                """,
                "CREATE INDEX bank_beneficiaries_user ON bank_beneficiaries (user_id)",
                """
                CREATE TABLE bank_transfers (
                    id TEXT PRIMARY KEY,
                    user_id TEXT NOT NULL,
                    account_id TEXT NOT NULL,
                    beneficiary_id TEXT NOT NULL,
                    amount BIGINT NOT NULL,
                    currency TEXT NOT NULL,
                    reference TEXT NOT NULL,
                    decision_id TEXT NOT NULL,
                    sca TEXT NOT NULL,
                    created_at BIGINT NOT NULL
                )
                """,
                "CREATE INDEX bank_transfers_account ON bank_transfers (account_id, created_at)",
            ]
        )
    ]
}
