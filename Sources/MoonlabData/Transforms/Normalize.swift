import MoonlabTensor

/// Per-channel standardisation (`Normalize{mean={…}, std={…}}`): x ← (x − mean[c]) / std[c]
/// on a batch [N,C,…], in place. Computed as (x − mean) · (1/std), one multiply per value.
public struct Normalize: BatchTransform {
  public let mean: [Float]
  public let std: [Float]

  public init(mean: [Double], std: [Double]) throws {
    guard !mean.isEmpty, mean.count == std.count else {
      throw DataError(
        "Normalize: mean and std need the same number of channels, got \(mean.count) and \(std.count)"
      )
    }
    guard std.allSatisfy({ $0 > 0 }) else {
      throw DataError("Normalize: std values must be positive, got \(std)")
    }
    self.mean = mean.map(Float.init)
    self.std = std.map(Float.init)
  }

  public func apply(_ x: Tensor, _ context: BatchContext) throws -> Tensor {
    guard x.rank >= 2, x.shape[1] == mean.count else {
      throw DataError(
        "Normalize: \(mean.count) channel means for a batch of shape \(describeShape(x.shape))")
    }
    let (n, c) = (x.shape[0], x.shape[1])
    let plane = x.count / max(n * c, 1)
    for i in 0..<n {
      for ch in 0..<c {
        let p = x.data + (i * c + ch) * plane
        let m = mean[ch]
        let s = 1 / std[ch]
        for j in 0..<plane { p[j] = (p[j] - m) * s }
      }
    }
    return x
  }
}
