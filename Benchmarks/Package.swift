// swift-tools-version: 6.1
import PackageDescription

// Benchmarks for SovereignModel, kept out of the root package so that its users never build the
// benchmark harness. Run from this directory: `swift package benchmark` (see README.md).
let package = Package(
    name: "SovereignBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "sovereign", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", exact: "1.38.1", traits: ["MallocInterposer"]),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        // Writes the deterministic synthetic fleets (specs + traces) into a temporary directory.
        .target(
            name: "FleetGenerator",
            dependencies: [
                .product(name: "SovereignBase", package: "sovereign"),
                .product(name: "SovereignModel", package: "sovereign"),
            ],
            path: "Sources/FleetGenerator"
        ),
        .executableTarget(
            name: "FleetLoading",
            dependencies: [
                "FleetGenerator",
                .product(name: "SovereignModel", package: "sovereign"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/FleetLoading",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "TraceParsing",
            dependencies: [
                "FleetGenerator",
                .product(name: "SovereignModel", package: "sovereign"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/TraceParsing",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "Simulation",
            dependencies: [
                "FleetGenerator",
                .product(name: "SovereignModel", package: "sovereign"),
                .product(name: "SovereignPlanner", package: "sovereign"),
                .product(name: "SovereignSimulator", package: "sovereign"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/Simulation",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "CarbonShifting",
            dependencies: [
                .product(name: "SovereignModel", package: "sovereign"),
                .product(name: "SovereignPlanner", package: "sovereign"),
                .product(name: "SovereignSimulator", package: "sovereign"),
                .product(name: "SovereignTesting", package: "sovereign"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/CarbonShifting",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "Assessment",
            dependencies: [
                "FleetGenerator",
                .product(name: "SovereignModel", package: "sovereign"),
                .product(name: "SovereignPlanner", package: "sovereign"),
                .product(name: "SovereignAssessment", package: "sovereign"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/Assessment",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "Anonymisation",
            dependencies: [
                .product(name: "SovereignAnonymisation", package: "sovereign"),
                .product(name: "SovereignBase", package: "sovereign"),
                .product(name: "SovereignModel", package: "sovereign"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/Anonymisation",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "Ledger",
            dependencies: [
                .product(name: "SovereignBase", package: "sovereign"),
                .product(name: "SovereignLedger", package: "sovereign"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/Ledger",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "CheckpointTransfer",
            dependencies: [
                .product(name: "SovereignBase", package: "sovereign"),
                .product(name: "SovereignCheckpoint", package: "sovereign"),
                .product(name: "SovereignServer", package: "sovereign"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/CheckpointTransfer",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "AgentPolling",
            dependencies: [
                .product(name: "SovereignLedger", package: "sovereign"),
                .product(name: "SovereignModel", package: "sovereign"),
                .product(name: "SovereignServer", package: "sovereign"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/AgentPolling",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "ControlStore",
            dependencies: [
                .product(name: "SovereignLedger", package: "sovereign"),
                .product(name: "SovereignServer", package: "sovereign"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/ControlStore",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "SecureAggregation",
            dependencies: [
                .product(name: "SovereignBase", package: "sovereign"),
                .product(name: "SovereignFederation", package: "sovereign"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/SecureAggregation",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "FederatedTraining",
            dependencies: [
                .product(name: "SovereignFederation", package: "sovereign"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/FederatedTraining",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "Federation",
            dependencies: [
                .product(name: "SovereignFederation", package: "sovereign"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/Federation",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "Extender",
            dependencies: [
                .product(name: "SovereignKubernetes", package: "sovereign"),
                .product(name: "SovereignPlanner", package: "sovereign"),
                .product(name: "SovereignModel", package: "sovereign"),
                .product(name: "SovereignTesting", package: "sovereign"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/Extender",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        // Writes the fleet, node list and request bodies for scripts/extender-http.sh, and drives the
        // extender as kube-scheduler does for scripts/extender-cycle.sh.
        .executableTarget(
            name: "ExtenderLoad",
            dependencies: [
                .product(name: "SovereignKubernetes", package: "sovereign"),
                .product(name: "SovereignModel", package: "sovereign"),
                .product(name: "SovereignPlanner", package: "sovereign"),
                .product(name: "SovereignTesting", package: "sovereign"),
            ],
            path: "Sources/ExtenderLoad"
        ),
    ]
)
