import SCAStore

/// The payments' tables: payments, stored cards, captures, optimizer statistics,
/// notifications; its part of the engine's one versioned sequence (`EngineSchema`).
public enum PaymentSchema {
    public static let migrations: [Migrations.Migration] = [
        Migrations.Migration(
            version: 3, name: "card payments, stored cards, captures, optimizer statistics, notifications",
            statements: [
                // A card number is never stored in clear: a payment keeps the card sealed only
                // while it is pending (to authorise after the challenge), a stored card keeps
                // it sealed; both keep the keyed fingerprint, the BIN and the last four digits.
                // `request` and `outcome` are the validated request and the flow's state as
                // JSON; `first_answer` is what an idempotent retry gets back.
                """
                CREATE TABLE card_payments (
                    id TEXT PRIMARY KEY,
                    idempotency_key TEXT UNIQUE,
                    request_digest TEXT NOT NULL,
                    status TEXT NOT NULL,
                    fingerprint TEXT NOT NULL,
                    sealed_card TEXT,
                    amount BIGINT NOT NULL,
                    currency TEXT NOT NULL,
                    captured BIGINT NOT NULL,
                    authenticated_cit BIGINT NOT NULL,
                    acs_trans_id TEXT,
                    request TEXT NOT NULL,
                    outcome TEXT NOT NULL,
                    first_answer TEXT NOT NULL,
                    created_at BIGINT NOT NULL,
                    updated_at BIGINT NOT NULL
                )
                """,
                "CREATE INDEX card_payments_acs ON card_payments (acs_trans_id)",
                """
                CREATE TABLE card_sources (
                    id TEXT PRIMARY KEY,
                    fingerprint TEXT NOT NULL,
                    sealed_card TEXT NOT NULL,
                    created_at BIGINT NOT NULL
                )
                """,
                """
                CREATE TABLE card_captures (
                    id TEXT PRIMARY KEY,
                    payment_id TEXT NOT NULL,
                    idempotency_key TEXT UNIQUE,
                    request_digest TEXT NOT NULL,
                    amount BIGINT NOT NULL,
                    reference TEXT NOT NULL,
                    answer TEXT NOT NULL,
                    created_at BIGINT NOT NULL
                )
                """,
                "CREATE INDEX card_captures_payment ON card_captures (payment_id)",
                """
                CREATE TABLE card_optimizer_stats (
                    stat_key TEXT PRIMARY KEY,
                    successes BIGINT NOT NULL,
                    failures BIGINT NOT NULL
                )
                """,
                """
                CREATE TABLE card_notifications (
                    id TEXT PRIMARY KEY,
                    payment_id TEXT NOT NULL,
                    kind TEXT NOT NULL,
                    message TEXT NOT NULL,
                    created_at BIGINT NOT NULL
                )
                """,
            ]
        ),
        Migrations.Migration(
            version: 8, name: "payments and stored cards owned by a tenant",
            // The merchant's tenant (`ResourceOwner`); payments made before there were
            // tenants are the engine's own (''). Captures and notifications belong to their
            // payment's tenant; idempotency keys carry their client's scope.
            statements: [
                "ALTER TABLE card_payments ADD COLUMN tenant TEXT NOT NULL DEFAULT ''",
                "ALTER TABLE card_sources ADD COLUMN tenant TEXT NOT NULL DEFAULT ''",
            ]
        ),
    ]
}
