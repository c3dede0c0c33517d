// swift-tools-version: 6.2
// The benchmarks live in their own package so that CI, which runs the tests, never
// builds the benchmark harness. Run them with `swift package benchmark` in this folder
// (see ../BENCHMARKS.md).
import Foundation
import PackageDescription

// A path dependency is identified by its folder's name, which is whatever the clone is
// called: read it rather than guess it.
let engine = URL(fileURLWithPath: Context.packageDirectory).deletingLastPathComponent().lastPathComponent

let package = Package(
    name: "sca-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: ".."),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "RulesCore",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "SCARules", package: engine),
                .product(name: "SCAContract", package: engine),
                .product(name: "SCAService", package: engine),
            ],
            path: "Benchmarks/RulesCore",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "Authentication",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "SCAAuth", package: engine),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "Benchmarks/Authentication",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "Cards",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "SCACards", package: engine),
                .product(name: "SCARules", package: engine),
            ],
            path: "Benchmarks/Cards",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "CoreLoop",
            dependencies: [
                .product(name: "SCARules", package: engine),
                .product(name: "SCAContract", package: engine),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
