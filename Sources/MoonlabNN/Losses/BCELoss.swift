import Foundation
import MoonlabTensor

/// Binary cross-entropy of probabilities p ∈ [0, 1] against targets t (same shape), mean:
/// −mean(t·log p + (1 − t)·log(1 − p)), each log clamped at −100 as PyTorch does;
/// d/dp = (p − t) / max(p(1 − p), 1e-12) / n.
public final class BCELoss: Loss {
  public override func forward(_ input: Tensor, _ target: Tensor) throws -> Tensor {
    try elementwise(
      input, target,
      check: { p, i in
        guard p >= 0, p <= 1 else {
          throw TensorError(
            "BCELoss: input values must be probabilities in [0, 1], got \(p) at element \(i + 1)")
        }
      },
      loss: { p, t in
        -Double(t * max(Foundation.log(p), -100) + (1 - t) * max(Foundation.log(1 - p), -100))
      },
      gradient: { p, t in (p - t) / max(p * (1 - p), 1e-12) })
  }
}

/// Sigmoid + binary cross-entropy on logits x, fused for stability:
/// mean(max(x, 0) − x·t + log(1 + e^−|x|)); d/dx = (σ(x) − t) / n.
public final class BCEWithLogitsLoss: Loss {
  public override func forward(_ input: Tensor, _ target: Tensor) throws -> Tensor {
    try elementwise(
      input, target,
      loss: { x, t in Double(max(x, 0) - x * t + Foundation.log1p(Foundation.exp(-abs(x)))) },
      gradient: { x, t in 1 / (1 + Foundation.exp(-x)) - t })
  }
}
