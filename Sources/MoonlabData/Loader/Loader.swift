import Foundation
import MoonlabTensor

/// One mini-batch: x [N,…] as floats, y [N,…] the targets (0-based class indices for the
/// readers), and the batch's context (its augmentation generator, which main-thread
/// stages continue, its samples' dataset indices and the epoch).
public struct Batch {
  public var x: Tensor
  public var y: Tensor
  public let context: BatchContext
}

/// Mini-batches of a dataset (`data.Loader`): per-epoch seeded shuffling, optional
/// drop_last, an augmentation pipeline, and background prefetch of ready batches.
///
/// Determinism: epoch e's order comes from stream "shuffle.e" of `seed`, and batch b's
/// augmentation from stream "augment.e.b", so the batches are the same whatever the
/// prefetch depth, the thread count or how fast the consumer is. Transforms also get each
/// sample's dataset index and the epoch (`BatchContext`), for per-image choices that last
/// the whole run (`AlternatingFlip`).
public final class Loader {
  public struct Options {
    public var batchSize = 32
    public var shuffle = false
    public var seed: UInt64 = 0
    public var transform: Transform?
    public var dropLast = false
    /// Batches prepared ahead on a worker thread; 0 prepares each one when asked.
    public var prefetch = 2
    public init() {}
  }

  public let dataset: Dataset
  public let options: Options
  /// Epochs started so far (the next epoch's number).
  public private(set) var epoch = 0
  private var current: Epoch?

  public init(_ dataset: Dataset, _ options: Options) throws {
    guard options.batchSize > 0, options.batchSize <= 1 << 31 else {
      throw DataError("Loader: batch_size must be in 1…2^31, got \(options.batchSize)")
    }
    guard options.prefetch >= 0 else {
      throw DataError("Loader: prefetch must be ≥ 0, got \(options.prefetch)")
    }
    self.dataset = dataset
    self.options = options
  }

  /// Batches per epoch.
  public var count: Int {
    let n = dataset.count
    let b = options.batchSize
    return options.dropLast ? n / b : (n + b - 1) / b
  }

  /// Continues from a checkpoint taken between epochs: the next `nextEpoch` is epoch
  /// `epoch`, with the order and augmentation an uninterrupted run gives it (both come
  /// from the seed and the epoch number, so the counter is the loader's whole state).
  public func restore(epoch: Int) throws {
    guard epoch >= 0 else { throw DataError("Loader: epoch \(epoch) to resume at must be ≥ 0") }
    current?.stop()
    current = nil
    self.epoch = epoch
  }

  /// Starts the next epoch; an epoch still running is stopped first.
  public func nextEpoch() -> Epoch {
    current?.stop()
    let e = epoch
    epoch += 1
    let order =
      options.shuffle
      ? Generator(seed: options.seed, stream: "shuffle.\(e)").permutation(dataset.count)
      : Array(0..<dataset.count)
    let plan = BatchPlan(
      dataset: dataset, order: order, batchSize: options.batchSize, batches: count,
      seed: options.seed, epoch: e,
      stages: options.transform?.workerPrefix ?? [])
    let epoch = Epoch(
      plan: plan, rest: Array((options.transform?.stages ?? []).dropFirst(plan.stages.count)),
      prefetch: options.prefetch)
    current = epoch
    return epoch
  }
}

/// How to build batch b of one epoch. Immutable and free of Lua objects, so a worker
/// thread can use it while the consumer runs.
struct BatchPlan {
  let dataset: Dataset
  let order: [Int]
  let batchSize: Int
  let batches: Int
  let seed: UInt64
  let epoch: Int
  let stages: [BatchTransform]

  func make(_ b: Int) throws -> Batch {
    let lo = b * batchSize
    let hi = min(order.count, lo + batchSize)
    // gather writes every element: no need to zero the storage first.
    let x = Tensor(
      shape: [hi - lo] + dataset.sampleShape,
      storage: TensorStorage(count: (hi - lo) * dataset.sampleSize, zeroed: false))
    let y = Tensor(
      shape: [hi - lo] + dataset.targetShape,
      storage: TensorStorage(count: (hi - lo) * dataset.targetSize, zeroed: false))
    order[lo..<hi].withUnsafeBufferPointer { dataset.gather($0, x: x.data, y: y.data) }
    let context = BatchContext(
      rng: Generator(seed: seed, stream: "augment.\(epoch).\(b)"), indices: Array(order[lo..<hi]),
      epoch: epoch, seed: seed)
    var out = x
    for t in stages { out = try t.apply(out, context) }
    return Batch(x: out, y: y, context: context)
  }
}

/// One pass over the data. `next` returns batches in order, then nil. Stages after a
/// main-thread stage run here, on the caller's thread, through `runMainThread`.
public final class Epoch {
  let plan: BatchPlan
  let rest: [Transform.Stage]
  private let prefetcher: Prefetcher?
  private var nextIndex = 0

  init(plan: BatchPlan, rest: [Transform.Stage], prefetch: Int) {
    self.plan = plan
    self.rest = rest
    prefetcher = prefetch > 0 && plan.batches > 0 ? Prefetcher(plan: plan, depth: prefetch) : nil
  }

  deinit { prefetcher?.stop() }

  func stop() { prefetcher?.stop() }

  public func next(runMainThread: (MainThreadTransform, Batch) throws -> Batch = { _, b in b })
    throws -> Batch?
  {
    guard nextIndex < plan.batches else { return nil }
    let b = nextIndex
    nextIndex += 1
    var batch = try prefetcher?.take(b) ?? plan.make(b)
    for stage in rest {
      switch stage {
      case .batch(let t): batch.x = try t.apply(batch.x, batch.context)
      case .mainThread(let t): batch = try runMainThread(t, batch)
      }
    }
    return batch
  }
}
