import MoonlabTensor

/// What a transform knows about a batch besides its values (docs/data.md, "Transforms").
/// The loader fills every field; a batch outside a loader has only a generator.
public struct BatchContext {
  /// The batch's augmentation stream: random choices are drawn from it per sample, in order.
  public let rng: Generator
  /// Each sample's position (0-based) in the loader's dataset, in batch order.
  public let indices: [Int]?
  /// The loader's epoch (0-based) and seed.
  public let epoch: Int
  public let seed: UInt64

  public init(rng: Generator, indices: [Int]? = nil, epoch: Int = 0, seed: UInt64 = 0) {
    self.rng = rng
    self.indices = indices
    self.epoch = epoch
    self.seed = seed
  }
}

/// A batched augmentation kernel: takes x [N,…] and returns the transformed batch (in
/// place or a new tensor). Everything it decides comes from `context` (its generator, or
/// the samples' dataset indices and the epoch), so a batch's result never depends on
/// threads or on the order batches are built in.
public protocol BatchTransform {
  func apply(_ x: Tensor, _ context: BatchContext) throws -> Tensor
}

extension BatchTransform {
  /// Applies the transform to a batch that no loader made: only a generator, no indices.
  public func apply(_ x: Tensor, _ rng: Generator) throws -> Tensor {
    try apply(x, BatchContext(rng: rng))
  }
}

/// A transform whose work must run on the thread that owns the Lua state (`data.Lambda`).
/// The loader hands such stages back to its consumer instead of running them on the worker.
public protocol MainThreadTransform: AnyObject {}

/// An augmentation pipeline: a list of stages run in order. `Compose` concatenates them;
/// a single transform is a pipeline of one stage.
public final class Transform {
  public enum Stage {
    case batch(BatchTransform)
    case mainThread(MainThreadTransform)
  }

  public let stages: [Stage]
  public init(_ stages: [Stage]) { self.stages = stages }
  public convenience init(_ t: BatchTransform) { self.init([.batch(t)]) }

  public static func compose(_ parts: [Transform]) -> Transform {
    Transform(parts.flatMap(\.stages))
  }

  /// The leading stages a worker thread may run: everything before the first main-thread one.
  var workerPrefix: [BatchTransform] {
    var out: [BatchTransform] = []
    for s in stages {
      guard case .batch(let t) = s else { break }
      out.append(t)
    }
    return out
  }
}

/// Checks that x is a batch of images [N,C,H,W] for transform `op`.
func imageBatch(_ x: Tensor, _ op: String) throws -> (n: Int, c: Int, h: Int, w: Int) {
  guard x.rank == 4 else {
    throw DataError("\(op): expected images [N,C,H,W], got \(describeShape(x.shape))")
  }
  return (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
}
