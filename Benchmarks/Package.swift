// swift-tools-version: 6.2
// The benchmarks live in their own package so that CI, which runs the tests, never
// builds the benchmark harness. Run them with `swift package benchmark` in this folder
// (see ../BENCHMARKS.md).
import PackageDescription

let package = Package(
    name: "sca-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "RulesCore",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "SCARules", package: "sca-engine"),
                .product(name: "SCAContract", package: "sca-engine"),
                .product(name: "SCAService", package: "sca-engine"),
            ],
            path: "Benchmarks/RulesCore",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        )
    ],
    swiftLanguageModes: [.v6]
)
