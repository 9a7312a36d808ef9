import Foundation

/// What tensor storage holds in memory (docs/architecture.md, "Memory"): read by the Lua
/// bridge to pace its collector, by tests and by `moonlab bench`.
public enum TensorMemory {
  /// Bytes of all live tensor storage in the process.
  public static var liveBytes: Int { StoragePool.live.load(ordering: .relaxed) }
  /// Bytes of freed blocks the pool keeps for reuse.
  public static var pooledBytes: Int { StoragePool.held }
  /// Blocks tensor storage took from the system (malloc or mmap) since the process
  /// started; the rest came from the pool. A steady-state training step adds none.
  public static var systemAllocations: Int { StoragePool.systemBlocks.load(ordering: .relaxed) }

  /// This machine's memory.
  public static let physicalBytes = Int(clamping: ProcessInfo.processInfo.physicalMemory)
  /// The tensor limit of a run without --memory-limit: three quarters of the machine's
  /// memory, leaving the rest to the Lua heap, the process and the system, so a script
  /// that keeps allocating gets a Lua error rather than the kernel's OOM killer (a whole
  /// machine's worth of tensors got the fuzzer killed). A run's limit
  /// (`RunContext.memoryLimitBytes`) is checked when a shape is validated, against the
  /// process's live bytes; `--memory-limit` covers tensors as well as the Lua heap.
  public static let defaultLimitBytes = physicalBytes / 4 * 3
}
