import Foundation
import MoonlabTensor

/// Binary cross-entropy of probabilities p ∈ [0, 1] against targets t (same shape), mean:
/// −mean(t·log p + (1 − t)·log(1 − p)), each log clamped at −100 as PyTorch does;
/// d/dp = (p − t) / max(p(1 − p), 1e-12) / n.
public final class BCELoss: Loss {
  public override func forward(_ input: Tensor, _ target: Tensor) throws -> Tensor {
    try checkSameShape(input, target)
    let n = input.count
    let (pp, pt) = (input.data, target.data)
    var sum = 0.0
    for i in 0..<n {
      let p = pp[i]
      guard p >= 0, p <= 1 else {
        throw TensorError("BCELoss: input values must be probabilities in [0, 1], got \(p) at element \(i + 1)")
      }
      let logP = max(Foundation.log(p), -100), log1mP = max(Foundation.log(1 - p), -100)
      sum -= Double(pt[i] * logP + (1 - pt[i]) * log1mP)
    }
    let loss = Tensor(scalar: Float(sum / Double(n)))
    return Autograd.record("BCELoss", output: loss, inputs: [input]) { [p = input.detach(), t = target.detach()] g in
      let scale = g.data[0] / Float(n)
      let gp = Tensor(zeros: p.shape)
      for i in 0..<n {
        let x = p.data[i]
        gp.data[i] = scale * (x - t.data[i]) / max(x * (1 - x), 1e-12)
      }
      return [gp]
    }
  }
}

/// Sigmoid + binary cross-entropy on logits x, fused for stability:
/// mean(max(x, 0) − x·t + log(1 + e^−|x|)); d/dx = (σ(x) − t) / n.
public final class BCEWithLogitsLoss: Loss {
  public override func forward(_ input: Tensor, _ target: Tensor) throws -> Tensor {
    try checkSameShape(input, target)
    let n = input.count
    let (px, pt) = (input.data, target.data)
    var sum = 0.0
    for i in 0..<n {
      let x = px[i]
      sum += Double(max(x, 0) - x * pt[i] + Foundation.log1p(Foundation.exp(-abs(x))))
    }
    let loss = Tensor(scalar: Float(sum / Double(n)))
    return Autograd.record("BCEWithLogitsLoss", output: loss, inputs: [input]) {
      [x = input.detach(), t = target.detach()] g in
      let scale = g.data[0] / Float(n)
      let gx = Tensor(zeros: x.shape)
      for i in 0..<n { gx.data[i] = scale * (1 / (1 + Foundation.exp(-x.data[i])) - t.data[i]) }
      return [gx]
    }
  }
}
