import Foundation

/// Owns a 64-byte-aligned block of `Float`s. Tensors share storage (reshape, detach),
/// so identity and lifetime live here, not in the tensor.
public final class TensorStorage {
  public let pointer: UnsafeMutablePointer<Float>
  public let count: Int

  /// Storage for `count` floats, zero-filled unless the caller overwrites every element
  /// anyway (elementwise outputs), where the extra pass over memory would be wasted.
  public init(count: Int, zeroed: Bool = true) {
    self.count = count
    var raw: UnsafeMutableRawPointer?
    // 64-byte alignment suits AVX-512 loads and cache lines; posix_memalign cannot fail
    // for these arguments except on exhaustion, where trapping is the only option left.
    let bytes = max(count, 1) * MemoryLayout<Float>.stride
    guard posix_memalign(&raw, 64, bytes) == 0, let raw else {
      fatalError("out of memory allocating \(bytes) bytes")
    }
    if zeroed { memset(raw, 0, bytes) }
    pointer = raw.bindMemory(to: Float.self, capacity: max(count, 1))
  }

  deinit { free(pointer) }
}
