/// What tensor storage holds in memory (docs/architecture.md, "Memory"): read by the Lua
/// bridge to pace its collector, by tests and by `moonlab bench`.
public enum TensorMemory {
  /// Bytes of all live tensor storage in the process.
  public static var liveBytes: Int { StoragePool.live.load(ordering: .relaxed) }
  /// Bytes of freed blocks the pool keeps for reuse.
  public static var pooledBytes: Int { StoragePool.held }
}
