import ArgumentParser
import Foundation
import Hummingbird
import Logging
import SCAAudit
import SCAContract
import SCARules
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

    /// Opens and migrates the store; exits 2 with a message when it cannot.
    static func open(
        _ command: String, configuration: ServiceConfiguration, db: String?, logger: Logger
    ) async throws -> DecisionStore {
        do {
            let database = try await StoreDatabase.open(try location(configuration, db: db), logger: logger)
            do {
                let applied = try await Migrations.migrate(database, now: wallClockNow().rfc3339)
                if !applied.isEmpty {
                    logger.info("schema migrated", metadata: ["versions": "\(applied)", "store": "\(database.location)"])
                }
            } catch {
                await database.close()
                throw error
            }
            return DecisionStore(
                database: database, engine: RulesEngine(configuration: configuration.rules),
                options: .init(batchMax: configuration.storageBatchMax), logger: logger
            )
        } catch {
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

    @OptionGroup var store: StoreOptions

    @Option(name: .long, help: "Port to listen on (overrides http.port).")
    var port: Int?

    @Option(name: .long, help: "Address to listen on (overrides http.host).")
    var host: String?

    func run() async throws {
        var configuration = try await store.load("serve")
        if let port { configuration.httpPort = port }
        if let host { configuration.httpHost = host }
        let logger = StoreOpening.logger(level: configuration.logLevel)
        let decisions = try await StoreOpening.open("serve", configuration: configuration, db: store.db, logger: logger)
        let server = SCAServer(
            store: decisions,
            limits: ServerLimits(bodyBytesMax: configuration.bodyBytesMax, auditPageMax: configuration.auditPageMax),
            logger: logger
        )
        let app = Application(
            router: server.router(),
            configuration: .init(address: .hostname(configuration.httpHost, port: configuration.httpPort), serverName: "sca"),
            onServerRunning: { channel in
                logger.info(
                    "listening",
                    metadata: [
                        "address": "\(channel.localAddress?.description ?? "?")",
                        "store": "\(decisions.database.location)",
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
        let configuration = try await store.load("migrate")
        let logger = StoreOpening.logger(level: configuration.logLevel)
        let decisions = try await StoreOpening.open("migrate", configuration: configuration, db: store.db, logger: logger)
        let version = try await Migrations.currentVersion(decisions.database)
        print(#"{"schema_version":\#(version),"store":"\#(decisions.database.location)"}"#)
        await decisions.database.close()
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
            let configuration = try await store.load("audit verify")
            let logger = StoreOpening.logger(level: configuration.logLevel)
            let decisions = try await StoreOpening.open("audit verify", configuration: configuration, db: store.db, logger: logger)
            let verification: AuditVerification
            do {
                verification = try await decisions.verifyAudit()
            } catch {
                await decisions.database.close()
                printError("sca audit verify: \(error)")
                throw ExitCode(2)
            }
            await decisions.database.close()
            print(SCAServer.verificationJSON(verification))
            if case .broken = verification { throw ExitCode(1) }
        }
    }
}

struct Store: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Work with the stored rules state.", subcommands: [Check.self]
    )

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Decide every stored request again, in audit order, and compare answers and counters with the store.",
            discussion: "Run it while no server writes. Exit status: 0 consistent; 1 mismatches (listed); 2 cannot read."
        )

        @OptionGroup var store: StoreOptions

        func run() async throws {
            let configuration = try await store.load("store check")
            let logger = StoreOpening.logger(level: configuration.logLevel)
            let decisions = try await StoreOpening.open("store check", configuration: configuration, db: store.db, logger: logger)
            let check = try await decisions.checkState()
            await decisions.database.close()
            let answers = check.answerMismatches.prefix(20).map { "\"\($0)\"" }.joined(separator: ",")
            let counters = check.counterMismatches.prefix(20).map { "\"\($0)\"" }.joined(separator: ",")
            print(
                #"{"consistent":\#(check.isConsistent),"decisions":\#(check.decisions),"sca_results":\#(check.scaResults),"instruments":\#(check.instruments),"answer_mismatches":[\#(answers)],"counter_mismatches":[\#(counters)]}"#
            )
            if !check.isConsistent { throw ExitCode(1) }
        }
    }
}

/// `sca decide --db`: the same stream, decided against the durable store in runs that
/// share transactions. As in the in-memory replay, an absent `sca` means passed.
enum DurableDecide {
    static let runLength = 256

    static func run(configuration: ServiceConfiguration, db: String, input: String?) async throws -> Int {
        let logger = StoreOpening.logger(level: configuration.logLevel == "info" ? "warning" : configuration.logLevel)
        let store = try await StoreOpening.open("decide", configuration: configuration, db: db, logger: logger)
        if let input, input != "-" {
            let descriptor = open(input, O_RDONLY)
            guard descriptor >= 0, dup2(descriptor, STDIN_FILENO) >= 0 else {
                printError("sca decide: cannot open \(input): \(String(cString: strerror(errno)))")
                await store.database.close()
                throw ExitCode(2)
            }
            close(descriptor)
        }
        do {
            let errored = try await decide(store: store, configuration: configuration)
            await store.database.close()
            return errored
        } catch {
            await store.database.close()
            throw error
        }
    }

    private static func decide(store: DecisionStore, configuration: ServiceConfiguration) async throws -> Int {
        let decoder = SCAContract.RequestDecoder(referenceRates: configuration.rules.referenceRates, absentSCA: .passed)
        var errored = 0
        // Each entry: an error line already written out, or a submission to decide.
        var pending: [Result<DecisionSubmission, ContractError>] = []

        func flush() async throws {
            let submissions = pending.compactMap { try? $0.get() }
            var results = await store.decide(submissions).makeIterator()
            var out = ""
            for entry in pending {
                switch entry {
                case .failure(let error):
                    out += AnswerEncoder.line(error) + "\n"
                case .success:
                    switch results.next()! {
                    case .decided(let decision, _): out += decision.answer + "\n"
                    case .idempotencyConflict, .unavailable:
                        printError("sca decide: the store failed; stopping")
                        throw ExitCode(2)
                    }
                }
            }
            FileHandle.standardOutput.write(Data(out.utf8))
            pending.removeAll(keepingCapacity: true)
        }

        while let raw = readLine(strippingNewline: true) {
            var line = raw
            if line.hasSuffix("\r") { line.removeLast() }
            if line.allSatisfy({ $0 == " " || $0 == "\t" }) { continue }
            if line.utf8.count > configuration.lineBytesMax {
                errored += 1
                pending.append(.failure(ContractError(.lineTooLong, "line is longer than \(configuration.lineBytesMax) bytes")))
            } else {
                switch decoder.decode(line: Array(line.utf8)) {
                case .success(let request): pending.append(.success(DecisionSubmission(request: request, requestText: line)))
                case .failure(let error):
                    errored += 1
                    pending.append(.failure(error))
                }
            }
            if pending.count >= runLength { try await flush() }
        }
        try await flush()
        return errored
    }
}
