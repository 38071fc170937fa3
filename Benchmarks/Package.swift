// swift-tools-version:6.1
import PackageDescription

/// Benchmarks live in their own package so the product never depends on benchmark code.
/// Each executable measures a baseline in the same run and prints its numbers as ratios
/// against it (`make bench` runs them all).
let package = Package(
    name: "loadguard-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: "../")
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
            dependencies: [.product(name: "LoadGuardKit", package: "loadguard")]
        ),
    ]
)
