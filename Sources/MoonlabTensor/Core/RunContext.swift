import CBLAS
import Foundation

/// The mutable state a run's numeric code reads: its seed and random streams, grad mode,
/// thread count, chunk size and tensor-memory cap. Each Lua host owns one and makes it
/// current on its thread while its Lua code runs, so two runs in one process (sweep
/// trials, a notebook, the kernel, tests) never share state by accident
/// (docs/architecture.md, "Run context"). Code outside any run reads a process default.
public final class RunContext {
  public internal(set) var seed: UInt64
  /// The default stream: `tensor.rand`, `tensor.randn`.
  public private(set) var random: Generator
  /// Named streams shared by all their consumers until the next `reseed`.
  var streams: [String: Generator] = [:]
  /// Grad mode; off inside `Autograd.noGrad`.
  public var gradEnabled = true
  /// Threads for our kernels (`moonlab run --threads`). OpenBLAS always runs on one: GEMMs
  /// are split over our threads instead (`Parallel.forChunks`, `parallelSgemm`).
  public var threads: Int {
    didSet { threads = max(1, threads) }
  }
  /// The least work (multiply-adds) worth a chunk of its own (see `batchChunks`).
  public var minimumChunkWork = 1 << 20
  /// The cap on live tensor bytes checked when a shape is validated (0 = none).
  public var memoryLimitBytes: Int

  public init(seed: UInt64 = 0, threads: Int = 1, memoryLimitBytes: Int = 0) {
    _ = RunContext.singleThreadedOpenBLAS
    self.seed = seed
    random = Generator(seed: seed, stream: "global")
    self.threads = max(1, threads)
    self.memoryLimitBytes = memoryLimitBytes
  }

  /// Starts every stream afresh from `seed` (`tensor.seed(n)`, `moonlab run --seed`).
  public func reseed(_ seed: UInt64) {
    self.seed = seed
    random = Generator(seed: seed, stream: "global")
    streams = [:]
  }

  /// The stream named `name` of this run's seed, shared by every consumer of that name
  /// (all initializers draw from "init", all dropout layers from "dropout"), so adding a
  /// transform never shifts the initial weights (docs/architecture.md, "Determinism").
  public func stream(_ name: String) -> Generator {
    if let g = streams[name] { return g }
    let g = Generator(seed: seed, stream: name)
    streams[name] = g
    return g
  }

  // MARK: The current context

  /// The context of the calling thread: the running host's, else the process default.
  public static var current: RunContext {
    guard let p = pthread_getspecific(key) else { return processDefault }
    return Unmanaged<RunContext>.fromOpaque(p).takeUnretainedValue()
  }

  /// Code outside any host: tests, `moonlab bench`'s Swift benchmarks. One thread.
  public static let processDefault = RunContext()
  /// The CPUs this process may use (Foundation's count, which honours a cgroup's quota),
  /// read once: each reading looks at the cgroup's files.
  public static let processorCount = ProcessInfo.processInfo.activeProcessorCount

  /// OpenBLAS on one thread, set once before any context exists: our kernels split GEMMs
  /// over the run's threads themselves. OpenBLAS's own idle threads spin (sched_yield)
  /// after each multi-threaded call and took a core from our pool on 2-core machines — an
  /// MLP step at batch 1024 on 2 threads ran 1.46× slower with them (docs/nn.md,
  /// "Performance").
  static let singleThreadedOpenBLAS: Void = openblas_set_num_threads(1)

  /// Runs `body` with this context current on the calling thread; the previous context
  /// comes back afterwards.
  public func activate<T>(_ body: () throws -> T) rethrows -> T {
    if RunContext.current === self { return try body() }
    return try RunContext.with(self, body)
  }

  /// Makes `context` current on this thread for `body`: also for the pool's worker
  /// threads, which run chunks of the caller's work.
  static func with<T>(_ context: RunContext, _ body: () throws -> T) rethrows -> T {
    let previous = pthread_getspecific(key)
    pthread_setspecific(key, Unmanaged.passUnretained(context).toOpaque())
    defer { pthread_setspecific(key, previous) }
    return try body()
  }

  private static let key: pthread_key_t = {
    var key = pthread_key_t()
    pthread_key_create(&key, nil)
    return key
  }()
}
