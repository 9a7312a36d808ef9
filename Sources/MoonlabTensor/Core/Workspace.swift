/// Scratch memory a layer keeps between steps (im2col columns, per-thread partial
/// gradients), grown when a bigger batch arrives and otherwise reused, so a steady-state
/// training step allocates almost nothing. Scratch only: nothing in it
/// outlives the forward or backward call that filled it.
public final class Workspace {
  private var storage: TensorStorage?

  public init() {}

  /// At least `count` floats; contents are whatever the last user left. Growing is
  /// checked like a tensor's shape (the run's memory limit, the machine's memory), so a
  /// layer whose scratch would not fit (im2col columns of a huge image) is an error
  /// naming `op`, not an allocation failure.
  public func pointer(_ count: Int, op: String) throws -> UnsafeMutablePointer<Float> {
    if let storage, storage.count >= count { return storage.pointer }
    try Shape.validate([count], op: op)
    let fresh = TensorStorage(count: count)
    storage = fresh
    return fresh.pointer
  }
}
