import SCARules
import SQLKit
import Synchronization

/// A decision's credential, checked once more inside the transaction that writes it: a node
/// may keep the keys it has seen (`ClientRegistry`), and this is what keeps a revocation
/// immediate on every node all the same. The credentials' owner installs the query: given
/// the digests of the keys a batch's decisions came with and the transaction's instant, a
/// SELECT whose `key_hash` column lists those still live. The store runs it on its own
/// connection (a plain query, not a callback: the check runs once a transaction). Until one
/// is installed, no decision that carries a credential is written (it fails closed).
public final class CredentialCheck: Sendable {
    public typealias Query = @Sendable (_ digests: [String], _ now: Instant) -> SQLQueryString

    private let query = Mutex<Query?>(nil)

    init() {}

    public func install(_ query: @escaping Query) { self.query.withLock { $0 = query } }

    /// Of `digests`, those live at `now`.
    nonisolated(nonsending) func live(_ digests: [String], now: Instant, database: StoreDatabase) async throws -> Set<String> {
        guard !digests.isEmpty, let query = query.withLock({ $0 }) else { return [] }
        return Set(try await database.transaction.all(query(digests, now)).map { try $0.decode(column: "key_hash", as: String.self) })
    }
}
