// swift-tools-version: 6.1
import PackageDescription

// Benchmarks of the engines (ordo-one/package-benchmark): throughput in query–key pairs per
// second, peak memory and allocations. Kept out of the main package so `swift test` stays fast.
//
//     cd Benchmarks && swift package benchmark
//     swift package benchmark --filter 'gaussian.*d=1'
/// The root package's identity is its checkout folder's name.
let rootIdentity = String(Context.packageDirectory.split(separator: "/").dropLast().last ?? "nw")

let package = Package(
    name: "Benchmarks",
    platforms: [.macOS(.v13)],
    dependencies: [
        .package(path: ".."),
        .package(url: "https://github.com/ordo-one/package-benchmark", from: "1.38.0", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "NWBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "package-benchmark"),
                .product(name: "NadarayaWatson", package: rootIdentity),
            ],
            path: "Benchmarks/NWBenchmarks",
            swiftSettings: [.unsafeFlags(["-Xcc", "-march=native", "-target-cpu", "native"])],
            plugins: [.plugin(name: "BenchmarkPlugin", package: "package-benchmark")]
        ),
    ]
)
