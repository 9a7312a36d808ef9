/// Variance and standard deviation, over all elements or along one dimension, divided by
/// n − correction (correction 1, the unbiased estimate, is PyTorch's default).
extension Tensor {
  public func variance(correction: Int = 1) -> Tensor {
    variance(outShape: [], outer: 1, n: count, inner: 1, correction: correction)
  }

  public func variance(dim: Int, keepDim: Bool = false, correction: Int = 1) throws -> Tensor {
    let (d, outer, n, inner) = try layout(dim, op: "var")
    return variance(
      outShape: try reducedShape(d, keepDim: keepDim, op: "var"), outer: outer, n: n,
      inner: inner, correction: correction)
  }

  public func std(correction: Int = 1) -> Tensor { variance(correction: correction).sqrt() }

  public func std(dim: Int, keepDim: Bool = false, correction: Int = 1) throws -> Tensor {
    try variance(dim: dim, keepDim: keepDim, correction: correction).sqrt()
  }

  /// out[o, i] = Σⱼ (x[o, j, i] − mean)² / (n − correction), two passes in Double (the
  /// mean first, so large offsets don't cancel). dvar/dx[j] = 2 (x[j] − mean) / (n − c).
  private func variance(outShape: [Int], outer: Int, n: Int, inner: Int, correction: Int)
    -> Tensor
  {
    let out = Tensor(uninitialized: outShape)
    let means = Tensor(uninitialized: outShape)
    let divisor = Double(Swift.max(n - correction, 0))
    let (px, po, pm) = (data, out.data, means.data)
    for o in 0..<outer {
      for i in 0..<inner {
        let line = o * n * inner + i
        var sum: Double = 0
        for j in 0..<n { sum += Double(px[line + j * inner]) }
        let mean = sum / Double(n)
        var squares: Double = 0
        for j in 0..<n {
          let d = Double(px[line + j * inner]) - mean
          squares += d * d
        }
        po[o * inner + i] = Float(squares / divisor)
        pm[o * inner + i] = Float(mean)
      }
    }
    return Autograd.record("var", output: out, inputs: [self]) { [x = detach(), means] g in
      let gx = Tensor(uninitialized: x.shape)
      let (px, pg, pgx, pm) = (x.data, g.data, gx.data, means.data)
      let scale = Float(2 / divisor)
      for o in 0..<outer {
        for i in 0..<inner {
          let line = o * n * inner + i
          let (gi, mean) = (pg[o * inner + i] * scale, pm[o * inner + i])
          for j in 0..<n { pgx[line + j * inner] = gi * (px[line + j * inner] - mean) }
        }
      }
      return [gx]
    }
  }
}
