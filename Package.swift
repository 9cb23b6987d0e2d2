// swift-tools-version: 6.1
import PackageDescription
import Foundation

/// The default build is portable and has no unsafe flags, so that other packages can depend on
/// this one by version (SwiftPM refuses unsafe flags in a versioned dependency). The engines'
/// SIMD code wants the CPU's full width and its fused multiply-add: build releases with
/// `NW_TARGET_CPU=native` (this machine: AVX-512 or AVX2 + FMA) or `NW_TARGET_CPU=x86-64-v3`
/// (any AVX2 + FMA CPU; `scripts/build-portable.sh`) for full speed.
let cpuFlags: [SwiftSetting] = {
    guard let cpu = Context.environment["NW_TARGET_CPU"], !cpu.isEmpty else { return [] }
    // Swift's code generation takes its CPU features from the clang importer's -march; a
    // micro-architecture level (x86-64-v3) exists only there, a named CPU also in -target-cpu.
    let level = cpu.hasPrefix("x86-64-v")
    return [.unsafeFlags(["-Xcc", "-march=\(cpu)"] + (level ? [] : ["-target-cpu", cpu]), .when(configuration: .release))]
        + (targetHasAVX512(cpu) ? [.define("NW_AVX512", .when(configuration: .release))] : [])
}()

/// Whether the release target has 32 vector registers (AVX-512), for the engines' register
/// blocks: `x86-64-v4`, or `native` on a CPU whose /proc/cpuinfo lists avx512f. (Swift's `#if`
/// cannot test target features, so the manifest passes one define; the default build has none.)
func targetHasAVX512(_ cpu: String) -> Bool {
    if cpu == "x86-64-v4" { return true }
    guard cpu == "native", let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return false }
    return info.contains(" avx512f")
}

let package = Package(
    name: "nw",
    // Declared honestly: the engines use InlineArray and value generics (the Swift 6.2 runtime,
    // macOS 26) and Synchronization's Mutex (macOS 15). Tested on Linux only.
    platforms: [.macOS("26.0")],
    products: [
        .library(name: "NadarayaWatson", targets: ["NadarayaWatson"]),
        .library(name: "NWPlot", targets: ["NWPlot"]),
        // The C ABI (`nw_*` functions) the Python package loads with ctypes.
        .library(name: "NWBridge", type: .dynamic, targets: ["NWBridge"]),
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
        // The C ABI over the library: plain C types in, status and message out. No state.
        .target(
            name: "NWBridge",
            dependencies: ["NadarayaWatson"],
            swiftSettings: cpuFlags
        ),
        // The command-line logic (CSV, jobs, errors, figures), kept out of the executable so tests reach it.
        .target(
            name: "NWCommandLine",
            dependencies: ["NadarayaWatson", "NWPlot"],
            swiftSettings: cpuFlags
        ),
        // Argument parsing, one file per subcommand, and the one-line error rule.
        .target(
            name: "NWCommands",
            dependencies: [
                "NWCommandLine",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // The thin `nw` executable.
        .executableTarget(name: "nw", dependencies: ["NWCommands"]),
        // The fuzzing target (libFuzzer with -DNW_LIBFUZZER, scripts/fuzz.sh; else a corpus replay).
        .executableTarget(name: "NWFuzz", dependencies: ["NWCommands"]),
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
            dependencies: ["NWCommandLine", "NWCommands", "nw"],
            exclude: ["Snapshots"],
            resources: [.copy("Fixtures")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
