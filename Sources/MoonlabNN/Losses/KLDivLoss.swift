import Foundation
import MoonlabTensor

/// PyTorch's `KLDivLoss`: the input x is log-probabilities, the target t probabilities
/// (or log-probabilities with `logTarget`):
///
///     l = t·(log t − x)   (0 where t = 0)     dl/dx = −t       dl/dt = log t + 1 − x
///     l = eᵗ·(t − x)      (logTarget)         dl/dx = −eᵗ      dl/dt = eᵗ·(t − x + 1)
///
/// `batchmean` (sum ÷ batch size) is the true KL divergence per sample; PyTorch's
/// default, like ours, is `mean` over all elements.
public final class KLDivLoss: Loss {
  public let reduction: Reduction
  public let logTarget: Bool

  public init(reduction: Reduction = .mean, logTarget: Bool = false) {
    self.reduction = reduction
    self.logTarget = logTarget
  }

  public override func forward(_ input: Tensor, _ target: Tensor) throws -> Tensor {
    if logTarget {
      return try elementwise(
        input, target, reduction: reduction,
        loss: { x, t in Foundation.exp(Double(t)) * Double(t - x) },
        gradient: { _, t in -Foundation.exp(t) },
        targetGradient: { x, t in Foundation.exp(t) * (t - x + 1) })
    }
    return try elementwise(
      input, target, reduction: reduction,
      loss: { x, t in t > 0 ? Double(t) * (Foundation.log(Double(t)) - Double(x)) : 0 },
      gradient: { _, t in -t },
      targetGradient: { x, t in t > 0 ? Foundation.log(t) + 1 - x : 0 })
  }
}
