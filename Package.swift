// swift-tools-version: 6.2
import PackageDescription

let package = Package(
    name: "sca-engine",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "sca", targets: ["SCACommand"]),
        .library(name: "SCARules", targets: ["SCARules"]),
        .library(name: "SCAContract", targets: ["SCAContract"]),
        .library(name: "SCAService", targets: ["SCAService"]),
        .library(name: "SCAAudit", targets: ["SCAAudit"]),
        .library(name: "SCAStore", targets: ["SCAStore"]),
        .library(name: "SCAServer", targets: ["SCAServer"]),
        .library(name: "SCAAuth", targets: ["SCAAuth"]),
        .library(name: "SCACards", targets: ["SCACards"]),
        .library(name: "SCAPrimitives", targets: ["SCAPrimitives"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-configuration", from: "1.4.0", traits: ["JSON", "YAML"]),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/vapor/sql-kit", from: "3.36.0"),
        .package(url: "https://github.com/vapor/sqlite-kit", from: "4.5.2"),
        // Pinned exactly: SCAStore's SQLite writer (DirectSQLite, GatheredLogVFS) calls the
        // SQLite that sqlite-nio vendors through its internal C target, VaporCSQLite, which
        // is not a product and whose prefixed symbols and VFS layout may change in any
        // release. Moving this pin means running DirectSQLiteTests and the kill -9 test.
        .package(url: "https://github.com/vapor/sqlite-nio", exact: "1.13.2"),
        .package(url: "https://github.com/vapor/postgres-kit", from: "2.17.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
    ],
    targets: [
        // Small helpers every module shares: the one JSON writer, base64url, hex, SHA-256
        // digests, constant-time comparison.
        .target(name: "SCAPrimitives", dependencies: [.product(name: "Crypto", package: "swift-crypto")]),
        // The pure rules core: no I/O, no clock, no logging.
        .target(name: "SCARules"),
        // The decision contract's wire format (JSON lines in, JSON lines out).
        .target(name: "SCAContract", dependencies: ["SCARules", "SCAPrimitives"]),
        // The audit trail: a hash chain over events, verifiable offline.
        .target(
            name: "SCAAudit",
            dependencies: ["SCAPrimitives", .product(name: "Crypto", package: "swift-crypto")]
        ),
        // Authentication: factor verifiers (PIN, TOTP, device key), sealed secrets, the
        // challenge state machine with attempt limits, and dynamic linking. No I/O, no clock.
        .target(
            name: "SCAAuth",
            dependencies: [
                "SCAPrimitives", "SCARules", "SCAContract", "SCAAudit",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
                .product(name: "HummingbirdOTP", package: "hummingbird-auth"),
            ]
        ),
        // Application services: configuration loading, the decision stream.
        .target(
            name: "SCAService",
            dependencies: [
                "SCARules", "SCAContract",
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        // Durable state: one SQL schema over SQLKit for SQLite and PostgreSQL, group commit,
        // decisions, idempotency keys and the audit log.
        .target(
            name: "SCAStore",
            dependencies: [
                "SCAPrimitives", "SCARules", "SCAContract", "SCAAudit",
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "SQLiteKit", package: "sqlite-kit"),
                .product(name: "SQLiteNIO", package: "sqlite-nio"),
                .product(name: "PostgresKit", package: "postgres-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        // The gate: users, factors, sessions and one-time tokens on the store, the protected
        // calls' flow, and their routes (AuthController).
        .target(
            name: "SCAGate",
            dependencies: [
                "SCAPrimitives", "SCAAuth", "SCAStore", "SCARules", "SCAContract", "SCAAudit", "SCAHTTP",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        // What every API family's controller shares: the one error shape, JSON bodies and
        // answers, `Idempotency-Key`.
        .target(
            name: "SCAHTTP",
            dependencies: [
                "SCAPrimitives", "SCAContract", "SCAStore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        // The demo bank behind the gate: accounts, beneficiaries, transfers, statements, and
        // their routes (BankController).
        .target(
            name: "SCABank",
            dependencies: [
                "SCAPrimitives", "SCAGate", "SCAAuth", "SCAStore", "SCARules", "SCAHTTP",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "SQLKit", package: "sql-kit"),
            ]
        ),
        // The engine's whole schema: each feature's migrations in one versioned sequence.
        // The engine's clients (merchants, partners, TPPs, deciders, operators) and their
        // API keys: who may call what.
        .target(
            name: "SCAClients",
            dependencies: [
                "SCAPrimitives", "SCAGate", "SCAStore", "SCARules", "SCAHTTP", .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "Hummingbird", package: "hummingbird"),
            ]
        ),
        .target(name: "SCASchema", dependencies: ["SCAStore", "SCAGate", "SCABank", "SCAPayments", "SCAClients"]),
        // Card payments with 3-D Secure 2: simulated directory server and issuers (each one
        // an instance of the rules engine), the acquirer's flow, the exemption optimizer and
        // its simulation. No I/O, no clock.
        .target(
            name: "SCACards",
            dependencies: [
                "SCAPrimitives", "SCARules", "SCAAuth", "SCAAudit",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // The payments API's service: validation, the flow on the simulated networks,
        // storage of payments, traces, stored cards, captures and optimizer statistics.
        .target(
            name: "SCAPayments",
            dependencies: [
                "SCAPrimitives", "SCACards", "SCAGate", "SCAStore", "SCAAuth", "SCARules", "SCAContract", "SCAAudit", "SCAHTTP",
                "SCAClients", .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // The HTTP shell: routes, errors, metrics; no rule lives here.
        .target(
            name: "SCAServer",
            dependencies: [
                "SCAPrimitives", "SCAService", "SCAStore", "SCAGate", "SCAAuth", "SCAPayments", "SCACards", "SCAHTTP", "SCABank",
                "SCASchema", "SCAClients",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            resources: [.copy("Resources/openapi.yaml"), .copy("Resources/web")]
        ),
        .executableTarget(
            name: "SCACommand",
            dependencies: [
                "SCAPrimitives", "SCAService", "SCAStore", "SCAServer", "SCAGate", "SCAAuth", "SCAPayments", "SCACards", "SCABank",
                "SCASchema", "SCAClients", "SCARules",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Helpers shared by the test targets (a seeded generator); not a product.
        .target(name: "SCATestSupport", dependencies: ["SCACards"], path: "Tests/SCATestSupport"),
        .testTarget(name: "SCAPrimitivesTests", dependencies: ["SCAPrimitives"]),
        .testTarget(name: "SCARulesTests", dependencies: ["SCAPrimitives", "SCARules", "SCATestSupport"]),
        .testTarget(name: "SCAContractTests", dependencies: ["SCAPrimitives", "SCAContract", "SCATestSupport"]),
        .testTarget(name: "SCAServiceTests", dependencies: ["SCAPrimitives", "SCAService"]),
        .testTarget(name: "SCAAuditTests", dependencies: ["SCAPrimitives", "SCAAudit"]),
        .testTarget(name: "SCACardsTests", dependencies: ["SCAPrimitives", "SCACards", "SCARules", "SCAAuth"]),
        .testTarget(
            name: "SCAPaymentsTests",
            dependencies: [
                "SCASchema", "SCAPrimitives", "SCAPayments", "SCACards", "SCAStore", "SCAGate", "SCARules", "SCAAudit",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "SCAAuthTests",
            dependencies: [
                "SCAPrimitives", "SCAAuth", "SCARules",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
            ]
        ),
        .testTarget(
            name: "SCAStoreTests",
            dependencies: [
                "SCABank", "SCAPayments", "SCASchema", "SCAPrimitives", "SCAStore", "SCAService", "SCATestSupport", "SCAGate", "SCAAuth",
                "SCAClients", .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .testTarget(
            name: "SCAServerTests",
            dependencies: [
                "SCASchema", "SCAPrimitives", "SCABank", "SCAHTTP", "SCAServer", "SCAService", "SCAGate", "SCAAuth", "SCAPayments",
                "SCAClients", .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
