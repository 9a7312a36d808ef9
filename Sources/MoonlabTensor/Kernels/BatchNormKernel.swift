/// Batch normalization over an input laid out [N, C, L] (L = H·W for images, 1 for
/// [N, C] features), per channel c: y = (x − mean_c) · invstd_c · γ_c + β_c.
/// Each function works on a range of channels so callers can split channels across
/// threads; sums run in a fixed order in Double, so results don't depend on scheduling.
public struct BatchNormKernel {
  public let batch, channels, length: Int
  public init(batch: Int, channels: Int, length: Int) {
    self.batch = batch
    self.channels = channels
    self.length = length
  }

  /// Elements per channel (N·L), the M in the formulas below.
  public var perChannel: Int { batch * length }

  /// Batch mean and biased variance of each channel in `range`.
  public func statistics(
    _ range: Range<Int>, x: UnsafePointer<Float>, mean: UnsafeMutablePointer<Float>,
    variance: UnsafeMutablePointer<Float>
  ) {
    for c in range {
      var sum = 0.0
      for n in 0..<batch {
        let p = x + (n * channels + c) * length
        for i in 0..<length { sum += Double(p[i]) }
      }
      let mu = sum / Double(perChannel)
      var squares = 0.0
      for n in 0..<batch {
        let p = x + (n * channels + c) * length
        for i in 0..<length {
          let d = Double(p[i]) - mu
          squares += d * d
        }
      }
      mean[c] = Float(mu)
      variance[c] = Float(squares / Double(perChannel))
    }
  }

  /// y = (x − mean) · invstd · γ + β.
  public func normalize(
    _ range: Range<Int>, x: UnsafePointer<Float>, mean: UnsafePointer<Float>,
    invstd: UnsafePointer<Float>,
    gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>
  ) {
    for c in range {
      let scale = invstd[c] * gamma[c]
      let shift = beta[c] - mean[c] * scale
      for n in 0..<batch {
        let offset = (n * channels + c) * length
        let src = x + offset
        let dst = y + offset
        for i in 0..<length { dst[i] = src[i] * scale + shift }
      }
    }
  }

  /// Gradients of γ, β and (if `gradInput` is given) x. With batch statistics the mean
  /// and variance depend on x too (Ioffe & Szegedy 2015, §3):
  ///   dx = γ·invstd · (g − Σg/M − x̂ · Σ(g·x̂)/M);
  /// with running statistics (eval) they are constants and dx = γ·invstd·g.
  public func backward(
    _ range: Range<Int>, batchStatistics: Bool, x: UnsafePointer<Float>, mean: UnsafePointer<Float>,
    invstd: UnsafePointer<Float>, gamma: UnsafePointer<Float>, gradOutput: UnsafePointer<Float>,
    gradInput: UnsafeMutablePointer<Float>?, gradGamma: UnsafeMutablePointer<Float>,
    gradBeta: UnsafeMutablePointer<Float>
  ) {
    for c in range {
      let mu = mean[c]
      let istd = invstd[c]
      var sumG = 0.0
      var sumGXhat = 0.0
      for n in 0..<batch {
        let offset = (n * channels + c) * length
        let px = x + offset
        let pg = gradOutput + offset
        for i in 0..<length {
          sumG += Double(pg[i])
          sumGXhat += Double(pg[i] * (px[i] - mu) * istd)
        }
      }
      gradGamma[c] = Float(sumGXhat)
      gradBeta[c] = Float(sumG)
      guard let gradInput else { continue }
      let scale = gamma[c] * istd
      let meanG = batchStatistics ? Float(sumG / Double(perChannel)) : 0
      let meanGXhat = batchStatistics ? Float(sumGXhat / Double(perChannel)) : 0
      for n in 0..<batch {
        let offset = (n * channels + c) * length
        let px = x + offset
        let pg = gradOutput + offset
        let pd = gradInput + offset
        for i in 0..<length {
          let xhat = (px[i] - mu) * istd
          pd[i] = scale * (pg[i] - meanG - xhat * meanGXhat)
        }
      }
    }
  }
}
