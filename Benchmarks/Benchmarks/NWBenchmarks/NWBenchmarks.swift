import Benchmark
import NadarayaWatson

// Legend: n keys, m queries, d features. Throughput is reported per second of query–key pairs
// (the scaling factor is n·m, so "throughput" reads directly as pairs per second).

/// Uniform keys and queries in [0, 5)^d and y = 2 sin x₁ + x₁ + noise, from a fixed seed.
func data(n: Int, m: Int, d: Int) -> (keys: Matrix, values: Matrix, queries: Matrix) {
    var state: UInt64 = 0x9E37_79B9_7F4A_7C15 &* UInt64(n &+ 31 &* d)
    func next() -> Double {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Double(state >> 11) / Double(1 << 53)
    }
    let keys = Matrix(rows: n, columns: d, elements: (0..<n * d).map { _ in 5 * next() })
    let values = Matrix(column: (0..<n).map { i in 2 * sin5(keys[i, 0]) + keys[i, 0] + (next() - 0.5) })
    let queries = Matrix(rows: m, columns: d, elements: (0..<m * d).map { _ in 5 * next() })
    return (keys, values, queries)
}

/// sin without Foundation, adequate for synthetic targets.
func sin5(_ x: Double) -> Double {
    var term = x, sum = x
    for k in 1..<12 { term *= -x * x / Double((2 * k) * (2 * k + 1)); sum += term }
    return sum
}

let benchmarks: @Sendable () -> Void = {
    let metrics: [BenchmarkMetric] = [.wallClock, .throughput, .peakMemoryResident, .mallocCountTotal]
    for d in [1, 4, 16] {
        for size in [1_000, 10_000, 100_000] {
            let strategies: [(String, EvaluationStrategy, Precision)] =
                size <= 10_000
                ? [("reference", .reference, .double), ("streaming", .streaming, .double),
                   ("vectorized", .vectorized, .double), ("vectorized-single", .vectorized, .single)]
                : [("vectorized", .vectorized, .double), ("vectorized-single", .vectorized, .single)]
            for (name, strategy, precision) in strategies {
                let pairs = size * size
                Benchmark("gaussian \(name) n=m=\(size) d=\(d)",
                          configuration: .init(metrics: metrics, timeUnits: .milliseconds,
                                               maxDuration: .seconds(20), maxIterations: size >= 100_000 ? 3 : 10)) { benchmark in
                    let (keys, values, queries) = data(n: size, m: size, d: d)
                    let model = try NadarayaWatsonRegressor(kernel: .gaussian, bandwidth: .width(0.5), strategy: strategy, precision: precision)
                        .fit(keys: keys, values: values)
                    benchmark.startMeasurement()
                    for _ in benchmark.scaledIterations {
                        blackHole(try model.predict(queries))
                    }
                    benchmark.stopMeasurement()
                    _ = pairs
                }
            }
        }
    }
    // Compact kernel through the index: 1-D, about 100 keys in each support.
    for (name, strategy) in [("indexed", EvaluationStrategy.indexed), ("dense", .vectorized)] {
        let n = name == "indexed" ? 1_000_000 : 100_000
        Benchmark("epanechnikov \(name) n=m=\(n) d=1 (~100 keys per support)",
                  configuration: .init(metrics: metrics, timeUnits: .milliseconds, maxDuration: .seconds(20), maxIterations: 3)) { benchmark in
            var (keys, values, queries) = data(n: n, m: n, d: 1)
            keys.elements = keys.elements.map { $0 * Double(n) / 500 }      // density 100 per unit width
            queries.elements = queries.elements.map { $0 * Double(n) / 500 }
            let model = try NadarayaWatsonRegressor(kernel: .epanechnikov, bandwidth: .width(0.5), strategy: strategy)
                .fit(keys: keys, values: values)
            benchmark.startMeasurement()
            blackHole(try model.predict(queries))
            benchmark.stopMeasurement()
        }
    }
    // The smooth kernels' SIMD engine.
    for kernel in [Kernel.logistic, .cauchy, .laplacian] {
        for d in [1, 16] {
            Benchmark("\(kernel.rawValue) vectorized n=m=10000 d=\(d)",
                      configuration: .init(metrics: metrics, timeUnits: .milliseconds, maxDuration: .seconds(20), maxIterations: 10)) { benchmark in
                let (keys, values, queries) = data(n: 10_000, m: 10_000, d: d)
                let model = try NadarayaWatsonRegressor(kernel: kernel, bandwidth: .width(0.5)).fit(keys: keys, values: values)
                benchmark.startMeasurement()
                blackHole(try model.predict(queries))
                benchmark.stopMeasurement()
            }
        }
    }
    // Leave-one-out cross-validation, the whole global search (issue targets: ≤ 1 s and ≤ 5 s).
    for d in [1, 4] {
        Benchmark("cv select gaussian n=10000 d=\(d)",
                  configuration: .init(metrics: [.wallClock, .peakMemoryResident], timeUnits: .milliseconds,
                                       maxDuration: .seconds(30), maxIterations: 3)) { benchmark in
            let (keys, values, _) = data(n: 10_000, m: 1, d: d)
            benchmark.startMeasurement()
            blackHole(try CrossValidation().select(keys: keys, targets: values.elements))
            benchmark.stopMeasurement()
        }
    }
    // CV over tied keys: 3,000 rows on 61 integer ages (Wage-like; target ≤ 50 ms whole process).
    for degree in [0, 1] {
        Benchmark("cv select tied keys n=3000 distinct=61 degree=\(degree)",
                  configuration: .init(metrics: [.wallClock], timeUnits: .milliseconds, maxDuration: .seconds(10), maxIterations: 20)) { benchmark in
            var rng = SplitMix64(seed: 7)
            let ages = (0..<3000).map { _ in Double(18 + rng.next() % 61) }
            let wages = ages.map { 50 + 2.5 * $0 - 0.025 * $0 * $0 + 30 * (rng.nextUniform() - 0.5) }
            benchmark.startMeasurement()
            blackHole(try CrossValidation(degree: degree).select(keys: Matrix(column: ages), targets: wages))
            benchmark.stopMeasurement()
        }
    }
    // The wild bootstrap's band against the asymptotic interval (target ≤ 3×, with σ̂ in both).
    for resamples in [0, 999] {
        Benchmark("interval n=10000 m=1000 bootstrap=\(resamples)",
                  configuration: .init(metrics: [.wallClock], timeUnits: .milliseconds, maxDuration: .seconds(20), maxIterations: 5)) { benchmark in
            let (keys, values, _) = data(n: 10_000, m: 1, d: 1)
            let queries = Matrix(column: (0..<1000).map { 5 * Double($0) / 1000 })
            let model = try LocalPolynomialRegressor(bandwidth: .width(0.05)).fit(keys: keys, targets: values.elements)
            benchmark.startMeasurement()
            let noise = try model.noise()
            if resamples == 0 {
                blackHole(try model.confidenceInterval(queries, level: 0.95, noise: noise))
            } else {
                blackHole(try model.bootstrapBand(queries, level: 0.95, bootstrap: WildBootstrap(resamples: resamples), noise: noise))
            }
            benchmark.stopMeasurement()
        }
    }
    // Parzen density, Gaussian (SIMD log-sum) and epanechnikov.
    for kernel in [Kernel.gaussian, .epanechnikov] {
        Benchmark("density \(kernel.rawValue) n=m=10000 d=2",
                  configuration: .init(metrics: metrics, timeUnits: .milliseconds, maxDuration: .seconds(20), maxIterations: 10)) { benchmark in
            let (keys, _, queries) = data(n: 10_000, m: 10_000, d: 2)
            let kde = try ParzenDensity(kernel: kernel, bandwidth: .width(0.3)).fit(samples: keys)
            benchmark.startMeasurement()
            blackHole(try kde.density(queries))
            benchmark.stopMeasurement()
        }
    }
}
