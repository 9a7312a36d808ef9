import MoonlabTensor

/// y = x·Wᵀ + b over the last dimension (input [N, in] or [*, in]).
/// Weight [out, in] and bias [out] start as U(±1/√in), PyTorch's default.
public final class Linear: Module {
  public let inFeatures, outFeatures: Int
  public let weight: Tensor
  public let bias: Tensor?

  public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true) throws {
    guard inFeatures > 0, outFeatures > 0 else {
      throw TensorError("Linear: sizes must be positive, got \(inFeatures) -> \(outFeatures)")
    }
    self.inFeatures = inFeatures
    self.outFeatures = outFeatures
    weight = Tensor(zeros: [outFeatures, inFeatures])
    self.bias = bias ? Tensor(zeros: [outFeatures]) : nil
    super.init()
    Init.pytorchDefault(weight, fanIn: inFeatures)
    param("weight", weight)
    if let b = self.bias {
      Init.pytorchDefault(b, fanIn: inFeatures)
      param("bias", b)
    }
  }

  public override var extraDescription: String {
    "\(inFeatures) -> \(outFeatures)" + (bias == nil ? ", no bias" : "")
  }

  public override func forward(_ x: Tensor) throws -> Tensor {
    guard x.rank >= 1, x.shape[x.rank - 1] == inFeatures else {
      throw TensorError("Linear: expected input [N,\(inFeatures)], got \(describeShape(x.shape))")
    }
    let (rows, nIn, nOut) = (x.count / inFeatures, inFeatures, outFeatures)
    let y = Tensor(zeros: Array(x.shape.dropLast()) + [nOut])
    if let bias {
      for r in 0..<rows { (y.data + r * nOut).update(from: bias.data, count: nOut) }
    }
    if rows > 0 {
      sgemm(
        transA: false, transB: true, m: rows, n: nOut, k: nIn, a: x.data, lda: nIn, b: weight.data, ldb: nIn,
        beta: bias == nil ? 0 : 1, c: y.data, ldc: nOut)
    }
    let inputs = [x, weight] + (bias.map { [$0] } ?? [])
    return Autograd.record("Linear", output: y, inputs: inputs) { [x = x.detach(), needX = x.requiresGrad, weight, bias] g in
      var gx: Tensor?
      if needX, rows > 0 {
        // dx = g·W
        let t = Tensor(zeros: x.shape)
        sgemm(
          transA: false, transB: false, m: rows, n: nIn, k: nOut, a: g.data, lda: nOut, b: weight.data, ldb: nIn,
          c: t.data, ldc: nIn)
        gx = t
      }
      // dW = gᵀ·x, db = Σ_rows g
      let gw = Tensor(zeros: weight.shape)
      if rows > 0 {
        sgemm(
          transA: true, transB: false, m: nOut, n: nIn, k: rows, a: g.data, lda: nOut, b: x.data, ldb: nIn,
          c: gw.data, ldc: nIn)
      }
      guard bias != nil else { return [gx, gw] }
      let gb = Tensor(zeros: [nOut])
      for r in 0..<rows {
        let row = g.data + r * nOut
        for o in 0..<nOut { gb.data[o] += row[o] }
      }
      return [gx, gw, gb]
    }
  }
}
