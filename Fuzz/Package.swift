// swift-tools-version: 6.1
import PackageDescription

// A libFuzzer target for the fleet spec decoder, kept out of the root package.
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
        )
    ]
)
