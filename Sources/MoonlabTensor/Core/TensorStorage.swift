import Foundation

/// Owns a 64-byte-aligned block of `Float`s. Tensors share storage (reshape, detach),
/// so identity and lifetime live here, not in the tensor.
public final class TensorStorage {
  public let pointer: UnsafeMutablePointer<Float>
  public let count: Int
  /// Bumped by every in-place change a user makes (initializers, optimizer steps,
  /// checkpoint loads): backward compares it with the version an op saw, so a saved
  /// tensor changed in between is an error, not a silently wrong gradient (PyTorch's
  /// version counter; docs/tensor.md).
  public private(set) var version = 0

  public func markModified() { version &+= 1 }

  /// Storage for `count` floats, zero-filled unless the caller overwrites every element
  /// anyway (elementwise outputs), where the extra pass over memory would be wasted.
  public init(count: Int, zeroed: Bool = true) {
    self.count = count
    // 64-byte alignment suits AVX-512 loads and cache lines. Every size a script can
    // reach is checked first — tensor shapes and layers' scratch (`Workspace`) against
    // the run's limit, 3/4 of the machine's memory by default; gradients match tensors
    // that exist — so failing here means the system itself ran out, where trapping is
    // the only option left.
    let bytes = max(count, 1) * MemoryLayout<Float>.stride
    guard let raw = StoragePool.allocate(bytes, zeroed: zeroed) else {
      fatalError("out of memory allocating \(bytes) bytes")
    }
    pointer = raw.bindMemory(to: Float.self, capacity: max(count, 1))
  }

  deinit {
    StoragePool.release(
      UnsafeMutableRawPointer(pointer), max(count, 1) * MemoryLayout<Float>.stride)
  }
}
