import MoonlabTensor

/// The normalisation shared by LayerNorm and GroupNorm (docs/nn.md, "Embedding,
/// normalisation, activations"): each of `groups` contiguous runs of n values is shifted
/// to mean 0 and scaled by 1/√(var + eps), biased variance. The affine part (per position
/// or per channel) is the layer's own.
enum NormalizeGroups {
  static func chunk(_ n: Int) -> Int { max(1, (1 << 14) / max(n, 1)) }

  /// x̂ per group and 1/σ per group (saved for backward).
  static func forward(
    _ x: UnsafePointer<Float>, xhat: UnsafeMutablePointer<Float>,
    invStd: UnsafeMutablePointer<Float>, groups: Int, n: Int, eps: Float
  ) {
    Parallel.forChunks(groups, minChunk: chunk(n)) { r in
      for gi in r {
        let (row, norm) = (x + gi * n, xhat + gi * n)
        // Mean, then squared deviations from it (stable when |mean| ≫ std), in Double.
        var sum: Double = 0
        for j in 0..<n { sum += Double(row[j]) }
        let mean = Float(sum / Double(n))
        var sq: Double = 0
        for j in 0..<n { sq += Double((row[j] - mean) * (row[j] - mean)) }
        let s = 1 / (Float(sq / Double(n)) + eps).squareRoot()
        invStd[gi] = s
        for j in 0..<n { norm[j] = (row[j] - mean) * s }
      }
    }
  }

  /// dx = (1/σ)(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂)) per group, where ĝ = ∂L/∂x̂ is in `dx` on entry.
  static func backward(
    _ dx: UnsafeMutablePointer<Float>, xhat: UnsafePointer<Float>, invStd: UnsafePointer<Float>,
    groups: Int, n: Int
  ) {
    Parallel.forChunks(groups, minChunk: chunk(n)) { r in
      for gi in r {
        let (d, h) = (dx + gi * n, xhat + gi * n)
        var sumG: Float = 0
        var sumGH: Float = 0
        for j in 0..<n {
          sumG += d[j]
          sumGH += d[j] * h[j]
        }
        let (meanG, meanGH) = (sumG / Float(n), sumGH / Float(n))
        for j in 0..<n { d[j] = invStd[gi] * (d[j] - meanG - h[j] * meanGH) }
      }
    }
  }
}

/// LayerNorm and GroupNorm: normalise groups of contiguous values (`NormalizeGroups`), then
/// y = x̂·γ + β with γ = 1, β = 0 at start when `affine`. Value i of the input uses
/// parameter (i / stride) mod count: per position for LayerNorm (stride 1), per channel
/// for GroupNorm (stride H·W).
public class GroupNormalization: Module {
  public let eps: Float
  public let weight, bias: Tensor?

  init(eps: Float, affine: Bool, parameterShape: [Int], op: String) throws {
    try Shape.validate(parameterShape, op: op)  // before allocating it
    self.eps = eps
    weight = affine ? Tensor(zeros: parameterShape) : nil
    bias = affine ? Tensor(zeros: parameterShape) : nil
    super.init()
    if let weight, let bias {
      Init.constant(weight, 1)
      param("weight", weight)
      param("bias", bias)
    }
  }

  var affineDescription: String { weight == nil ? ", no affine" : "" }

  /// One tape node: normalise `groups` runs of n values of x, then the affine map.
  func normalize(_ x: Tensor, groups: Int, n: Int, stride: Int) -> Tensor {
    let y = Tensor(uninitialized: x.shape)
    let xhat = Tensor(uninitialized: x.shape)
    let invStd = Tensor(uninitialized: [groups])
    NormalizeGroups.forward(
      x.data, xhat: xhat.data, invStd: invStd.data, groups: groups, n: n, eps: eps)
    let count = weight?.count ?? 1
    if let pw = weight?.data, let pb = bias?.data {
      let (py, ph) = (y.data, xhat.data)
      for i in 0..<x.count {
        let k = (i / stride) % count
        py[i] = ph[i] * pw[k] + pb[k]
      }
    } else {
      y.data.update(from: xhat.data, count: x.count)
    }
    let inputs = [x] + ([weight, bias].compactMap { $0 })
    return Autograd.record(typeName, output: y, inputs: inputs) {
      [
        xhat, invStd, weight,
        needAffine = (weight?.requiresGrad ?? false) || (bias?.requiresGrad ?? false)
      ] g in
      let gx = Tensor(uninitialized: xhat.shape)
      let (pg, ph, pgx) = (g.data, xhat.data, gx.data)
      if let pw = weight?.data {  // ĝ = g·γ
        for i in 0..<g.count { pgx[i] = pg[i] * pw[(i / stride) % count] }
      } else {
        pgx.update(from: pg, count: g.count)
      }
      NormalizeGroups.backward(pgx, xhat: ph, invStd: invStd.data, groups: groups, n: n)
      guard let weight else { return [gx] }
      guard needAffine else { return [gx, nil, nil] }
      // dγ = Σ g·x̂, dβ = Σ g over the values using each parameter
      let gw = Tensor(zeros: weight.shape)
      let gb = Tensor(zeros: weight.shape)
      let (pgw, pgb) = (gw.data, gb.data)
      for i in 0..<g.count {
        let k = (i / stride) % count
        pgw[k] += pg[i] * ph[i]
        pgb[k] += pg[i]
      }
      return [gx, gw, gb]
    }
  }
}
