import Foundation
import Logging
import SCAContract
import SCARules
import SCASchema
import SCAStore
import SCATestSupport
import SQLKit
import Testing

/// The backends the conformance suite runs on: SQLite always; PostgreSQL when
/// `SCA_TEST_POSTGRES_URL` names a server (scripts/test.sh and .ci/run start a throwaway
/// cluster and set it). Under `CI=true` a missing PostgreSQL fails the suite.
enum Backend: String, CustomTestStringConvertible, Sendable, CaseIterable {
    case sqlite
    case postgres

    var testDescription: String { rawValue }

    static var postgresURL: String? {
        let value = ProcessInfo.processInfo.environment["SCA_TEST_POSTGRES_URL"]
        return value?.isEmpty == false ? value : nil
    }

    static var isCI: Bool { ProcessInfo.processInfo.environment["CI"] == "true" }

    /// The SQLite tunings the stores open with: all on, or all off when
    /// `SCA_TEST_STORAGE_TUNINGS=off` (scripts/test.sh runs the storage suites both ways).
    static let tunings: StorageTunings = {
        guard ProcessInfo.processInfo.environment["SCA_TEST_STORAGE_TUNINGS"] == "off" else { return StorageTunings() }
        print("SCAStoreTests: the SQLite tunings are off (SCA_TEST_STORAGE_TUNINGS=off)")
        return .off
    }()

    /// The backends to run; prints once why PostgreSQL is left out.
    static let available: [Backend] = {
        if postgresURL != nil { return [.sqlite, .postgres] }
        if isCI { return [.sqlite, .postgres] }  // the test then fails on the missing URL
        print(
            "SCAStoreTests: PostgreSQL skipped: SCA_TEST_POSTGRES_URL is not set (scripts/test.sh starts a throwaway cluster when initdb is on the PATH)"
        )
        return [.sqlite]
    }()
}

/// A fresh, empty, migrated store on one backend, removed afterwards.
struct TestStore {
    let store: DecisionStore
    let location: StorageLocation
    /// The store's clock: tests move it instead of sleeping.
    let clock: ManualClock
    private let cleanup: @Sendable () async -> Void

    static let logger: Logger = {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        return logger
    }()

    /// A new database with nothing in it (a file not yet created, or a new PostgreSQL
    /// database), and how to remove it.
    static func emptyDatabase(_ backend: Backend) async throws -> (StorageLocation, @Sendable () async -> Void) {
        let location: StorageLocation
        let cleanup: @Sendable () async -> Void
        switch backend {
        case .sqlite:
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sca-test-\(UUID().uuidString)")
            location = .sqlite(path: directory.appendingPathComponent("sca.sqlite").path)
            cleanup = { try? FileManager.default.removeItem(at: directory) }
        case .postgres:
            let adminURL = try #require(Backend.postgresURL, "CI=true needs PostgreSQL: set SCA_TEST_POSTGRES_URL")
            let name = "sca_test_\(UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(20))"
            let admin = try await StoreDatabase.open(try StorageLocation(adminURL), logger: logger)
            try await admin.execute("CREATE DATABASE \(name)")
            await admin.close()
            location = try StorageLocation(replacingDatabase(of: adminURL, with: name))
            cleanup = {
                guard let admin = try? await StoreDatabase.open(try StorageLocation(adminURL), logger: logger) else { return }
                try? await admin.execute("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
                await admin.close()
            }
        }
        return (location, cleanup)
    }

    /// Where every test store's clock starts.
    static let start = Instant(rfc3339: "2026-11-21T12:00:00Z")!

    static func make(
        _ backend: Backend, configuration: RulesConfiguration = RulesConfiguration(), batchMax: Int = 256,
        queueMax: Int = DecisionStore.Options.queueMaxDefault
    ) async throws -> TestStore {
        let (location, cleanup) = try await emptyDatabase(backend)
        let database = try await StoreDatabase.open(location, logger: logger, tunings: Backend.tunings)
        try await Migrations.migrate(database, schema: EngineSchema.schema, now: "2026-11-21T00:00:00Z")
        let clock = ManualClock(TestStore.start)
        let store = DecisionStore(
            database: database, engine: RulesEngine(configuration: configuration), options: .init(batchMax: batchMax, queueMax: queueMax),
            clock: .manual(clock), logger: logger
        )
        return TestStore(store: store, location: location, clock: clock, cleanup: cleanup)
    }

    /// Runs `body` on a fresh store, closed afterwards whether `body` returns or throws.
    static func with(
        _ backend: Backend, configuration: RulesConfiguration = RulesConfiguration(), batchMax: Int = 256,
        queueMax: Int = DecisionStore.Options.queueMaxDefault, _ body: (TestStore) async throws -> Void
    ) async throws {
        let test = try await make(backend, configuration: configuration, batchMax: batchMax, queueMax: queueMax)
        try await withCleanup({ try await body(test) }, cleanup: test.close)
    }

    /// Runs `body` on a new, unmigrated database, closed and removed afterwards whether
    /// `body` returns or throws.
    static func withEmptyDatabase(_ backend: Backend, _ body: (StoreDatabase) async throws -> Void) async throws {
        let (location, cleanup) = try await emptyDatabase(backend)
        let database = try await StoreDatabase.open(location, logger: logger)
        try await withCleanup({ try await body(database) }) {
            await database.close()
            await cleanup()
        }
    }

    /// A second node on the same database: its own connections and committer.
    func secondNode(configuration: RulesConfiguration = RulesConfiguration()) async throws -> DecisionStore {
        let database = try await StoreDatabase.open(location, logger: Self.logger, tunings: Backend.tunings)
        return DecisionStore(
            database: database, engine: RulesEngine(configuration: configuration), clock: .manual(clock), logger: Self.logger)
    }

    func close() async {
        await store.database.close()
        await cleanup()
    }

    static func replacingDatabase(of url: String, with name: String) -> String {
        var components = URLComponents(string: url)!
        components.path = "/" + name
        return components.string!
    }
}

/// Builds submissions from contract lines, as the HTTP shell does (absent `sca` = pending).
struct Lines {
    let decoder: RequestDecoder

    init(configuration: RulesConfiguration = RulesConfiguration(), absentSCA: SCAResult? = nil) {
        decoder = RequestDecoder(referenceRates: configuration.referenceRates, absentSCA: absentSCA)
    }

    func submission(_ line: String, key: String? = nil) throws -> DecisionSubmission {
        let request = try decoder.decode(line: Array(line.utf8)).get()
        return DecisionSubmission(request: request, requestText: line, idempotencyKey: key, madeAt: TestStore.start)
    }
}

/// `{"id": …, "at": …, "action": "payment", …}` for a remote card payment.
func payment(
    id: String, payer: String = "anna", instrument: String = "card-1", amount: String = "20.00", currency: String = "EUR",
    at: String = "2026-11-21T08:00:00Z", sca: String? = nil, extra: String = ""
) -> String {
    var line =
        #"{"id":"\#(id)","at":"\#(at)","action":"payment","payer":{"id":"\#(payer)","psp_country":"DE","instrument":"\#(instrument)"},"#
    line += #""payee":{"id":"shop","psp_country":"DE"},"amount":{"value":"\#(amount)","currency":"\#(currency)"},"#
    line += #""payment":{"method":"card","channel":"remote","initiator":"payer"}"#
    if let sca { line += #","sca":"\#(sca)""# }
    line += extra + "}"
    return line
}

extension DecisionResult {
    var decision: StoredDecision? {
        if case .decided(let decision, _) = self { return decision }
        return nil
    }
    var replayed: Bool {
        if case .decided(_, let replayed) = self { return replayed }
        return false
    }
}

extension StoredDecision {
    var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(answer.utf8)) as? [String: Any]) ?? [:] }
}
