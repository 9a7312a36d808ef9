/// Scratch memory a layer keeps between steps (im2col columns, per-thread partial
/// gradients), grown when a bigger batch arrives and otherwise reused, so a steady-state
/// training step allocates almost nothing. Scratch only: nothing in it
/// outlives the forward or backward call that filled it.
public final class Workspace {
  private var storage: TensorStorage?

  public init() {}

  /// At least `count` floats; contents are whatever the last user left.
  public func pointer(_ count: Int) -> UnsafeMutablePointer<Float> {
    if let storage, storage.count >= count { return storage.pointer }
    let fresh = TensorStorage(count: count)
    storage = fresh
    return fresh.pointer
  }
}
