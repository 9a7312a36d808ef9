import Foundation
import Synchronization

/// Freed tensor buffers of 64 KB and more, kept by size for the next tensor of that size
/// (design.md §2: a steady-state training step allocates nearly nothing).
///
/// glibc serves such blocks with a fresh mmap and unmaps them on free, so every new
/// multi-MB tensor paid a page fault per 4 KB plus the kernel's zeroing: 3–4× the cost
/// of the elementwise op that filled it. A training step makes the same sizes every
/// step, so exact-size reuse catches nearly all of them. The pool holds at most 1/8 of
/// physical memory (≤ 2 GB); beyond that, blocks go back to the system. Tensors are
/// created on worker threads too (data loaders), hence the lock.
enum StoragePool {
  static let minimumBytes = 1 << 16
  static let capacityBytes = min(2 << 30, Int(clamping: ProcessInfo.processInfo.physicalMemory) / 8)

  /// Bytes of all live tensor storage, pooled blocks not included.
  static let live = Atomic<Int>(0)
  private static let lock = NSLock()
  nonisolated(unsafe) private static var blocks: [Int: [UnsafeMutableRawPointer]] = [:]
  nonisolated(unsafe) private static var heldBytes = 0

  /// A 64-byte-aligned block of `bytes`, reused when one of that size is free.
  static func allocate(_ bytes: Int) -> UnsafeMutableRawPointer? {
    live.add(bytes, ordering: .relaxed)
    if bytes >= minimumBytes {
      lock.lock()
      let reused = blocks[bytes]?.popLast()
      if reused != nil { heldBytes -= bytes }
      lock.unlock()
      if let reused { return reused }
    }
    var raw: UnsafeMutableRawPointer?
    guard posix_memalign(&raw, 64, bytes) == 0 else {
      live.subtract(bytes, ordering: .relaxed)
      return nil
    }
    return raw
  }

  static func release(_ block: UnsafeMutableRawPointer, _ bytes: Int) {
    live.subtract(bytes, ordering: .relaxed)
    if bytes >= minimumBytes {
      lock.lock()
      let keep = heldBytes + bytes <= capacityBytes
      if keep {
        blocks[bytes, default: []].append(block)
        heldBytes += bytes
      }
      lock.unlock()
      if keep { return }
    }
    free(block)
  }

  /// Bytes currently held for reuse.
  static var held: Int {
    lock.lock()
    defer { lock.unlock() }
    return heldBytes
  }
}
