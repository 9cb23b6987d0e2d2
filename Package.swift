// swift-tools-version: 6.1
import PackageDescription

/// Release builds target this machine's CPU family so the engine's SIMD code uses its full width
/// (AVX-512 on the Zen 4 machines we benchmark on). Set NW_PORTABLE=1 to build for baseline x86-64.
let cpuFlags: [SwiftSetting] = {
    #if arch(x86_64)
    if Context.environment["NW_PORTABLE"] == nil {
        return [.unsafeFlags(["-Xcc", "-march=native", "-target-cpu", "native"], .when(configuration: .release))]
    }
    #endif
    return []
}()

let package = Package(
    name: "nw",
    products: [
        .library(name: "NadarayaWatson", targets: ["NadarayaWatson"]),
        .library(name: "NWPlot", targets: ["NWPlot"]),
        .executable(name: "nw", targets: ["nw"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-numerics", from: "1.0.0"),
    ],
    targets: [
        // The mathematics: kernels, bandwidths, engines. No CLI, CSV or printing.
        .target(
            name: "NadarayaWatson",
            dependencies: [.product(name: "RealModule", package: "swift-numerics")],
            swiftSettings: cpuFlags
        ),
        // Line, scatter and heatmap figures as deterministic SVG. No dependencies at all.
        .target(name: "NWPlot"),
        // The command-line logic (CSV, jobs, errors, figures), kept out of the executable so tests reach it.
        .target(
            name: "NWCommandLine",
            dependencies: ["NadarayaWatson", "NWPlot"],
            swiftSettings: cpuFlags
        ),
        // The thin `nw` executable: argument parsing, one file per subcommand.
        .executableTarget(
            name: "nw",
            dependencies: [
                "NWCommandLine",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(
            name: "NadarayaWatsonTests",
            dependencies: ["NadarayaWatson"]
        ),
        .testTarget(
            name: "NWPlotTests",
            dependencies: ["NWPlot"],
            exclude: ["Snapshots"]
        ),
        .testTarget(
            name: "NWCommandLineTests",
            dependencies: ["NWCommandLine", "nw"],
            exclude: ["Snapshots"],
            resources: [.copy("Fixtures")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
