// swift-tools-version:6.1
import PackageDescription

/// Strictness shared by every target: Swift 6 language mode (set by the tools version),
/// explicit existentials, and imports that do not leak by default.
let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "loadguard",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "loadguard", targets: ["loadguard"]),
        // Every library module, for the benchmarks package.
        .library(
            name: "LoadGuardKit",
            targets: ["Hardware", "Metering", "Allocation", "OCPP", "OCPPProxy", "LoadGuard"]
        ),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.1"),
    ],
    targets: [
        // C system libraries from Debian's -dev packages (installed by `make`).
        .systemLibrary(name: "CIIO", pkgConfig: "libiio", providers: [.apt(["libiio-dev"])]),
        .systemLibrary(name: "CGPIOD", pkgConfig: "libgpiod", providers: [.apt(["libgpiod-dev"])]),
        .systemLibrary(name: "CMosquitto", pkgConfig: "libmosquitto", providers: [.apt(["libmosquitto-dev"])]),

        // Edges to the hardware: sample sources and digital inputs.
        .target(
            name: "Hardware",
            dependencies: [
                "CIIO", "CGPIOD",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // Pure core: samples in, calibrated readings and energy registers out.
        .target(name: "Metering", dependencies: ["Hardware"], swiftSettings: strict),
        // Pure core: site state in, per-charger limits out.
        .target(name: "Allocation", swiftSettings: strict),
        // Pure core: OCPP-J framing, messages, protocol state machines.
        .target(name: "OCPP", swiftSettings: strict),
        // Edge: the charger-facing WebSocket server and the CSMS-facing client.
        .target(
            name: "OCPPProxy",
            dependencies: [
                "OCPP",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "DequeModule", package: "swift-collections"),
            ],
            swiftSettings: strict
        ),
        // Composition: config, the site controller, services.
        .target(
            name: "LoadGuard",
            dependencies: [
                "Hardware", "Metering", "Allocation", "OCPP", "OCPPProxy",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            resources: [.copy("Resources/openapi.json")],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "loadguard",
            dependencies: [
                "LoadGuard", "Hardware", "Metering", "Allocation", "OCPP", "OCPPProxy",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: strict
        ),

        // Opens the iio sample source inside the HardwareTests sandbox (Tests/HardwareTests/Scripts).
        .executableTarget(
            name: "HardwareProbe",
            dependencies: ["Hardware", .product(name: "Logging", package: "swift-log")],
            path: "Tests/HardwareProbe",
            swiftSettings: strict
        ),
        .testTarget(
            name: "HardwareTests",
            dependencies: ["Hardware", "HardwareProbe", .product(name: "Logging", package: "swift-log")],
            exclude: ["Scripts"],
            swiftSettings: strict
        ),
        .testTarget(name: "MeteringTests", dependencies: ["Metering", "Hardware"], swiftSettings: strict),
        .testTarget(
            name: "AllocationTests",
            dependencies: ["Allocation", .product(name: "PropertyBased", package: "swift-property-based")],
            swiftSettings: strict
        ),
        .testTarget(name: "OCPPTests", dependencies: ["OCPP"], swiftSettings: strict),
        .testTarget(
            name: "OCPPProxyTests",
            dependencies: [
                "OCPPProxy", "OCPP",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "LoadGuardTests",
            dependencies: [
                "LoadGuard", "OCPPProxy", "OCPP", "Allocation", "Metering", "Hardware",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Hummingbird", package: "hummingbird"),
            ],
            swiftSettings: strict
        ),
    ]
)
