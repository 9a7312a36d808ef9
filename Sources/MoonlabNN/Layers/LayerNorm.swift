import MoonlabTensor

/// Layer normalisation (Ba et al. 2016) over the last dimensions, `normalizedShape`:
/// each group of n = ∏ normalizedShape values is shifted to mean 0 and scaled by
/// 1/√(var + eps) (biased variance), then y = x̂·γ + β elementwise with γ = 1, β = 0 at
/// start (`elementwiseAffine`). Same in train and eval mode.
public final class LayerNorm: Module {
  public let normalizedShape: [Int]
  public let eps: Float
  public let weight, bias: Tensor?

  public init(_ normalizedShape: [Int], eps: Float = 1e-5, elementwiseAffine: Bool = true) throws {
    guard !normalizedShape.isEmpty, normalizedShape.allSatisfy({ $0 > 0 }) else {
      throw TensorError(
        "LayerNorm: normalized shape must be one or more positive sizes, got \(describeShape(normalizedShape))"
      )
    }
    try Shape.validate(normalizedShape, op: "LayerNorm")
    self.normalizedShape = normalizedShape
    self.eps = eps
    weight = elementwiseAffine ? Tensor(zeros: normalizedShape) : nil
    bias = elementwiseAffine ? Tensor(zeros: normalizedShape) : nil
    super.init()
    if let weight, let bias {
      Init.constant(weight, 1)
      param("weight", weight)
      param("bias", bias)
    }
  }

  public override var extraDescription: String {
    describeShape(normalizedShape) + (weight == nil ? ", no affine" : "")
  }

  public override func forward(_ x: Tensor) throws -> Tensor {
    let k = normalizedShape.count
    guard x.rank >= k, Array(x.shape.suffix(k)) == normalizedShape else {
      throw TensorError(
        "LayerNorm: expected input [*, \(normalizedShape.map(String.init).joined(separator: ", "))], got \(describeShape(x.shape))"
      )
    }
    let n = normalizedShape.reduce(1, *)
    let groups = x.count / n
    let y = Tensor(uninitialized: x.shape)
    let xhat = Tensor(uninitialized: x.shape)
    let invStd = Tensor(uninitialized: [groups])
    let (px, py, ph, ps) = (x.data, y.data, xhat.data, invStd.data)
    let (pw, pb) = (weight?.data, bias?.data)
    Parallel.forChunks(groups, minChunk: max(1, (1 << 14) / n)) { r in
      for gi in r {
        let (row, out, norm) = (px + gi * n, py + gi * n, ph + gi * n)
        // Mean, then squared deviations from it (stable when |mean| ≫ std), in Double.
        var sum: Double = 0
        for j in 0..<n { sum += Double(row[j]) }
        let mean = Float(sum / Double(n))
        var sq: Double = 0
        for j in 0..<n { sq += Double((row[j] - mean) * (row[j] - mean)) }
        let s = 1 / (Float(sq / Double(n)) + eps).squareRoot()
        ps[gi] = s
        for j in 0..<n { norm[j] = (row[j] - mean) * s }
        if let pw, let pb {
          for j in 0..<n { out[j] = norm[j] * pw[j] + pb[j] }
        } else {
          out.update(from: norm, count: n)
        }
      }
    }
    let inputs = [x] + (weight.map { [$0, bias!] } ?? [])
    return Autograd.record("LayerNorm", output: y, inputs: inputs) {
      [
        xhat, invStd, weight, shape = normalizedShape,
        needAffine = (weight?.requiresGrad ?? false) || (bias?.requiresGrad ?? false)
      ] g in
      let gx = Tensor(uninitialized: xhat.shape)
      let (pg, ph, ps, pgx, pw) = (g.data, xhat.data, invStd.data, gx.data, weight?.data)
      // dx = s·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂)), ĝ = g·γ (the derivative of the normalisation).
      Parallel.forChunks(groups, minChunk: max(1, (1 << 14) / n)) { r in
        for gi in r {
          let (gr, hr, out) = (pg + gi * n, ph + gi * n, pgx + gi * n)
          var sumG: Float = 0
          var sumGH: Float = 0
          for j in 0..<n {
            let gh = gr[j] * (pw?[j] ?? 1)
            out[j] = gh
            sumG += gh
            sumGH += gh * hr[j]
          }
          let (meanG, meanGH) = (sumG / Float(n), sumGH / Float(n))
          for j in 0..<n { out[j] = ps[gi] * (out[j] - meanG - hr[j] * meanGH) }
        }
      }
      guard weight != nil else { return [gx] }
      guard needAffine else { return [gx, nil, nil] }
      let gw = Tensor(zeros: shape)
      let gb = Tensor(zeros: shape)
      let (pgw, pgb) = (gw.data, gb.data)
      for gi in 0..<groups {
        let (gr, hr) = (pg + gi * n, ph + gi * n)
        for j in 0..<n {
          pgw[j] += gr[j] * hr[j]
          pgb[j] += gr[j]
        }
      }
      return [gx, gw, gb]
    }
  }
}
