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
        .library(name: "SovereignBase", targets: ["SovereignBase"]),
        .library(name: "SovereignModel", targets: ["SovereignModel"]),
        .library(name: "SovereignPlanner", targets: ["SovereignPlanner"]),
        .library(name: "SovereignSimulator", targets: ["SovereignSimulator"]),
        .library(name: "SovereignAssessment", targets: ["SovereignAssessment"]),
        .library(name: "SovereignLedger", targets: ["SovereignLedger"]),
        .library(name: "SovereignCheckpoint", targets: ["SovereignCheckpoint"]),
        .library(name: "SovereignLedgerSQLite", targets: ["SovereignLedgerSQLite"]),
        .library(name: "SovereignFederation", targets: ["SovereignFederation"]),
        .library(name: "SovereignAnonymisation", targets: ["SovereignAnonymisation"]),
        .library(name: "SovereignKubernetes", targets: ["SovereignKubernetes"]),
        .library(name: "SovereignTesting", targets: ["SovereignTesting"]),
        .library(name: "SovereignServer", targets: ["SovereignServer"]),
        .library(name: "SovereignStorePostgres", targets: ["SovereignStorePostgres"]),
    ],
    dependencies: [
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: ["FullFoundation"]),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1", from: "1.7.4"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
    ],
    targets: [
        // The leaf under every other module: wire primitives (JSON, hex, times, seeded randomness, CSV,
        // atomic writes, POSIX shims), depending on nothing but Foundation and the C library.
        .systemLibrary(name: "CZlib", providers: [.apt(["zlib1g-dev"]), .brew(["zlib"])]),
        .target(name: "SovereignBase", dependencies: ["CZlib"]),
        .target(
            name: "SovereignModel",
            dependencies: ["SovereignBase", .product(name: "Yams", package: "Yams")]
        ),
        // The system GLPK (libglpk-dev), the LP solver behind `sovereign plan --bound`.
        .systemLibrary(name: "CGLPK", providers: [.apt(["libglpk-dev"]), .brew(["glpk"])]),
        .target(
            name: "SovereignPlanner",
            dependencies: ["SovereignBase", "SovereignModel", "CGLPK"]
        ),
        .target(
            name: "SovereignSimulator",
            dependencies: ["SovereignBase", "SovereignModel", "SovereignPlanner"]
        ),
        .target(
            name: "SovereignAssessment",
            dependencies: ["SovereignModel", "SovereignPlanner", "SovereignSimulator"]
        ),
        .target(
            name: "SovereignLedger",
            dependencies: ["SovereignBase", .product(name: "Crypto", package: "swift-crypto")]
        ),
        // Checkpoints as data: manifests, end-to-end encrypted chunked transfer, staged atomic receipt.
        .target(
            name: "SovereignCheckpoint",
            dependencies: ["SovereignBase", .product(name: "Crypto", package: "swift-crypto")]
        ),
        .target(
            name: "SovereignLedgerSQLite",
            dependencies: ["SovereignLedger", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        .target(
            name: "SovereignFederation",
            dependencies: [
                "SovereignBase",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ]
        ),
        // Anonymisation inside the border: keyed pseudonyms, Mondrian k-anonymity, coarsening and noise.
        .target(
            name: "SovereignAnonymisation",
            dependencies: ["SovereignBase", "SovereignModel", .product(name: "Crypto", package: "swift-crypto")]
        ),
        .target(
            name: "SovereignKubernetes",
            dependencies: [
                "SovereignBase",
                "SovereignModel",
                "SovereignPlanner",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        .target(
            name: "SovereignServer",
            dependencies: [
                "SovereignAssessment",
                "SovereignBase",
                "SovereignKubernetes",
                "SovereignModel",
                "SovereignPlanner",
                "SovereignLedger",
                "SovereignLedgerSQLite",
                "SovereignFederation",
                "SovereignCheckpoint",
                "SovereignAnonymisation",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            resources: [.copy("openapi.yaml"), .copy("console")]
        ),
        // The control plane's state on PostgreSQL (`serve --db postgres://...`), apart so that nothing below
        // the command line depends on postgres-nio.
        .target(
            name: "SovereignStorePostgres",
            dependencies: [
                "SovereignLedger",
                "SovereignServer",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "SovereignCLI",
            dependencies: [
                "SovereignBase",
                "SovereignModel",
                "SovereignPlanner",
                "SovereignCheckpoint",
                "SovereignSimulator",
                "SovereignAssessment",
                "SovereignLedger",
                "SovereignLedgerSQLite",
                "SovereignServer",
                "SovereignStorePostgres",
                "SovereignFederation",
                "SovereignKubernetes",
                "SovereignAnonymisation",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
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
            dependencies: [
                "SovereignBase",
                "SovereignModel",
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .testTarget(
            name: "SovereignBaseTests",
            dependencies: ["SovereignBase", "SovereignTesting"]
        ),
        .testTarget(
            name: "SovereignModelTests",
            dependencies: ["SovereignBase", "SovereignModel", "SovereignTesting"],
            exclude: ["Fixtures"]
        ),
        .testTarget(
            name: "SovereignPlannerTests",
            dependencies: ["SovereignBase", "SovereignPlanner", "SovereignModel", "SovereignTesting"]
        ),
        .testTarget(
            name: "SovereignSimulatorTests",
            dependencies: ["SovereignSimulator", "SovereignPlanner", "SovereignModel", "SovereignTesting"]
        ),
        .testTarget(
            name: "SovereignAssessmentTests",
            dependencies: [
                "SovereignAssessment", "SovereignSimulator", "SovereignPlanner", "SovereignModel", "SovereignTesting",
            ]
        ),
        .testTarget(
            name: "SovereignLedgerTests",
            dependencies: [
                "SovereignBase", "SovereignLedger", "SovereignTesting",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            exclude: ["Verifier"]
        ),
        .testTarget(
            name: "SovereignCheckpointTests",
            dependencies: [
                "SovereignBase", "SovereignCheckpoint", "SovereignTesting",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .testTarget(
            name: "SovereignLedgerSQLiteTests",
            dependencies: ["SovereignLedgerSQLite", "SovereignLedger", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        .testTarget(
            name: "SovereignFederationTests",
            dependencies: ["SovereignBase", "SovereignFederation", "SovereignTesting"],
            exclude: ["Interop/safetensors_interop.py"]
        ),
        .testTarget(
            name: "SovereignAnonymisationTests",
            dependencies: ["SovereignAnonymisation", "SovereignBase", "SovereignModel", "SovereignTesting"],
            exclude: ["Fixtures"]
        ),
        .testTarget(
            name: "SovereignServerTests",
            dependencies: [
                "SovereignBase", "SovereignServer", "SovereignModel", "SovereignLedger", "SovereignTesting",
                "SovereignFederation", "SovereignCheckpoint", "SovereignStorePostgres",
                "SovereignKubernetes", "SovereignPlanner", "SovereignAnonymisation",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
            ],
            exclude: ["Fixtures"]
        ),
        .testTarget(
            name: "SovereignKubernetesTests",
            dependencies: [
                "SovereignBase", "SovereignKubernetes", "SovereignModel", "SovereignPlanner", "SovereignTesting",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Yams", package: "Yams"),
            ],
            exclude: ["Fixtures"]
        ),
        .testTarget(
            name: "SovereignCLITests",
            dependencies: [
                "SovereignCLI", "SovereignModel", "SovereignTesting", "SovereignFederation", "SovereignStorePostgres",
                "SovereignBase",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
    ]
)

for target in package.targets where target.type != .system {
    target.swiftSettings = (target.swiftSettings ?? []) + sharedSwiftSettings
}
