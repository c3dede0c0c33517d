import ArgumentParser
import SCAClients
import SCAGate
import SCAPrimitives
import SCARules
import SCAService

/// `sca clients …`: the engine's API clients, on the same store (and pepper) as `sca serve`.
struct Clients: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create, list, rotate and revoke the API clients of the engine.",
        discussion: """
            Works on the store `sca serve` uses (its data directory, or --db) with the same \
            pepper. A new key is printed once, in the JSON answer; the store keeps only its \
            keyed hash. Exit status: 0 done; 1 refused (the error names why); 2 cannot open.
            """,
        subcommands: [Create.self, List.self, Rotate.self, Revoke.self]
    )

    static func withRegistry<T: Sendable>(
        _ command: String, _ options: StoreOptions, _ body: @escaping @Sendable (ClientRegistry) async throws -> T
    ) async throws -> T {
        let configuration = try await options.load(command)
        let logger = StoreOpening.logger(level: configuration.logLevel)
        let pepper: [UInt8]
        do {
            pepper = try AuthSetup.keys(configuration, logger: logger).pepper
        } catch {
            printError("sca \(command): \(error)")
            throw ExitCode(2)
        }
        let outcome: Result<T, GateRefusal> = try await StoreOpening.withStore(
            command, options, configuration: configuration, migrate: true
        ) {
            store in
            do {
                return .success(try await body(ClientRegistry(store: store, pepper: pepper)))
            } catch let refusal as GateRefusal {
                return .failure(refusal)
            }
        }
        switch outcome {
        case .success(let value): return value
        case .failure(let refusal):
            printError("sca \(command): \(refusal.kind.rawValue): \(refusal.message)")
            throw ExitCode(1)
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a client and print its first key (shown once).")

        @Option(name: .long, help: "merchant, partner, tpp, decider or operator.")
        var kind: String
        @Option(name: .long, help: "A name for people (at most 100 characters).")
        var name: String
        @Option(name: .long, help: "The tenant it belongs to (a-z, 0-9, _ and -); its own by default.")
        var tenant: String?
        @Flag(name: .long, help: "A production key (sk_live_); a sandbox key (sk_test_) by default.")
        var live = false
        @OptionGroup var store: StoreOptions

        func run() async throws {
            guard let kind = ClientKind(rawValue: kind) else {
                printError("sca clients create: --kind: " + ClientKind.choices)
                throw ExitCode(1)
            }
            let (name, tenant, environment) = (name, tenant, live ? KeyEnvironment.live : .test)
            let issued = try await Clients.withRegistry("clients create", store) {
                try await $0.create(kind: kind, name: name, tenant: tenant, environment: environment)
            }
            print(issued.json)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the clients (never their keys).")

        @OptionGroup var store: StoreOptions

        func run() async throws {
            let clients = try await Clients.withRegistry("clients list", store) { try await $0.list() }
            print(JSONList("clients", clients).json)
        }
    }

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Give a client a new key; its current keys keep working for the overlap, then stop.")

        @Argument(help: "The client's id (cli_…).")
        var id: String
        @Option(name: .long, help: "Seconds the current keys keep working (default 86400, at most 604800).")
        var overlapSeconds: Int64 = ClientRegistry.rotationOverlapDefault.milliseconds / 1000
        @OptionGroup var store: StoreOptions

        func run() async throws {
            let (id, overlap) = (id, Instant.Duration.seconds(overlapSeconds))
            let issued = try await Clients.withRegistry("clients rotate", store) { try await $0.rotate(id, overlap: overlap) }
            print(issued.json)
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a client and all its keys, at once.")

        @Argument(help: "The client's id (cli_…).")
        var id: String
        @OptionGroup var store: StoreOptions

        func run() async throws {
            let id = id
            let client = try await Clients.withRegistry("clients revoke", store) { try await $0.revoke(id) }
            print(client.json)
        }
    }
}
