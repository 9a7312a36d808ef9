import Foundation
import Synchronization

/// Tensor buffers, kept after they are freed for the next tensor of the same size
/// (docs/architecture.md, "Memory": a steady-state training step takes nothing new from
/// the system). Blocks of 64 KB and more are mapped from the system directly; smaller
/// ones come from malloc in 64-byte size classes, and up to 16 MiB of them stay pooled
/// (malloc's own cost is small, but a batch-1 step makes a few dozen such tensors).
///
/// A fresh multi-MB block costs a page fault per 4 KB plus the kernel's zeroing, 3–4× the
/// cost of the elementwise op that fills it, and a training step makes the same sizes
/// every step, so exact-size reuse catches nearly all of them. Pooled blocks still count
/// in RSS, though, and sizes that are not asked for again (another batch size, a one-off
/// computation) would stay. So when a size is missing, the blocks that sat in the pool
/// longest go back to the system until what stays is at most the live bytes (64 MiB at
/// least). Not less: a step's sizes change as it goes (small late-layer activations are
/// freed early in backward, large early-layer gradients are needed at its end), and every
/// block given back is mapped and faulted in again next step. Keeping a quarter of the
/// live bytes cost ResNet-20 ~20,000 page faults a step (~450 vs ~580 images/s on 2 cores)
/// and VGG-small as much (~760 vs ~1,090) for 49 and 5 MiB less peak RSS. Blocks are
/// mapped with mmap rather than malloc so that returning them really returns the memory
/// (glibc keeps freed heap blocks below its adaptive mmap threshold, up to 32 MB, in its
/// arenas). Tensors are created on worker threads too (data loaders), hence the lock.
enum StoragePool {
  static let minimumBytes = 1 << 16
  /// Small blocks are rounded up to this, so one free block serves every size of its class.
  static let smallClassBytes = 64
  /// What the pool keeps of small blocks at most: a step's small tensors are a few hundred
  /// blocks of a few KB.
  static let smallCapacityBytes = 16 << 20
  /// What the pool may keep at least when the system has to be asked for a block anyway.
  static let minimumSlackBytes = 64 << 20
  /// What the pool keeps at most.
  static let capacityBytes = TensorMemory.physicalBytes / 4
  /// Live plus pooled bytes stay below this, whatever the capacity: with live tensors at
  /// the default limit (3/4 of memory) the pool may keep only 1/8, so a script that fills
  /// memory gets the limit's Lua error, never the kernel's OOM killer.
  static let residentBytes = TensorMemory.physicalBytes / 8 * 7

  /// What the pool may keep next to the live tensors (a block being allocated counts as
  /// live already).
  private static func keepable(_ wanted: Int) -> Int {
    min(wanted, max(0, residentBytes - live.load(ordering: .relaxed)))
  }

  /// Bytes of all live tensor storage, pooled blocks not included.
  static let live = Atomic<Int>(0)
  private static let lock = NSLock()
  typealias Block = (bytes: Int, pointer: UnsafeMutableRawPointer)
  /// Freed blocks, oldest first.
  nonisolated(unsafe) private static var blocks: [Block] = []
  nonisolated(unsafe) private static var heldBytes = 0
  /// Freed small blocks by size class (`(bytes - 1) / smallClassBytes`), newest last.
  nonisolated(unsafe) private static var smallBlocks = [[UnsafeMutableRawPointer]](
    repeating: [], count: minimumBytes / smallClassBytes)
  nonisolated(unsafe) private static var smallHeldBytes = 0
  /// Blocks taken from the system so far, small and large (`tensor.memory().allocations`;
  /// tests check that a steady state takes none).
  static let systemBlocks = Atomic<Int>(0)

  /// A 64-byte-aligned block of `bytes`, reused when one of that size is free; zero-filled
  /// when `zeroed` (fresh mappings already are).
  static func allocate(_ bytes: Int, zeroed: Bool) -> UnsafeMutableRawPointer? {
    live.add(bytes, ordering: .relaxed)
    guard bytes >= minimumBytes else { return allocateSmall(bytes, zeroed: zeroed) }
    lock.lock()
    // The most recently freed block of this size: its pages are likeliest still cached.
    if let i = blocks.lastIndex(where: { $0.bytes == bytes }) {
      let reused = blocks.remove(at: i).pointer
      heldBytes -= bytes
      lock.unlock()
      if zeroed { memset(reused, 0, bytes) }
      return reused
    }
    let evicted = evict(keeping: keepable(max(minimumSlackBytes, live.load(ordering: .relaxed))))
    lock.unlock()
    systemBlocks.add(1, ordering: .relaxed)
    for block in evicted { munmap(block.pointer, block.bytes) }
    guard let mapped = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
      mapped != MAP_FAILED
    else { return failed(bytes) }
    return mapped
  }

  static func release(_ block: UnsafeMutableRawPointer, _ bytes: Int) {
    live.subtract(bytes, ordering: .relaxed)
    guard bytes >= minimumBytes else { return releaseSmall(block, bytes) }
    lock.lock()
    blocks.append((bytes, block))
    heldBytes += bytes
    let evicted = evict(keeping: keepable(capacityBytes))
    lock.unlock()
    for block in evicted { munmap(block.pointer, block.bytes) }
  }

  /// Bytes currently held for reuse.
  static var held: Int {
    lock.lock()
    defer { lock.unlock() }
    return heldBytes + smallHeldBytes
  }

  private static func smallClass(_ bytes: Int) -> Int { (bytes - 1) / smallClassBytes }

  /// A block of `bytes`'s size class: a pooled one, or a fresh one from malloc.
  private static func allocateSmall(_ bytes: Int, zeroed: Bool) -> UnsafeMutableRawPointer? {
    let sizeClass = smallClass(bytes)
    lock.lock()
    if let reused = smallBlocks[sizeClass].popLast() {
      smallHeldBytes -= (sizeClass + 1) * smallClassBytes
      lock.unlock()
      if zeroed { memset(reused, 0, bytes) }
      return reused
    }
    lock.unlock()
    systemBlocks.add(1, ordering: .relaxed)
    var raw: UnsafeMutableRawPointer?
    guard posix_memalign(&raw, 64, (sizeClass + 1) * smallClassBytes) == 0, let raw else {
      return failed(bytes)
    }
    if zeroed { memset(raw, 0, bytes) }
    return raw
  }

  /// Pools a small block; when that would pass the capacity, the pooled ones go back to
  /// malloc first: they are sizes nobody asked for since the pool last filled (a steady
  /// state's blocks are taken again within a step, so they never fill it).
  private static func releaseSmall(_ block: UnsafeMutableRawPointer, _ bytes: Int) {
    let sizeClass = smallClass(bytes)
    let classBytes = (sizeClass + 1) * smallClassBytes
    var flushed: [UnsafeMutableRawPointer] = []
    lock.lock()
    if smallHeldBytes + classBytes > smallCapacityBytes {
      for i in smallBlocks.indices where !smallBlocks[i].isEmpty {
        flushed += smallBlocks[i]
        smallBlocks[i].removeAll(keepingCapacity: true)
      }
      smallHeldBytes = 0
    }
    smallBlocks[sizeClass].append(block)
    smallHeldBytes += classBytes
    lock.unlock()
    for old in flushed { free(old) }
  }

  /// Takes the oldest blocks out until at most `limit` bytes stay (called under the lock;
  /// the caller unmaps them after unlocking).
  private static func evict(keeping limit: Int) -> ArraySlice<Block> {
    var count = 0
    while heldBytes > limit {
      heldBytes -= blocks[count].bytes
      count += 1
    }
    let evicted = blocks[..<count]
    blocks.removeFirst(count)
    return evicted
  }

  private static func failed(_ bytes: Int) -> UnsafeMutableRawPointer? {
    live.subtract(bytes, ordering: .relaxed)
    return nil
  }
}
