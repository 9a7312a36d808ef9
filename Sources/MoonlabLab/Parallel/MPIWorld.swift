import Foundation
import MPIShim
import MoonlabLua

/// The processes of a run started by `mpirun` (or `moonlab run --np N`, which starts
/// mpirun): this one's rank, how many there are, and the byte collectives data-parallel
/// training is built from (docs/scale-out.md, "Training across processes"). Open MPI is
/// loaded only here, so runs outside MPI never touch it.
final class MPIWorld {
  let rank: Int
  let size: Int
  /// Seconds a collective waits for the other ranks before the run stops with an error
  /// (MOONLAB_MPI_TIMEOUT, default 300; 0 = no limit). mpirun already stops every rank
  /// when one dies; this bounds the wait where nothing does: srun without
  /// --kill-on-bad-exit, or a rank whose script caught an error inside lab.fit (pcall) and
  /// went on without the others.
  let timeout: Double

  /// This process's world, made by the first call under MPI; nil outside MPI.
  nonisolated(unsafe) private(set) static var shared: MPIWorld?

  /// Whether mpirun started this process (Open MPI sets these for every rank it starts,
  /// srun with PMIx the second).
  static var launched: Bool {
    let env = ProcessInfo.processInfo.environment
    return env["OMPI_COMM_WORLD_SIZE"] != nil || env["PMIX_RANK"] != nil
  }

  /// The world of this process when it runs under MPI (MPI_Init on the first call).
  static func joined() throws -> MPIWorld? {
    if let shared { return shared }
    guard launched else { return nil }
    var (rank, size) = (Int32(0), Int32(0))
    var error = [CChar](repeating: 0, count: 1024)
    guard moonlab_mpi_init(&rank, &size, &error, error.count) == 0 else {
      throw LabError(String(cString: error))
    }
    let limit = ProcessInfo.processInfo.environment["MOONLAB_MPI_TIMEOUT"].flatMap(Double.init)
    shared = MPIWorld(rank: Int(rank), size: Int(size), timeout: max(0, limit ?? defaultTimeout))
    return shared
  }

  static let defaultTimeout = 300.0

  private init(rank: Int, size: Int, timeout: Double) {
    (self.rank, self.size, self.timeout) = (rank, size, timeout)
  }

  /// A collective's wait ends early when the run got SIGINT or SIGTERM (mpirun sends
  /// SIGTERM to the other ranks when one of them dies).
  private static let interrupted: moonlab_mpi_interrupted = { Interrupts.pending != nil ? 1 : 0 }

  private func check(_ status: Int32, _ what: String) throws {
    switch status {
    case 0: return
    case 1:
      let signal = Interrupts.pending == SIGINT ? "SIGINT (Ctrl-C)" : "SIGTERM"
      throw LuaError(
        "interrupted by \(signal) while rank \(rank) waited for the other ranks (\(what)); mpirun stops every rank when one of them ends early"
      )
    case 2:
      throw LuaError(
        "rank \(rank) of \(size) waited \(timeout) s for the other ranks (\(what), MOONLAB_MPI_TIMEOUT): one of them died or hangs"
      )
    default:
      throw LuaError(
        "MPI \(what) failed on rank \(rank) of \(size) (Open MPI's messages above say why)")
    }
  }

  /// Block r of `send` (`bytes` each) goes to rank r; block r of `recv` comes from rank r.
  func alltoall(_ send: UnsafeRawPointer, _ recv: UnsafeMutableRawPointer, bytes: Int) throws {
    try check(moonlab_mpi_alltoall(send, recv, bytes, timeout, Self.interrupted), "alltoall")
  }

  /// Every rank's `bytes` of `send`, in rank order, into `recv`.
  func allgather(_ send: UnsafeRawPointer, _ recv: UnsafeMutableRawPointer, bytes: Int) throws {
    try check(moonlab_mpi_allgather(send, recv, bytes, timeout, Self.interrupted), "allgather")
  }

  /// Every rank's values, in rank order (each rank gives the same count).
  func allgather<T: BitwiseCopyable>(_ values: [T]) throws -> [T] {
    var all = [T](unsafeUninitializedCapacity: values.count * size) { buffer, count in
      count = values.count * size
    }
    try values.withUnsafeBytes { send in
      try all.withUnsafeMutableBytes { recv in
        try allgather(send.baseAddress!, recv.baseAddress!, bytes: send.count)
      }
    }
    return all
  }

  /// Every rank's bytes, in rank order, each rank giving any number.
  func allgather(bytes: [UInt8]) throws -> [[UInt8]] {
    let counts = try allgather([Int32(bytes.count)])
    let offsets = counts.indices.map { Int32(counts[..<$0].reduce(0) { $0 + Int($1) }) }
    let total = counts.reduce(0) { $0 + Int($1) }
    var all = [UInt8](repeating: 0, count: max(total, 1))
    try bytes.withUnsafeBytes { send in
      try all.withUnsafeMutableBytes { recv in
        try check(
          moonlab_mpi_allgatherv(
            send.baseAddress ?? UnsafeRawPointer(recv.baseAddress!), Int32(send.count),
            recv.baseAddress!, counts, offsets, timeout, Self.interrupted), "allgatherv")
      }
    }
    return counts.indices.map { Array(all[Int(offsets[$0])..<Int(offsets[$0] + counts[$0])]) }
  }

  /// Rank `root`'s `bytes` at `buffer` into every rank's `buffer`.
  func broadcast(_ buffer: UnsafeMutableRawPointer, bytes: Int, root: Int = 0) throws {
    try check(
      moonlab_mpi_bcast(buffer, bytes, Int32(root), timeout, Self.interrupted), "broadcast")
  }

  /// MPI_Finalize at the end of a run that went well; a failed rank exits without it, which
  /// mpirun reports and answers by stopping the others.
  static func finalize() {
    if shared != nil { moonlab_mpi_finalize() }
  }
}
