/// Batch normalization over an input laid out [N, C, L] (L = H·W for images, 1 for
/// [N, C] features), per channel c: y = (x − mean_c) · invstd_c · γ_c + β_c, optionally
/// followed in the same pass by `+ residual` and/or ReLU (docs/nn.md, "Fused BatchNorm").
///
/// Each function works on a range of channels so callers can split channels across
/// threads. A channel's sums run over its N rows of L values in 16 float lanes, moved into
/// a Double every ~2K values (`LaneSum`). The order depends only on the shape, so results
/// don't depend on the thread count or scheduling.
public struct BatchNormKernel {
  public let batch, channels, length: Int
  public init(batch: Int, channels: Int, length: Int) {
    self.batch = batch
    self.channels = channels
    self.length = length
  }

  /// Elements per channel (N·L), the M in the formulas below.
  public var perChannel: Int { batch * length }

  @inline(__always)
  func row(_ n: Int, _ c: Int) -> Int { (n * channels + c) * length }

  /// Rows per `LaneSum` block: ~2K values, and at most 128 in the float that sums the
  /// rows' tails (all of a row when L < 16, as in BatchNorm1d's [N, C]).
  var rowsPerBlock: Int {
    let perLane = LaneSum.blockValues / LaneSum.Lanes.scalarCount
    return max(1, min(LaneSum.blockValues / max(1, length), perLane / max(1, length % 16)))
  }

  /// Calls `addRow(offset)` for each of channel c's rows, then `flush()` after every
  /// `rowsPerBlock` rows and after the last.
  @inline(__always)
  func forEachRow(_ c: Int, flush: () -> Void, _ addRow: (Int) -> Void) {
    let block = rowsPerBlock
    for n in 0..<batch {
      addRow(row(n, c))
      if (n + 1) % block == 0 || n == batch - 1 { flush() }
    }
  }

  /// Batch mean and biased variance of each channel in `range`, in two passes (the mean,
  /// then squared deviations from it: one pass with Σx² cancels badly when |mean| ≫ std).
  public func statistics(
    _ range: Range<Int>, x: UnsafePointer<Float>, mean: UnsafeMutablePointer<Float>,
    variance: UnsafeMutablePointer<Float>
  ) {
    for c in range {
      let mu = Float(sum(c, x: x) / Double(perChannel))
      mean[c] = mu
      variance[c] = Float(squaredDeviations(c, x: x, from: mu) / Double(perChannel))
    }
  }

  /// Σx over channel c (the first pass of `statistics`; SyncBatchNorm adds the ranks').
  public func sum(_ c: Int, x: UnsafePointer<Float>) -> Double {
    var sum = LaneSum()
    forEachRow(c, flush: { sum.flush() }) { sum.add(x + $0, length) }
    return sum.total
  }

  /// Σ(x − mean)² over channel c (the second pass).
  public func squaredDeviations(_ c: Int, x: UnsafePointer<Float>, from mean: Float) -> Double {
    var squares = LaneSum()
    forEachRow(c, flush: { squares.flush() }) {
      squares.addSquaredDeviations(x + $0, length, from: mean)
    }
    return squares.total
  }

  /// y = (x − mean) · invstd · γ + β, then `+ residual[i]` if given, then ReLU if `relu`.
  /// The steps round exactly as the separate BatchNorm, add and ReLU ops do, so a fused
  /// layer's output is bit-identical to the unfused one's.
  public func normalize(
    _ range: Range<Int>, x: UnsafePointer<Float>, mean: UnsafePointer<Float>,
    invstd: UnsafePointer<Float>, gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>,
    residual: UnsafePointer<Float>?, relu: Bool, y: UnsafeMutablePointer<Float>
  ) {
    for c in range {
      let scale = invstd[c] * gamma[c]
      let shift = beta[c] - mean[c] * scale
      for n in 0..<batch {
        let offset = row(n, c)
        let (src, dst) = (x + offset, y + offset)
        // One loop per variant, so each vectorises without a per-element branch.
        switch (residual, relu) {
        case (let r?, true):
          let r = r + offset
          for i in 0..<length {
            let t = (src[i] * scale + shift) + r[i]
            dst[i] = t > 0 ? t : 0
          }
        case (let r?, false):
          let r = r + offset
          for i in 0..<length { dst[i] = (src[i] * scale + shift) + r[i] }
        case (nil, true):
          for i in 0..<length {
            let t = src[i] * scale + shift
            dst[i] = t > 0 ? t : 0
          }
        case (nil, false):
          for i in 0..<length { dst[i] = src[i] * scale + shift }
        }
      }
    }
  }

  /// Gradients of γ, β and (if `gradInput` is given) x. With batch statistics the mean
  /// and variance depend on x too (Ioffe & Szegedy 2015, §3):
  ///   dx = γ·invstd · (g − Σg/M − x̂ · Σ(g·x̂)/M);
  /// with running statistics (eval) they are constants and dx = γ·invstd·g.
  ///
  /// `reluOutput`, when given, is the fused layer's output y: the gradient is first
  /// masked to g·[y > 0] (ReLU's backward; y > 0 exactly where ReLU's input was), and that
  /// masked gradient is also the residual's, written to `gradResidual` if given (without
  /// ReLU the residual's gradient is g itself, and `gradResidual` is ignored).
  public func backward(
    _ range: Range<Int>, batchStatistics: Bool, x: UnsafePointer<Float>,
    mean: UnsafePointer<Float>, invstd: UnsafePointer<Float>, gamma: UnsafePointer<Float>,
    gradOutput: UnsafePointer<Float>, reluOutput: UnsafePointer<Float>?,
    gradInput: UnsafeMutablePointer<Float>?, gradResidual: UnsafeMutablePointer<Float>?,
    gradGamma: UnsafeMutablePointer<Float>, gradBeta: UnsafeMutablePointer<Float>
  ) {
    for c in range {
      let (sumG, sumGCentered) = gradientSums(
        c, x: x, mean: mean[c], gradOutput: gradOutput, reluOutput: reluOutput,
        gradResidual: gradResidual)
      gradGamma[c] = Float(sumGCentered * Double(invstd[c]))
      gradBeta[c] = Float(sumG)
      guard let gradInput else { continue }
      inputGradient(
        c, batchStatistics: batchStatistics, sums: (sumG, sumGCentered), count: perChannel,
        x: x, mean: mean[c], invstd: invstd[c], gamma: gamma[c], gradOutput: gradOutput,
        reluOutput: reluOutput, gradResidual: gradResidual, gradInput: gradInput)
    }
  }

  /// Σg and Σg·(x − mean) over channel c, g masked by ReLU where `reluOutput` is given
  /// (and then stored in `gradResidual`, if given: the residual's gradient). The first
  /// pass of `backward`; SyncBatchNorm adds the ranks' sums before the second.
  public func gradientSums(
    _ c: Int, x: UnsafePointer<Float>, mean mu: Float, gradOutput: UnsafePointer<Float>,
    reluOutput: UnsafePointer<Float>?, gradResidual: UnsafeMutablePointer<Float>?
  ) -> (Double, Double) {
    var sumG = LaneSum()
    var sumGCentered = LaneSum()
    forEachRow(
      c,
      flush: {
        sumG.flush()
        sumGCentered.flush()
      }
    ) { offset in
      let (g, xc) = (gradOutput + offset, x + offset)
      if let y = reluOutput, let gr = gradResidual {
        // Store the masked gradient once; the dx pass below reads it back.
        LaneSum.mask(g, by: y + offset, into: gr + offset, length)
        LaneSum.addGradients(gr + offset, nil, xc, length, around: mu, &sumG, &sumGCentered)
      } else {
        LaneSum.addGradients(
          g, reluOutput.map { $0 + offset }, xc, length, around: mu, &sumG, &sumGCentered)
      }
    }
    return (sumG.total, sumGCentered.total)
  }

  /// dx of channel c from `sums` = (Σg, Σg·(x − mean)) over the `count` values the batch
  /// statistics came from (this batch's, or every rank's under SyncBatchNorm).
  public func inputGradient(
    _ c: Int, batchStatistics: Bool, sums: (Double, Double), count: Int,
    x: UnsafePointer<Float>, mean mu: Float, invstd istd: Float, gamma: Float,
    gradOutput: UnsafePointer<Float>, reluOutput: UnsafePointer<Float>?,
    gradResidual: UnsafeMutablePointer<Float>?, gradInput: UnsafeMutablePointer<Float>
  ) {
    // Σ g·x̂ = invstd · Σ g·(x − mean)
    let sumGXhat = sums.1 * Double(istd)
    let scale = gamma * istd
    let meanG = batchStatistics ? Float(sums.0 / Double(count)) : 0
    // x̂ · Σ(g·x̂)/M = (x − mean) · invstd · Σ(g·x̂)/M
    let slope = batchStatistics ? Float(sumGXhat / Double(count)) * istd : 0
    for n in 0..<batch {
      let offset = row(n, c)
      let (xc, dx) = (x + offset, gradInput + offset)
      if let gr = gradResidual, reluOutput != nil {
        let gm = UnsafePointer(gr + offset)
        for i in 0..<length { dx[i] = scale * (gm[i] - meanG - (xc[i] - mu) * slope) }
      } else if let y = reluOutput {
        let (g, y) = (gradOutput + offset, y + offset)
        for i in 0..<length {
          let gm = y[i] > 0 ? g[i] : 0
          dx[i] = scale * (gm - meanG - (xc[i] - mu) * slope)
        }
      } else {
        let g = gradOutput + offset
        for i in 0..<length { dx[i] = scale * (g[i] - meanG - (xc[i] - mu) * slope) }
      }
    }
  }
}
