import Foundation

/// The row-major copy of a strided view that kernels read through `Tensor.data`
/// (docs/tensor.md, "Indexing, views and copies"). It is gathered from the storage when
/// the storage's version differs from the one it last saw, so every in-place change made
/// through any tensor of that storage (each calls `markWritten`) is seen by the next read.
/// Its memory is allocated with the view, where the shape was checked against the
/// run's limit, so a read never allocates.
final class DenseCopy {
  let layout: StridedLayout
  /// Whether two positions of the view are one storage element (an expanded dimension).
  let overlaps: Bool
  private let buffer: TensorStorage
  private var version = -1
  /// Worker threads of one op may read the same view's `data` at once.
  private let lock = NSLock()

  init(_ layout: StridedLayout) {
    self.layout = layout
    overlaps = zip(layout.shape, layout.strides).contains { $0 > 1 && $1 == 0 }
    buffer = TensorStorage(count: layout.count, zeroed: false)
  }

  func read(_ storage: TensorStorage) -> UnsafeMutablePointer<Float> {
    lock.lock()
    if version != storage.version {
      layout.gather(storage.pointer, into: buffer.pointer)
      version = storage.version
    }
    lock.unlock()
    return buffer.pointer
  }

  /// Copies the (written) row-major elements back into the storage.
  func writeBack(into storage: TensorStorage) {
    guard !overlaps else { return }
    layout.scatter(buffer.pointer, into: storage.pointer)
  }

  /// The copy equals the storage as of now (right after a write back).
  func caughtUp(with storage: TensorStorage) {
    lock.lock()
    version = storage.version
    lock.unlock()
  }
}
