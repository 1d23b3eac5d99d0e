// swift-tools-version: 6.1
import PackageDescription

// libFuzzer targets for the fleet spec decoder, the shared JSON reader, the scheduler extender and the
// federated-learning input parsers (safetensors files, training CSV), kept out of the root package.
// Build: `swift build -c debug --sanitize fuzzer` (see README.md).
let package = Package(
    name: "SovereignFuzz",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "sovereign", path: "..")
    ],
    targets: [
        .executableTarget(
            name: "FleetDecoderFuzzer",
            dependencies: [.product(name: "SovereignModel", package: "sovereign")],
            path: "Sources/FleetDecoderFuzzer",
            swiftSettings: [
                // libFuzzer supplies `main`; the Swift file must not emit one.
                .unsafeFlags(["-parse-as-library"])
            ]
        ),
        .executableTarget(
            name: "SafetensorsFuzzer",
            dependencies: [.product(name: "SovereignFederation", package: "sovereign")],
            path: "Sources/SafetensorsFuzzer",
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]
        ),
        .executableTarget(
            name: "ExtenderFuzzer",
            dependencies: [
                .product(name: "SovereignKubernetes", package: "sovereign"),
                .product(name: "SovereignPlanner", package: "sovereign"),
                .product(name: "SovereignModel", package: "sovereign"),
                .product(name: "SovereignTesting", package: "sovereign"),
            ],
            path: "Sources/ExtenderFuzzer",
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]
        ),
        .executableTarget(
            name: "JSONReaderFuzzer",
            dependencies: [
                .product(name: "SovereignBase", package: "sovereign"),
                .product(name: "SovereignLedger", package: "sovereign"),
            ],
            path: "Sources/JSONReaderFuzzer",
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]
        ),
        .executableTarget(
            name: "TrainingDataFuzzer",
            dependencies: [.product(name: "SovereignFederation", package: "sovereign")],
            path: "Sources/TrainingDataFuzzer",
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]
        ),
    ]
)
