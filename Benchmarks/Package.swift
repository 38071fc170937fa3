// swift-tools-version:6.1
import PackageDescription

/// Benchmarks live in their own package so the product never depends on benchmark code.
/// Each executable measures a baseline in the same run and prints its numbers as ratios
/// against it (`make bench` runs them all).
let package = Package(
    name: "loadguard-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "loadguard", path: "../"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
    ],
    targets: [
        .executableTarget(
            name: "AllocationBenchmark",
            dependencies: [.product(name: "LoadGuardKit", package: "loadguard")]
        ),
        .executableTarget(
            name: "MeteringBenchmark",
            dependencies: [.product(name: "LoadGuardKit", package: "loadguard")]
        ),
        .executableTarget(
            name: "ProxyBenchmark",
            dependencies: [
                .product(name: "LoadGuardKit", package: "loadguard"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
            ]
        ),
    ]
)
