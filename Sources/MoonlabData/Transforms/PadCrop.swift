import MoonlabTensor

/// Random crop of a padded image, the standard CIFAR augmentation (`PadCrop{pad=4,
/// size=32}`): pad each side by `pad` (zeros, or a mirror image of the border without
/// repeating it, like PyTorch's 'reflect'), then cut a size×size window at a uniform
/// offset (0…H+2·pad−size in each axis). The padded image is never built: each output row
/// is copied from the source row it lands on, with the borders filled.
public struct PadCrop: BatchTransform {
  public enum Fill: String { case zero, reflect }
  public let pad: Int
  public let size: Int
  public let fill: Fill

  public init(pad: Int = 4, size: Int = 32, fill: Fill = .zero) throws {
    // The caps only keep sizes far from overflow; real crops are tens of pixels.
    guard pad >= 0, size > 0, pad <= 4096, size <= 16384 else {
      throw DataError(
        "PadCrop: pad must be in 0…4096 and size in 1…16384, got pad=\(pad) size=\(size)")
    }
    self.pad = pad
    self.size = size
    self.fill = fill
  }

  /// The crop offsets (y, x) of n samples, drawn in sample order: y then x.
  public func drawOffsets(_ n: Int, h: Int, w: Int, _ rng: Generator) -> [(y: Int, x: Int)] {
    (0..<n).map { _ in
      let y = rng.below(h + 2 * pad - size + 1)
      return (y, rng.below(w + 2 * pad - size + 1))
    }
  }

  public func apply(_ x: Tensor, _ context: BatchContext) throws -> Tensor {
    let (n, c, h, w) = try imageBatch(x, "PadCrop")
    guard h + 2 * pad >= size, w + 2 * pad >= size else {
      throw DataError(
        "PadCrop: size \(size) is larger than the padded image \(h + 2 * pad)×\(w + 2 * pad)")
    }
    guard fill == .zero || (pad < h && pad < w) else {
      throw DataError(
        "PadCrop: reflect padding needs pad < image size, got pad=\(pad) for \(h)×\(w)")
    }
    let offsets = drawOffsets(n, h: h, w: w, context.rng)
    let out = Tensor(zeros: [n, c, size, size])
    let src = x.data
    let dst = out.data
    for i in 0..<n {
      let (oy, ox) = offsets[i]
      // Source columns sx = ox − pad + j; the in-range ones form one contiguous run.
      let j0 = max(0, pad - ox)
      let j1 = min(size, w + pad - ox)
      for ch in 0..<c {
        let plane = src + (i * c + ch) * h * w
        let o = dst + (i * c + ch) * size * size
        for r in 0..<size {
          var sy = oy - pad + r
          let row = o + r * size
          if sy < 0 || sy >= h {
            if fill == .zero { continue }  // already zero
            sy = sy < 0 ? -sy : 2 * (h - 1) - sy
          }
          let s = plane + sy * w + (ox - pad)
          if j1 > j0 { (row + j0).update(from: s + j0, count: j1 - j0) }
          if fill == .reflect {
            for j in 0..<min(j0, size) { row[j] = plane[sy * w - (ox - pad + j)] }
            for j in max(j1, 0)..<size { row[j] = plane[sy * w + 2 * (w - 1) - (ox - pad + j)] }
          }
        }
      }
    }
    return out
  }
}
