import SCABank
import SCAClients
import SCAGate
import SCAPayments
import SCAStore

/// The engine's whole schema: every feature's migrations in the one versioned sequence.
/// Every store is migrated with all of it, never with a part: versions are shared, so a
/// database that recorded version 2 from one feature's part alone would never get the
/// others' tables of that version.
public enum EngineSchema {
    public static let schema = Migrations.Schema([
        StoreSchema.migrations, AuthSchema.migrations, BankSchema.migrations, PaymentSchema.migrations, ClientsSchema.migrations,
    ])
}
