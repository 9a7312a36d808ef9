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
    NormalizeGroups.forward(
      x.data, xhat: xhat.data, invStd: invStd.data, groups: groups, n: n, eps: eps)
    if let pw = weight?.data, let pb = bias?.data {
      let (py, ph) = (y.data, xhat.data)
      for gi in 0..<groups {
        let (out, norm) = (py + gi * n, ph + gi * n)
        for j in 0..<n { out[j] = norm[j] * pw[j] + pb[j] }
      }
    } else {
      y.data.update(from: xhat.data, count: x.count)
    }
    let inputs = [x] + (weight.map { [$0, bias!] } ?? [])
    return Autograd.record("LayerNorm", output: y, inputs: inputs) {
      [
        xhat, invStd, weight, shape = normalizedShape,
        needAffine = (weight?.requiresGrad ?? false) || (bias?.requiresGrad ?? false)
      ] g in
      let gx = Tensor(uninitialized: xhat.shape)
      let (pg, ph, pgx) = (g.data, xhat.data, gx.data)
      if let pw = weight?.data {  // ĝ = g·γ
        for gi in 0..<groups {
          for j in 0..<n { pgx[gi * n + j] = pg[gi * n + j] * pw[j] }
        }
      } else {
        pgx.update(from: pg, count: g.count)
      }
      NormalizeGroups.backward(pgx, xhat: ph, invStd: invStd.data, groups: groups, n: n)
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
