// swift-tools-version: 6.2
import PackageDescription

/// One set of Swift settings for every target (STYLE.md): the upcoming features that keep
/// imports and existentials explicit, and every public type explicit about `Sendable`.
let sharedSwiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
    .treatWarning("ExplicitSendable", as: .error),
]

let package = Package(
    name: "sovereign",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "sovereign", targets: ["sovereign"]),
        .library(name: "SovereignModel", targets: ["SovereignModel"]),
        .library(name: "SovereignPlanner", targets: ["SovereignPlanner"]),
        .library(name: "SovereignSimulator", targets: ["SovereignSimulator"]),
    ],
    dependencies: [
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        .target(
            name: "SovereignModel",
            dependencies: [.product(name: "Yams", package: "Yams")]
        ),
        .target(
            name: "SovereignPlanner",
            dependencies: ["SovereignModel"]
        ),
        .target(
            name: "SovereignSimulator",
            dependencies: ["SovereignModel", "SovereignPlanner"]
        ),
        .target(
            name: "SovereignCLI",
            dependencies: [
                "SovereignModel",
                "SovereignPlanner",
                "SovereignSimulator",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "sovereign",
            dependencies: [
                "SovereignCLI",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .target(
            name: "SovereignTesting",
            dependencies: ["SovereignModel"]
        ),
        .testTarget(
            name: "SovereignModelTests",
            dependencies: ["SovereignModel", "SovereignTesting"],
            exclude: ["Fixtures"]
        ),
        .testTarget(
            name: "SovereignPlannerTests",
            dependencies: ["SovereignPlanner", "SovereignModel", "SovereignTesting"]
        ),
        .testTarget(
            name: "SovereignSimulatorTests",
            dependencies: ["SovereignSimulator", "SovereignPlanner", "SovereignModel", "SovereignTesting"]
        ),
        .testTarget(
            name: "SovereignCLITests",
            dependencies: [
                "SovereignCLI", "SovereignModel", "SovereignTesting",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
    ]
)

for target in package.targets {
    target.swiftSettings = (target.swiftSettings ?? []) + sharedSwiftSettings
}
