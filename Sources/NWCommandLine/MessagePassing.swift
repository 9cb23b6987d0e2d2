#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NadarayaWatson

// Legend: P ranks (processes), r this rank, M doubles per reduced record.
//
// Implementation goals, in order of priority:
// 1. The package builds, tests and runs without MPI: Open MPI is loaded at run time (dlopen of
//    libmpi.so.40, its handles read with dlsym), only when `nw` runs under `mpirun`.
// 2. Exact and deterministic: moment states are reduced by a custom operation declared
//    non-commutative, so MPI combines them in rank order and the bits do not depend on the
//    reduction tree; records are a contiguous datatype, so no segmentation splits a state.
// 3. No rank hangs on another's failure: every phase ends in a collective check (`agree`) that
//    carries the first failing rank's one-line error to rank 0.

/// A running MPI job (Open MPI), reached through the C API loaded at run time.
///
/// `nw` uses it when started by `mpirun` (Open MPI sets `OMPI_COMM_WORLD_SIZE`); every other
/// run is one process and never loads MPI.
public final class Cluster: @unchecked Sendable {
    public let rank: Int
    public let size: Int

    /// The job this process belongs to, or nil when it was not started by `mpirun`.
    ///
    /// - Throws: ``CommandLineError`` when `mpirun` started it but Open MPI's library cannot be
    ///   loaded or initialised.
    public static func current() throws -> Cluster? {
        guard let text = getenv("OMPI_COMM_WORLD_SIZE"), Int(String(cString: text)) != nil else { return nil }
        if let shared { return shared }
        let cluster = try Cluster()
        shared = cluster
        return cluster
    }

    nonisolated(unsafe) private static var shared: Cluster?

    /// The job if this process has started MPI (nil before ``current()`` ran, or outside mpirun).
    public static var started: Cluster? { shared }

    /// This process's rank as mpirun set it (0 outside mpirun), readable before MPI starts: only
    /// rank 0 prints errors.
    public static var launchRank: Int {
        getenv("OMPI_COMM_WORLD_RANK").flatMap { Int(String(cString: $0)) } ?? 0
    }

    /// Throws for a command that runs as one process only, when started by mpirun.
    public static func requireOneProcess(_ command: String) throws {
        guard getenv("OMPI_COMM_WORLD_SIZE") != nil else { return }
        throw CommandLineError("\(command) runs as one process: start it without mpirun (mpirun runs nw predict, nw bandwidth and nw density)",
                               status: .usage)
    }

    // The C API: MPI_Comm, MPI_Datatype and MPI_Op are pointers in Open MPI.
    typealias Handle = UnsafeMutableRawPointer
    typealias UserFunction = @convention(c) (UnsafeMutableRawPointer?, UnsafeMutableRawPointer?,
                                             UnsafeMutablePointer<Int32>?, UnsafeMutablePointer<Handle?>?) -> Void
    private let world: Handle, double: Handle, byte: Handle, int64: Handle, sum: Handle, max: Handle
    private let allreduceFunction: @convention(c) (UnsafeRawPointer?, UnsafeMutableRawPointer?, Int32, Handle?, Handle?, Handle?) -> Int32
    private let reduceFunction: @convention(c) (UnsafeRawPointer?, UnsafeMutableRawPointer?, Int32, Handle?, Handle?, Int32, Handle?) -> Int32
    private let bcastFunction: @convention(c) (UnsafeMutableRawPointer?, Int32, Handle?, Int32, Handle?) -> Int32
    private let allgatherFunction: @convention(c) (UnsafeRawPointer?, Int32, Handle?, UnsafeMutableRawPointer?, Int32, Handle?, Handle?) -> Int32
    private let typeContiguous: @convention(c) (Int32, Handle?, UnsafeMutablePointer<Handle?>?) -> Int32
    private let typeCommit: @convention(c) (UnsafeMutablePointer<Handle?>?) -> Int32
    private let typeFree: @convention(c) (UnsafeMutablePointer<Handle?>?) -> Int32
    private let opCreate: @convention(c) (UserFunction?, Int32, UnsafeMutablePointer<Handle?>?) -> Int32
    private let finalizeFunction: @convention(c) () -> Int32
    private let abortFunction: @convention(c) (Handle?, Int32) -> Int32
    /// The merge of moment states (non-commutative: applied in rank order).
    private var mergeOperation: Handle?

    private init() throws {
        func fail(_ why: String) -> CommandLineError {
            CommandLineError("started by mpirun, but \(why) (install Open MPI: apt-get install openmpi-bin libopenmpi-dev)")
        }
        guard let library = dlopen("libmpi.so.40", RTLD_NOW | RTLD_GLOBAL) ?? dlopen("libmpi.so", RTLD_NOW | RTLD_GLOBAL) else {
            throw fail("Open MPI's libmpi.so.40 cannot be loaded: \(String(cString: dlerror()))")
        }
        func symbol(_ name: String) throws -> Handle {
            guard let address = dlsym(library, name) else { throw fail("libmpi has no symbol \(name): not Open MPI") }
            return address
        }
        func function<F>(_ name: String, as type: F.Type) throws -> F { unsafeBitCast(try symbol(name), to: type) }
        world = try symbol("ompi_mpi_comm_world")
        double = try symbol("ompi_mpi_double")
        byte = try symbol("ompi_mpi_byte")
        int64 = try symbol("ompi_mpi_int64_t")
        sum = try symbol("ompi_mpi_op_sum")
        max = try symbol("ompi_mpi_op_max")
        allreduceFunction = try function("MPI_Allreduce", as: type(of: allreduceFunction))
        reduceFunction = try function("MPI_Reduce", as: type(of: reduceFunction))
        bcastFunction = try function("MPI_Bcast", as: type(of: bcastFunction))
        allgatherFunction = try function("MPI_Allgather", as: type(of: allgatherFunction))
        typeContiguous = try function("MPI_Type_contiguous", as: type(of: typeContiguous))
        typeCommit = try function("MPI_Type_commit", as: type(of: typeCommit))
        typeFree = try function("MPI_Type_free", as: type(of: typeFree))
        opCreate = try function("MPI_Op_create", as: type(of: opCreate))
        finalizeFunction = try function("MPI_Finalize", as: type(of: finalizeFunction))
        abortFunction = try function("MPI_Abort", as: type(of: abortFunction))
        let initialize = try function("MPI_Init", as: (@convention(c) (UnsafeMutableRawPointer?, UnsafeMutableRawPointer?) -> Int32).self)
        let commRank = try function("MPI_Comm_rank", as: (@convention(c) (Handle?, UnsafeMutablePointer<Int32>?) -> Int32).self)
        let commSize = try function("MPI_Comm_size", as: (@convention(c) (Handle?, UnsafeMutablePointer<Int32>?) -> Int32).self)
        guard initialize(nil, nil) == 0 else { throw fail("MPI_Init failed") }
        var r: Int32 = 0, s: Int32 = 0
        _ = commRank(world, &r)
        _ = commSize(world, &s)
        (rank, size) = (Int(r), Int(s))
        var op: Handle?
        guard opCreate(Cluster.mergeRecords, 0, &op) == 0 else { throw fail("MPI_Op_create failed") }
        mergeOperation = op
    }

    /// Ends the job's use of MPI (every rank calls it once, before exiting).
    public func finalize() { _ = finalizeFunction() }

    /// Ends every rank at once with `status` (for a failure outside the collective checks).
    public func abort(_ status: Int32) -> Never {
        _ = abortFunction(world, status)
        exit(status)
    }

    // MARK: - Collectives

    /// Σ (or max) over ranks, element-wise, on every rank — bit for bit the same everywhere (rank
    /// 0's result is broadcast: an allreduce may add in a different order on each rank, and
    /// every rank must take the same branches after it).
    public func allSum(_ values: [Double]) -> [Double] { allreduce(values, type: double, op: sum) }
    public func allMax(_ values: [Double]) -> [Double] { allreduce(values, type: double, op: max) }
    public func allSum(_ values: [Int64]) -> [Int64] { allreduce(values, type: int64, op: sum) }

    private func allreduce<T: Numeric>(_ values: [T], type: Handle, op: Handle) -> [T] {
        var out = [T](repeating: 0, count: values.count)
        guard !values.isEmpty else { return out }
        values.withUnsafeBytes { send in
            out.withUnsafeMutableBytes { _ = allreduceFunction(send.baseAddress, $0.baseAddress, Int32(values.count), type, op, world) }
        }
        out.withUnsafeMutableBytes { _ = bcastFunction($0.baseAddress, Int32(values.count), type, 0, world) }
        return out
    }

    /// Every rank's `values` (the same count on each), concatenated in rank order, on every rank.
    public func allGather(_ values: [Int64]) -> [Int64] {
        var out = [Int64](repeating: 0, count: values.count * size)
        values.withUnsafeBytes { send in
            out.withUnsafeMutableBytes {
                _ = allgatherFunction(send.baseAddress, Int32(values.count), int64, $0.baseAddress, Int32(values.count), int64, world)
            }
        }
        return out
    }

    /// Rank `root`'s bytes on every rank.
    public func broadcast(_ bytes: [UInt8], root: Int = 0) -> [UInt8] {
        var count = [Int64(bytes.count)]
        count.withUnsafeMutableBytes { _ = bcastFunction($0.baseAddress, 1, int64, Int32(root), world) }
        var buffer = rank == root ? bytes : [UInt8](repeating: 0, count: Int(count[0]))
        var offset = 0
        while offset < buffer.count {
            let chunk = Swift.min(buffer.count - offset, 1 << 30)
            buffer.withUnsafeMutableBytes { _ = bcastFunction($0.baseAddress! + offset, Int32(chunk), byte, Int32(root), world) }
            offset += chunk
        }
        return buffer
    }

    /// Rank `root`'s doubles on every rank, bit for bit.
    public func broadcast(_ values: [Double], root: Int = 0) -> [Double] {
        let bytes = broadcast(values.withUnsafeBytes { Array($0) }, root: root)
        return bytes.withUnsafeBytes { Array($0.bindMemory(to: Double.self)) }
    }

    /// Every rank's text, in rank order, on every rank.
    public func allGather(_ text: String) -> [String] {
        let bytes = Array(text.utf8)
        let lengths = allGather([Int64(bytes.count)])
        let width = Int(lengths.max() ?? 0)
        var padded = bytes + [UInt8](repeating: 0, count: width - bytes.count)
        var out = [UInt8](repeating: 0, count: width * size)
        if width > 0 {
            padded.withUnsafeMutableBytes { send in
                out.withUnsafeMutableBytes {
                    _ = allgatherFunction(send.baseAddress, Int32(width), byte, $0.baseAddress, Int32(width), byte, world)
                }
            }
        }
        return (0..<size).map { r in String(decoding: out[(r * width)..<(r * width + Int(lengths[r]))], as: UTF8.self) }
    }

    /// The merge ⊕ of every rank's states, query by query, in rank order, on rank 0 (the other
    /// ranks get their own states back). Each state is [shift, S₀, …, S_{M−2}].
    ///
    /// - Parameters:
    ///   - records: `count` records of `width` doubles each, row-major.
    /// - Complexity: O(count · width · log P) communication.
    public func reduceStates(_ records: [Double], width: Int, root: Int = 0) -> [Double] {
        let count = records.count / Swift.max(width, 1)
        guard count > 0 else { return records }
        var recordType: Handle?
        _ = typeContiguous(Int32(width), double, &recordType)
        _ = typeCommit(&recordType)
        defer { _ = typeFree(&recordType) }
        var out = records
        // Chunks of at most 2³¹ − 1 records (the count is an int).
        var start = 0
        while start < count {
            let chunk = Swift.min(count - start, 1 << 24)
            records.withUnsafeBytes { send in
                out.withUnsafeMutableBytes {
                    _ = reduceFunction(send.baseAddress! + start * width * 8, $0.baseAddress! + start * width * 8, Int32(chunk),
                                       recordType, mergeOperation, Int32(root), world)
                }
            }
            start += chunk
        }
        return out
    }

    /// inout[k] = in[k] ⊕ inout[k] for each record: (a, S) ⊕ (b, T) = (c, S·e^{a−c} + T·e^{b−c}).
    /// MPI passes the lower rank's records as `in` for a non-commutative operation.
    private static let mergeRecords: UserFunction = { input, accumulated, length, datatype in
        guard let input, let accumulated, let length, let datatype else { return }
        var bytes: Int32 = 0
        _ = typeSize?(datatype.pointee, &bytes)
        mergeRecords(input.assumingMemoryBound(to: Double.self), into: accumulated.assumingMemoryBound(to: Double.self),
                     count: Int(length.pointee), width: Int(bytes) / 8)
    }

    /// b[k] = a[k] ⊕ b[k] for `count` records of `width` doubles ([shift, sums…]):
    /// ``MomentState/merge(_:_:)``'s arithmetic in place, so the same bits as merging the states.
    static func mergeRecords(_ a: UnsafePointer<Double>, into b: UnsafeMutablePointer<Double>, count: Int, width: Int) {
        for k in 0..<count {
            let x = a + k * width, y = b + k * width
            if x[0] == -.infinity { continue }
            if y[0] == -.infinity {
                for j in 0..<width { y[j] = x[j] }
                continue
            }
            let shift = Swift.max(x[0], y[0])
            let fx = Double.exp(x[0] - shift), fy = Double.exp(y[0] - shift)
            y[0] = shift
            for j in 1..<width { y[j] = x[j] * fx + y[j] * fy }
        }
    }

    /// MPI_Type_size, read once the library is loaded (the user function is a C callback).
    nonisolated(unsafe) private static var typeSize: (@convention(c) (Handle?, UnsafeMutablePointer<Int32>?) -> Int32)? = {
        guard let library = dlopen("libmpi.so.40", RTLD_NOW | RTLD_NOLOAD) ?? dlopen("libmpi.so", RTLD_NOW | RTLD_NOLOAD),
              let address = dlsym(library, "MPI_Type_size") else { return nil }
        return unsafeBitCast(address, to: (@convention(c) (Handle?, UnsafeMutablePointer<Int32>?) -> Int32).self)
    }()

    // MARK: - Agreement on failures

    /// Runs `body` on every rank, then checks collectively whether some rank failed. If one did,
    /// rank 0 throws the first failing rank's error (ranks in order: the shards in file order)
    /// and every other rank throws a silent error with the same status; so every rank leaves the
    /// phase together and exactly one line is printed.
    public func agree<T>(_ body: () throws -> T) throws -> T {
        var result: T?
        var failure: CommandLineError?
        do {
            result = try body()
        } catch let error as CommandLineError {
            failure = error
        } catch {
            failure = CommandLineError("\(error)")
        }
        let statuses = allGather([Int64(failure?.status.rawValue ?? 0)])
        guard let first = statuses.firstIndex(where: { $0 != 0 }) else { return result! }
        let messages = allGather(first == rank ? failure!.message : "")
        let status = ExitStatus(rawValue: Int32(statuses[first])) ?? .failure
        if rank == 0 { throw CommandLineError(messages[first], status: status) }
        throw CommandLineError.silent(status)
    }
}

extension CommandLineError {
    /// An error another rank reports: this rank exits with its status and prints nothing.
    public static func silent(_ status: ExitStatus) -> CommandLineError { CommandLineError("", status: status) }

    /// Whether nothing is to be printed (``silent(_:)``).
    public var isSilent: Bool { message.isEmpty }
}
