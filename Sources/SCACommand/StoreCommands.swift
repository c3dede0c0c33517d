import ArgumentParser
import Foundation
import Hummingbird
import Logging
import SCABank
import SCAClients
import SCAContract
import SCAGate
import SCAPayments
import SCARules
import SCASchema
import SCAServer
import SCAService
import SCAStore

#if canImport(Glibc)
    import Glibc
#endif

/// Options every command that opens the store shares.
struct StoreOptions: ParsableArguments {
    @Option(name: .long, help: "A JSON or YAML configuration file; SCA_* environment variables override it.")
    var config: String?

    @Option(name: .long, help: "The store: postgres://… or an SQLite file path (default: sca.sqlite in the data directory).")
    var db: String?

    func load(_ command: String) async throws -> ServiceConfiguration {
        do {
            return try await ConfigurationLoader.load(file: config)
        } catch {
            printError("sca \(command): \(error)")
            throw ExitCode(2)
        }
    }
}

enum StoreOpening {
    static func logger(level: String) -> Logger {
        var logger = Logger(label: "sca") { JSONLogHandler(label: $0) }
        logger.logLevel = Logger.Level(rawValue: level) ?? .info
        return logger
    }

    static func location(_ configuration: ServiceConfiguration, db: String?) throws -> StorageLocation {
        if let text = db ?? configuration.storageURL { return try StorageLocation(text) }
        return .defaultFile(in: configuration.dataDirectory)
    }

    /// Opens the store, migrated when `migrate` (commands that write), otherwise only when it
    /// already exists at the current schema; exits 2 with a message when it cannot.
    static func open(
        _ command: String, configuration: ServiceConfiguration, db: String?, logger: Logger, migrate: Bool = true
    ) async throws -> DecisionStore {
        do {
            let location = try location(configuration, db: db)
            let clock = EngineClock.system
            let database: StoreDatabase
            if migrate {
                database = try await StoreDatabase.open(location, logger: logger, tunings: configuration.storageTunings)
                do {
                    let applied = try await Migrations.migrate(database, schema: EngineSchema.schema, now: clock.now().rfc3339)
                    if !applied.isEmpty {
                        logger.info("schema migrated", metadata: ["versions": "\(applied)", "store": "\(database.location)"])
                    }
                } catch {
                    await database.close()
                    throw error
                }
            } else {
                database = try await Migrations.openExisting(
                    location, schema: EngineSchema.schema, logger: logger, tunings: configuration.storageTunings)
            }
            return DecisionStore(
                database: database, engine: RulesEngine(configuration: configuration.rules),
                options: .init(batchMax: configuration.storageBatchMax, queueMax: configuration.storageQueueMax), clock: clock,
                logger: logger
            )
        } catch {
            printError("sca \(command): \(error)")
            throw ExitCode(2)
        }
    }

    /// Runs `body` on the store and closes it, whatever happens; a failure of the store
    /// exits 2 with a message. The configuration is read from `options` unless the caller
    /// has read it already (`loaded`).
    static func withStore<T: Sendable>(
        _ command: String, _ options: StoreOptions, configuration loaded: ServiceConfiguration? = nil, migrate: Bool,
        _ body: (DecisionStore) async throws -> T
    ) async throws -> T {
        let configuration: ServiceConfiguration
        if let loaded { configuration = loaded } else { configuration = try await options.load(command) }
        let logger = logger(level: configuration.logLevel)
        let store = try await open(command, configuration: configuration, db: options.db, logger: logger, migrate: migrate)
        do {
            let result = try await body(store)
            await store.database.close()
            return result
        } catch {
            await store.database.close()
            printError("sca \(command): \(error)")
            throw ExitCode(2)
        }
    }
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the HTTP API (decisions, audit, health, metrics) on the durable store.",
        discussion: """
            Listens on http.host:http.port (127.0.0.1:8080 by default). The store is created and \
            migrated on start. SIGTERM or SIGINT stops accepting connections, lets requests in \
            flight finish, and closes the store.
            """
    )

    /// The `Server` header of every answer.
    static let serverName = "sca"

    @OptionGroup var store: StoreOptions

    @Option(name: .long, help: "Port to listen on (overrides http.port).")
    var port: Int?

    @Option(name: .long, help: "Address to listen on (overrides http.host).")
    var host: String?

    @Flag(name: .long, help: "Demo mode (bank.demo): a demo customer printed once, funded accounts, the development SMS sender.")
    var demo = false

    /// A port the system cannot give is refused before anything starts (a silent wrap
    /// would listen somewhere else).
    func validate() throws {
        if let port, !(0...65535).contains(port) { throw ValidationError("--port must be 0 to 65535, not \(port)") }
    }

    func run() async throws {
        var configuration = try await store.load("serve")
        if let port { configuration.httpPort = port }
        if let host { configuration.httpHost = host }
        if demo { configuration.auth.demo = true }
        let logger = StoreOpening.logger(level: configuration.logLevel)
        if configuration.tuningAllocator { AllocatorTuning.apply() }
        let decisions = try await StoreOpening.open("serve", configuration: configuration, db: store.db, logger: logger)
        let auth: AuthService
        let payments: PaymentService
        let clients: ClientRegistry
        var demoShop: ResourceOwner?
        do {
            auth = try AuthSetup.service(configuration, store: decisions, port: configuration.httpPort, logger: logger)
            payments = try await PaymentSetup.service(configuration, store: decisions, logger: logger)
            clients = ClientRegistry(store: decisions, pepper: try AuthSetup.keys(configuration, logger: logger).pepper)
            if configuration.auth.demo {
                try await AuthSetup.seedDemo(auth, port: configuration.httpPort)
                try await AuthSetup.seedDemoClients(clients)
                demoShop = try await AuthSetup.demoShop(clients)
            }
        } catch {
            await decisions.database.close()
            printError("sca serve: \(error)")
            throw ExitCode(2)
        }
        let metrics = ServerMetrics()
        let server = SCAServer(
            store: decisions,
            limits: ServerLimits(bodyBytesMax: configuration.bodyBytesMax, auditPageMax: configuration.auditPageMax),
            metrics: metrics, bank: Bank(auth: auth), payments: payments, clients: clients, demoShop: demoShop, logger: logger
        )
        let retention = RetentionService(
            store: decisions, policy: configuration.retentionPolicy,
            interval: .seconds(configuration.retentionIntervalSeconds), metrics: metrics, logger: logger
        )
        let tunings = configuration.tuningsDescription
        let app = Application(
            router: server.router(),
            server: server.http1(serverName: Self.serverName),
            configuration: .init(address: .hostname(configuration.httpHost, port: configuration.httpPort), serverName: Self.serverName),
            services: [retention],
            onServerRunning: { channel in
                logger.info(
                    "listening",
                    metadata: [
                        "address": "\(channel.localAddress?.description ?? "?")",
                        "store": "\(decisions.database.location)",
                        "tunings": "\(tunings)",
                    ]
                )
            },
            logger: logger
        )
        do {
            try await app.runService()
        } catch {
            logger.error("server stopped", metadata: ["error": "\(error)"])
            await decisions.database.close()
            throw ExitCode(1)
        }
        await auth.pins.shutdown()
        await decisions.database.close()
        logger.info("stopped")
    }
}

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create or upgrade the store's schema, then print its version."
    )

    @OptionGroup var store: StoreOptions

    func run() async throws {
        let line = try await StoreOpening.withStore("migrate", store, migrate: true) { decisions in
            let version = try await Migrations.currentVersion(decisions.database)
            return #"{"schema_version":\#(version),"store":"\#(decisions.database.location)"}"#
        }
        print(line)
    }
}

struct Audit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Work with the audit chain.", subcommands: [Verify.self]
    )

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check every event of the audit chain against its hash, its predecessor and the recorded head.",
            discussion: "Prints one JSON object. Exit status: 0 intact; 1 broken (the first bad event is named); 2 cannot read."
        )

        @OptionGroup var store: StoreOptions

        func run() async throws {
            let verification = try await StoreOpening.withStore("audit verify", store, migrate: false) {
                try await $0.verifyAudit()
            }
            print(SCAServer.verificationJSON(verification))
            if case .broken = verification { throw ExitCode(1) }
        }
    }
}

struct Store: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Work with the stored rules state.", subcommands: [Check.self, Prune.self]
    )

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Decide every stored request again, in audit order, and compare answers and counters with the store.",
            discussion: "Run it while no server writes. Exit status: 0 consistent; 1 mismatches (listed); 2 cannot read."
        )

        @OptionGroup var store: StoreOptions

        func run() async throws {
            let check = try await StoreOpening.withStore("store check", store, migrate: false) { try await $0.checkState() }
            let answers = check.answerMismatches.prefix(20).map { "\"\($0)\"" }.joined(separator: ",")
            let counters = check.counterMismatches.prefix(20).map { "\"\($0)\"" }.joined(separator: ",")
            print(
                #"{"consistent":\#(check.isConsistent),"decisions":\#(check.decisions),"sca_results":\#(check.scaResults),"instruments":\#(check.instruments),"answer_mismatches":[\#(answers)],"counter_mismatches":[\#(counters)]}"#
            )
            if !check.isConsistent { throw ExitCode(1) }
        }
    }

    struct Prune: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete the idempotency keys, one-time tokens, approvals and sessions that the retention settings no longer keep.",
            discussion: """
                `sca serve` sweeps the same way every retention.interval_seconds; this sweeps once, now, \
                and may run beside servers. Prints the rows deleted by table. Exit status: 0 done; 2 cannot write.
                """
        )

        @OptionGroup var store: StoreOptions

        func run() async throws {
            let configuration = try await store.load("store prune")
            let policy = configuration.retentionPolicy
            let swept = try await StoreOpening.withStore("store prune", store, configuration: configuration, migrate: false) {
                try await $0.sweep(policy, now: $0.clock.now())
            }
            print(swept.json)
        }
    }
}

extension ServiceConfiguration {
    /// The tunings on, for the start line: `gathered_log_writes,release_page_cache,allocator` or `none`.
    var tuningsDescription: String {
        let on = [
            (tuningGatheredLogWrites, "gathered_log_writes"), (tuningReleasePageCache, "release_page_cache"),
            (tuningAllocator, "allocator"),
        ].filter(\.0).map(\.1)
        return on.isEmpty ? "none" : on.joined(separator: ",")
    }

    var storageTunings: StorageTunings {
        StorageTunings(gatheredLogWrites: tuningGatheredLogWrites, releasePageCache: tuningReleasePageCache)
    }

    /// The `retention.*` settings, with the session limit they extend.
    var retentionPolicy: RetentionPolicy {
        RetentionPolicy(
            idempotencyKeys: .seconds(Int64(retentionIdempotencySeconds)), grace: .seconds(Int64(retentionGraceSeconds)),
            sessionIdle: rules.sessionIdleMax
        )
    }
}

/// `sca decide --db`: the same stream and framing as the in-memory replay, decided against
/// the durable store in runs that share transactions. As in the replay, an absent `sca`
/// means passed.
enum DurableDecide {
    static func run(
        configuration: ServiceConfiguration, db: String,
        read: (UnsafeMutableRawBufferPointer) throws -> Int, write: ([UInt8]) throws -> Void
    ) async throws -> Int {
        let logger = StoreOpening.logger(level: configuration.logLevel == "info" ? "warning" : configuration.logLevel)
        let store = try await StoreOpening.open("decide", configuration: configuration, db: db, logger: logger)
        do {
            let errored = try await decide(store: store, configuration: configuration, read: read, write: write)
            await store.database.close()
            return errored
        } catch {
            await store.database.close()
            throw error
        }
    }

    private static func decide(
        store: DecisionStore, configuration: ServiceConfiguration,
        read: (UnsafeMutableRawBufferPointer) throws -> Int, write: ([UInt8]) throws -> Void
    ) async throws -> Int {
        let decoder = SCAContract.RequestDecoder(referenceRates: configuration.rules.referenceRates, absentSCA: .passed)
        var framer = LineFramer(lineBytesMax: configuration.lineBytesMax)
        var errored = 0
        // Each entry: an error to write out, or a submission to decide.
        var pending: [Result<DecisionSubmission, ContractError>] = []

        func take(_ line: LineFramer.Line) {
            switch line {
            case .overlong:
                pending.append(.failure(DecisionStream.overlongLine(lineBytesMax: configuration.lineBytesMax)))
            case .complete(let raw):
                guard let text = DecisionStream.request(inRawLine: raw) else { return }
                pending.append(
                    decoder.decode(line: text).map {
                        store.submission($0, text: String(decoding: text, as: UTF8.self))
                    })
            }
            if case .failure = pending.last { errored += 1 }
        }

        func flush() async throws {
            let submissions = pending.compactMap { try? $0.get() }
            var results = await store.decide(submissions).makeIterator()
            var out: [UInt8] = []
            for entry in pending {
                switch entry {
                case .failure(let error):
                    AnswerEncoder.encode(error, into: &out)
                case .success:
                    guard case .decided(let decision, _) = results.next()! else {
                        printError("sca decide: the store failed; stopping")
                        throw ExitCode(2)
                    }
                    out.append(contentsOf: decision.answer.utf8)
                }
                out.append(UInt8(ascii: "\n"))
            }
            try write(out)
            pending.removeAll(keepingCapacity: true)
        }

        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: DecideRunner.blockBytes, alignment: 1)
        defer { buffer.deallocate() }
        let bytes = UnsafeBufferPointer(buffer.bindMemory(to: UInt8.self))
        while true {
            let count = try read(buffer)
            if count == 0 { break }
            framer.feed(UnsafeBufferPointer(rebasing: bytes[0..<count]), take)
            if pending.count >= configuration.storageBatchMax { try await flush() }
        }
        framer.finish(take)
        try await flush()
        return errored
    }
}
