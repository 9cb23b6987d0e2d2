import Dispatch
import Synchronization

/// Runs `body` over consecutive ranges of `0..<count`, on up to `threads` threads.
///
/// Work is handed out dynamically in blocks of `blockSize`, so uneven blocks balance; each index
/// is processed by exactly one call, and callers compute each output from its own inputs only,
/// which makes results identical whatever the thread count.
enum Parallel {
    /// The default thread count: every active core.
    static var defaultThreads: Int { max(1, activeProcessorCount()) }

    static func forEachBlock(count: Int, blockSize: Int, threads: Int, _ body: @Sendable (Range<Int>) -> Void) {
        guard count > 0 else { return }
        let blocks = (count + blockSize - 1) / blockSize
        let workers = max(1, min(threads, blocks))
        if workers == 1 {
            body(0..<count)
            return
        }
        let next = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            while true {
                let block = next.wrappingAdd(1, ordering: .relaxed).oldValue
                guard block < blocks else { return }
                let start = block * blockSize
                body(start..<min(count, start + blockSize))
            }
        }
    }
}

extension Parallel {
    /// [body(0, row 0), …, body(m − 1, row m − 1)] for the rows of `matrix` (each a pointer to its
    /// d elements), on up to `threads` threads in blocks of `blockSize`: the pointer scaffolding of
    /// every per-query or per-point map in one place. Each element comes from one call, so the
    /// result does not depend on the thread count.
    ///
    /// - Complexity: O(m) calls of `body`.
    static func mapRows<T: Sendable>(of matrix: Matrix, blockSize: Int = 16, threads: Int, initial: T,
                                     _ body: @Sendable (_ index: Int, _ row: UnsafePointer<Double>) -> T) -> [T] {
        let m = matrix.rows, d = matrix.columns
        var result = [T](repeating: initial, count: m)
        result.withUnsafeMutableBufferPointer { out in
            let output = SharedOutput(base: out.baseAddress!)
            matrix.elements.withUnsafeBufferPointer { xs in
                let base = SharedOutput(base: UnsafeMutablePointer(mutating: xs.baseAddress!))
                forEachBlock(count: m, blockSize: blockSize, threads: threads) { range in
                    for i in range { output.base[i] = body(i, UnsafePointer(base.base + i * d)) }
                }
            }
        }
        return result
    }
}

#if canImport(Glibc)
import Glibc
private func activeProcessorCount() -> Int { Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))) }
#elseif canImport(Darwin)
import Darwin
private func activeProcessorCount() -> Int { Int(sysconf(_SC_NPROCESSORS_ONLN)) }
#else
private func activeProcessorCount() -> Int { 1 }
#endif

/// A buffer that concurrent workers write to at disjoint indices.
struct SharedOutput<Element>: @unchecked Sendable {
    let base: UnsafeMutablePointer<Element>
}
