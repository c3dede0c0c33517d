import SCAStore

/// The clients' tables: clients and their keys (as keyed hashes); their part of the
/// engine's one versioned sequence (`EngineSchema`).
public enum ClientsSchema {
    public static let migrations: [Migrations.Migration] = [
        Migrations.Migration(
            version: 7, name: "API clients and their keys",
            statements: [
                """
                CREATE TABLE api_clients (
                    id TEXT PRIMARY KEY,
                    kind TEXT NOT NULL,
                    name TEXT NOT NULL,
                    tenant TEXT NOT NULL,
                    environment TEXT NOT NULL,
                    status TEXT NOT NULL,
                    created_at BIGINT NOT NULL,
                    revoked_at BIGINT
                )
                """,
                // `key_hash` is the keyed hash (`APIKeyHasher`); `expires_at` is set when a
                // rotation gives the key an end, `revoked_at` when the client is revoked.
                """
                CREATE TABLE api_keys (
                    key_hash TEXT PRIMARY KEY,
                    client_id TEXT NOT NULL,
                    hint TEXT NOT NULL,
                    created_at BIGINT NOT NULL,
                    expires_at BIGINT,
                    revoked_at BIGINT
                )
                """,
                "CREATE INDEX api_keys_client ON api_keys (client_id)",
            ]
        )
    ]
}
