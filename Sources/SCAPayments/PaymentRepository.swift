import SCACards
import SCAGate
import SCARules
import SCAStore
import SQLKit

/// The payments' SQL, all of it: the tables are `PaymentSchema`'s. Reads go to the
/// store's reader; writes run in the transaction they are given. Stored texts (the
/// request, the outcome, answers) come in and go out as the service encoded them.
struct PaymentRepository: Sendable {
    let database: StoreDatabase

    /// A stored payment's request and outcome as stored, and what the answer needs.
    struct StoredPayment: Sendable {
        let id: String
        let tenant: String
        let request: String
        let outcome: String
        let sealedCard: String?
        let captured: Int64
        let createdAt: Instant
    }

    // MARK: Reads

    func optimizerStatistics() async throws -> [(key: String, successes: Int64, failures: Int64)] {
        try await database.read("SELECT stat_key, successes, failures FROM card_optimizer_stats").map {
            (
                try $0.decode(column: "stat_key", as: String.self), try $0.decode(column: "successes", as: Int64.self),
                try $0.decode(column: "failures", as: Int64.self)
            )
        }
    }

    /// The request digest and first answer of the payment created under `key`.
    func paymentAnswer(idempotencyKey key: String) async throws -> (digest: String, answer: String)? {
        try await answer("SELECT request_digest, first_answer AS answer FROM card_payments WHERE idempotency_key = \(bind: key)")
    }

    /// The request digest and answer of the capture made under `key`.
    func captureAnswer(idempotencyKey key: String) async throws -> (digest: String, answer: String)? {
        try await answer("SELECT request_digest, answer FROM card_captures WHERE idempotency_key = \(bind: key)")
    }

    private func answer(_ query: SQLQueryString) async throws -> (digest: String, answer: String)? {
        try await database.read(query).first.map {
            (try $0.decode(column: "request_digest", as: String.self), try $0.decode(column: "answer", as: String.self))
        }
    }

    /// A stored card of `tenant`'s.
    func sealedSource(_ id: String, tenant: String) async throws -> String? {
        try await database.read("SELECT sealed_card FROM card_sources WHERE id = \(bind: id) AND tenant = \(bind: tenant)").first?
            .decode(column: "sealed_card", as: String.self)
    }

    /// Whether `previous` is an authenticated customer-initiated payment of this card that
    /// went through: the mandate a merchant-initiated payment names.
    func isMandate(_ previous: String, fingerprint: String, tenant: String) async throws -> Bool {
        try await database.read(
            """
            SELECT id FROM card_payments WHERE id = \(bind: previous) AND fingerprint = \(bind: fingerprint) AND tenant = \(bind: tenant) \
            AND authenticated_cit = 1 AND status IN ('Authorized', 'Captured', 'Partially Captured')
            """
        ).first != nil
    }

    func payment(challenge acsTransID: String) async throws -> StoredPayment? {
        try await database.read(
            "SELECT \(unsafeRaw: Self.paymentColumns) FROM card_payments WHERE acs_trans_id = \(bind: acsTransID)"
        ).first.map(Self.storedPayment)
    }

    /// A payment of `tenant`'s.
    func payment(_ id: String, tenant: String) async throws -> StoredPayment? {
        try await database.read(
            "SELECT \(unsafeRaw: Self.paymentColumns) FROM card_payments WHERE id = \(bind: id) AND tenant = \(bind: tenant)"
        ).first.map(Self.storedPayment)
    }

    private static let paymentColumns = "id, tenant, request, outcome, sealed_card, captured, created_at"

    /// A pending payment's challenge and when it was last changed.
    func pendingChallenge(_ id: String, tenant: String) async throws -> (acsTransID: String, updatedAt: Instant)? {
        guard
            let row = try await database.read(
                "SELECT acs_trans_id, updated_at FROM card_payments WHERE id = \(bind: id) AND tenant = \(bind: tenant) AND status = 'Pending'"
            ).first, let acs = try row.decode(column: "acs_trans_id", as: String?.self)
        else { return nil }
        return (acs, Instant(millisecondsSinceEpoch: try row.decode(column: "updated_at", as: Int64.self)))
    }

    /// The newest notifications of `tenant`'s payments.
    func notifications(tenant: String, limit: Int) async throws -> [PaymentNotification] {
        try await database.read(
            """
            SELECT n.id AS id, n.payment_id AS payment_id, n.kind AS kind, n.message AS message, n.created_at AS created_at \
            FROM card_notifications n JOIN card_payments p ON p.id = n.payment_id WHERE p.tenant = \(bind: tenant) \
            ORDER BY n.created_at DESC, n.id LIMIT \(bind: limit)
            """
        ).map {
            PaymentNotification(
                id: try $0.decode(column: "id", as: String.self), paymentID: try $0.decode(column: "payment_id", as: String.self),
                kind: try $0.decode(column: "kind", as: String.self), message: try $0.decode(column: "message", as: String.self),
                createdAt: Instant(millisecondsSinceEpoch: try $0.decode(column: "created_at", as: Int64.self))
            )
        }
    }

    // MARK: Writes, in a transaction

    /// A new payment row, its request, outcome and first answer as encoded.
    nonisolated(nonsending) static func insertPayment(
        id: String, tenant: String, idempotencyKey: String?, digest: String, outcome: PaymentOutcome, fingerprint: String,
        sealedCard: String?, amount: Money, encoded: PaymentService.Encoded, scope: TransactionScope
    ) async throws {
        let now = scope.now.millisecondsSinceEpoch
        try await scope.run(
            """
            INSERT INTO card_payments (id, tenant, idempotency_key, request_digest, status, fingerprint, sealed_card, amount, currency, \
            captured, authenticated_cit, acs_trans_id, request, outcome, first_answer, created_at, updated_at) VALUES (\(bind: id), \(bind: tenant), \
            \(bind: idempotencyKey), \(bind: digest), \(bind: outcome.status.rawValue), \(bind: fingerprint), \(bind: sealedCard), \
            \(bind: amount.minorUnits), \(bind: amount.currency.code), \(bind: Int64(0)), \
            \(bind: outcome.authenticatedCustomerInitiated ? Int64(1) : Int64(0)), \(bind: outcome.threeDS?.acsTransID), \
            \(bind: encoded.request), \(bind: encoded.outcome), \(bind: encoded.answer), \(bind: now), \(bind: now))
            """)
    }

    /// The payment's status, locked (nil when there is no such payment).
    nonisolated(nonsending) static func lockedStatus(_ id: String, scope: TransactionScope) async throws -> String? {
        try await scope.all("SELECT status FROM card_payments WHERE id = \(bind: id) \(scope.forUpdate)").first?.decode(
            column: "status", as: String.self)
    }

    /// A payment after its challenge: its new status, outcome and request.
    nonisolated(nonsending) static func updateAfterChallenge(
        _ id: String, outcome: PaymentOutcome, encodedOutcome: String, encodedRequest: String, sealedCard: String?,
        scope: TransactionScope
    ) async throws {
        try await scope.run(
            """
            UPDATE card_payments SET status = \(bind: outcome.status.rawValue), outcome = \(bind: encodedOutcome), \
            request = \(bind: encodedRequest), sealed_card = \(bind: sealedCard), acs_trans_id = \(bind: outcome.threeDS?.acsTransID), \
            authenticated_cit = \(bind: outcome.authenticatedCustomerInitiated ? Int64(1) : Int64(0)), \
            updated_at = \(bind: scope.now.millisecondsSinceEpoch) WHERE id = \(bind: id)
            """)
    }

    /// What a capture needs of `tenant`'s payment, locked.
    nonisolated(nonsending) static func lockedForCapture(_ id: String, tenant: String, scope: TransactionScope) async throws
        -> (status: String, amount: Int64, captured: Int64, outcome: String)?
    {
        try await scope.all(
            """
            SELECT status, amount, captured, outcome FROM card_payments WHERE id = \(bind: id) AND tenant = \(bind: tenant) \
            \(scope.forUpdate)
            """
        ).first
            .map {
                (
                    try $0.decode(column: "status", as: String.self), try $0.decode(column: "amount", as: Int64.self),
                    try $0.decode(column: "captured", as: Int64.self), try $0.decode(column: "outcome", as: String.self)
                )
            }
    }

    nonisolated(nonsending) static func insertCapture(
        id: String, paymentID: String, idempotencyKey: String?, digest: String, amount: Int64, reference: String, answer: String,
        scope: TransactionScope
    ) async throws {
        try await scope.run(
            """
            INSERT INTO card_captures (id, payment_id, idempotency_key, request_digest, amount, reference, answer, created_at) VALUES \
            (\(bind: id), \(bind: paymentID), \(bind: idempotencyKey), \(bind: digest), \(bind: amount), \(bind: reference), \
            \(bind: answer), \(bind: scope.now.millisecondsSinceEpoch))
            """)
    }

    nonisolated(nonsending) static func addCaptured(
        _ amount: Int64, to id: String, status: PaymentStatus, encodedOutcome: String, scope: TransactionScope
    ) async throws {
        try await scope.run(
            """
            UPDATE card_payments SET captured = captured + \(bind: amount), status = \(bind: status.rawValue), \
            outcome = \(bind: encodedOutcome), updated_at = \(bind: scope.now.millisecondsSinceEpoch) WHERE id = \(bind: id)
            """)
    }

    nonisolated(nonsending) static func countOptimizerResult(key: String, success: Bool, scope: TransactionScope) async throws {
        let add: (Int64, Int64) = success ? (1, 0) : (0, 1)
        try await scope.run(
            """
            INSERT INTO card_optimizer_stats (stat_key, successes, failures) VALUES (\(bind: key), \(bind: add.0), \(bind: add.1)) \
            ON CONFLICT (stat_key) DO UPDATE SET successes = card_optimizer_stats.successes + \(bind: add.0), \
            failures = card_optimizer_stats.failures + \(bind: add.1)
            """)
    }

    nonisolated(nonsending) static func insertNotification(
        paymentID: String, kind: String, message: String, scope: TransactionScope
    ) async throws {
        try await scope.run(
            """
            INSERT INTO card_notifications (id, payment_id, kind, message, created_at) VALUES (\(bind: Secrets.identifier("ntf")), \
            \(bind: paymentID), \(bind: kind), \(bind: message), \(bind: scope.now.millisecondsSinceEpoch))
            """)
    }

    nonisolated(nonsending) static func insertSource(
        id: String, tenant: String, fingerprint: String, sealedCard: String, scope: TransactionScope
    ) async throws {
        try await scope.run(
            """
            INSERT INTO card_sources (id, tenant, fingerprint, sealed_card, created_at) VALUES (\(bind: id), \(bind: tenant), \(bind: fingerprint), \
            \(bind: sealedCard), \(bind: scope.now.millisecondsSinceEpoch))
            """)
    }

    static func storedPayment(_ row: any SQLRow) throws -> StoredPayment {
        StoredPayment(
            id: try row.decode(column: "id", as: String.self), tenant: try row.decode(column: "tenant", as: String.self),
            request: try row.decode(column: "request", as: String.self),
            outcome: try row.decode(column: "outcome", as: String.self),
            sealedCard: try row.decode(column: "sealed_card", as: String?.self),
            captured: try row.decode(column: "captured", as: Int64.self),
            createdAt: Instant(millisecondsSinceEpoch: try row.decode(column: "created_at", as: Int64.self))
        )
    }
}
