import MoonlabTensor

/// Airbench's alternating flip (`AlternatingFlip{}`, docs/data.md "Transforms"): image i
/// of the loader's dataset is mirrored left–right at epoch e iff b_i XOR (e odd), where
/// b_i is a fair coin fixed for the whole run. Every image is thus seen once each way in
/// any two consecutive epochs, instead of by chance.
public struct AlternatingFlip: BatchTransform {
  public init() {}

  /// Keys the coins apart from every named generator stream of the same seed.
  static let key = Generator.fnv1a("alternating_flip")

  /// b_i: splitmix64's output at counter i + 1 of the seed's own sequence. A function of
  /// (seed, i) alone, so it doesn't depend on the shuffle, the batch or the thread.
  public static func coin(seed: UInt64, index: Int) -> Bool {
    var z = (seed ^ key) &+ UInt64(truncatingIfNeeded: index + 1) &* 0x9E37_79B9_7F4A_7C15
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return (z ^ (z >> 31)) >> 63 == 1
  }

  /// Whether each sample of the batch is flipped.
  public func flips(_ context: BatchContext) throws -> [Bool] {
    guard let indices = context.indices else {
      throw DataError(
        "AlternatingFlip: needs each sample's dataset index and the epoch; use it in a data.Loader")
    }
    let odd = context.epoch % 2 == 1
    return indices.map { AlternatingFlip.coin(seed: context.seed, index: $0) != odd }
  }

  public func apply(_ x: Tensor, _ context: BatchContext) throws -> Tensor {
    let (n, _, _, _) = try imageBatch(x, "AlternatingFlip")
    let f = try flips(context)
    guard f.count == n else {
      throw DataError(
        "AlternatingFlip: the batch has \(n) images but \(f.count) dataset indices (a stage before it changed the batch size)"
      )
    }
    return try HFlip.mirror(x, f, "AlternatingFlip")
  }
}
