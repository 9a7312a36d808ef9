import MoonlabTensor

/// Horizontal flip of each image with probability p (`HFlip{p=0.5}`), in place.
public struct HFlip: BatchTransform {
  public let p: Float

  public init(p: Double = 0.5) throws {
    guard p >= 0, p <= 1 else { throw DataError("HFlip: p must be in [0, 1], got \(p)") }
    self.p = Float(p)
  }

  /// Whether each of n samples is flipped, drawn in sample order.
  public func drawFlips(_ n: Int, _ rng: Generator) -> [Bool] {
    (0..<n).map { _ in rng.uniform() < p }
  }

  public func apply(_ x: Tensor, _ context: BatchContext) throws -> Tensor {
    let (n, _, _, _) = try imageBatch(x, "HFlip")
    return try HFlip.mirror(x, drawFlips(n, context.rng), "HFlip")
  }

  /// Mirrors left–right, in place, the images i of batch x [N,C,H,W] with flips[i].
  static func mirror(_ x: Tensor, _ flips: [Bool], _ op: String) throws -> Tensor {
    let (n, c, h, w) = try imageBatch(x, op)
    for i in 0..<n where flips[i] {
      let image = x.data + i * c * h * w
      for r in 0..<(c * h) {
        let row = image + r * w
        var a = 0
        var b = w - 1
        while a < b {
          swap(&row[a], &row[b])
          a += 1
          b -= 1
        }
      }
    }
    return x
  }
}
