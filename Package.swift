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
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-configuration", from: "1.4.0", traits: ["JSON", "YAML"]),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
    ],
    targets: [
        // The pure rules core: no I/O, no clock, no logging.
        .target(name: "SCARules"),
        // The decision contract's wire format (JSON lines in, JSON lines out).
        .target(name: "SCAContract", dependencies: ["SCARules"]),
        // The audit trail: a hash chain over events, verifiable offline.
        .target(
            name: "SCAAudit",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")]
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
        .executableTarget(
            name: "SCACommand",
            dependencies: [
                "SCAService",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "SCARulesTests", dependencies: ["SCARules"]),
        .testTarget(name: "SCAContractTests", dependencies: ["SCAContract"]),
        .testTarget(name: "SCAServiceTests", dependencies: ["SCAService"]),
        .testTarget(name: "SCAAuditTests", dependencies: ["SCAAudit"]),
    ],
    swiftLanguageModes: [.v6]
)
