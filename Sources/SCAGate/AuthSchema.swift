import SCAStore

/// The gate's tables: users, factors, one-time tokens, sessions, decoupled approvals; its
/// parts of the engine's one versioned sequence (`EngineSchema`).
public enum AuthSchema {
    public static let migrations: [Migrations.Migration] = [
        Migrations.Migration(
            version: 2, name: "users, factors, one-time tokens, sessions",
            statements: [
                // Times are milliseconds since the epoch. Nothing secret is stored in clear:
                // tokens and sessions by their SHA-256, PINs as scrypt hashes, TOTP seeds and
                // phone numbers sealed with AES-GCM under the master key.
                """
                CREATE TABLE auth_users (
                    id TEXT PRIMARY KEY,
                    username TEXT NOT NULL UNIQUE,
                    name TEXT NOT NULL,
                    created_at BIGINT NOT NULL,
                    sms_window_start BIGINT NOT NULL,
                    sms_window_count BIGINT NOT NULL
                )
                """,
                // One row per factor; the attempt counter lives on it, so every token,
                // session and node shares it (RTS Art. 4(3)(b)).
                """
                CREATE TABLE auth_factors (
                    id TEXT PRIMARY KEY,
                    user_id TEXT NOT NULL,
                    kind TEXT NOT NULL,
                    label TEXT NOT NULL,
                    secret TEXT NOT NULL,
                    hint TEXT,
                    credential_id TEXT UNIQUE,
                    sign_count BIGINT NOT NULL,
                    last_step BIGINT,
                    failures BIGINT NOT NULL,
                    blocks BIGINT NOT NULL,
                    blocked_until BIGINT,
                    permanently_blocked BIGINT NOT NULL,
                    status TEXT NOT NULL,
                    created_at BIGINT NOT NULL,
                    revoked_at BIGINT
                )
                """,
                "CREATE INDEX auth_factors_user ON auth_factors (user_id)",
                """
                CREATE TABLE auth_tokens (
                    token_hash TEXT PRIMARY KEY,
                    user_id TEXT NOT NULL,
                    action TEXT NOT NULL,
                    binding TEXT NOT NULL,
                    link_digest TEXT,
                    display_text TEXT,
                    decision_id TEXT,
                    nonce TEXT NOT NULL,
                    offered TEXT NOT NULL,
                    passed TEXT NOT NULL,
                    created_at BIGINT NOT NULL,
                    expires_at BIGINT NOT NULL,
                    consumed_at BIGINT,
                    failed_at BIGINT,
                    otp_hash TEXT,
                    otp_expires_at BIGINT
                )
                """,
                """
                CREATE TABLE auth_sessions (
                    token_hash TEXT PRIMARY KEY,
                    user_id TEXT NOT NULL,
                    kind TEXT NOT NULL,
                    created_at BIGINT NOT NULL,
                    last_activity BIGINT NOT NULL,
                    ended_at BIGINT
                )
                """,
                // Decoupled approvals pushed to a user's device keys (number matching).
                """
                CREATE TABLE auth_approvals (
                    id TEXT PRIMARY KEY,
                    user_id TEXT NOT NULL,
                    token_hash TEXT NOT NULL,
                    number BIGINT NOT NULL,
                    status TEXT NOT NULL,
                    created_at BIGINT NOT NULL,
                    expires_at BIGINT NOT NULL
                )
                """,
                "CREATE INDEX auth_approvals_user ON auth_approvals (user_id, status)",
            ]
        ),
        Migrations.Migration(
            version: 4, name: "indexes for the retention sweep",
            statements: [
                // What `DecisionStore.sweep` looks rows up by: the oldest first, a bounded
                // number at a time, without reading the whole table.
                "CREATE INDEX auth_tokens_expires ON auth_tokens (expires_at)",
                "CREATE INDEX auth_approvals_expires ON auth_approvals (expires_at)",
                "CREATE INDEX auth_sessions_activity ON auth_sessions (last_activity)",
            ]
        ),
    ]
}
