import Foundation
import MoonlabTensor

/// Adam (Kingma & Ba 2015, https://arxiv.org/abs/1412.6980) as `torch.optim.Adam`, and
/// with decoupled weight decay as `torch.optim.AdamW` (Loshchilov & Hutter 2019,
/// https://arxiv.org/abs/1711.05101). At step t:
///
///     Adam:  g = g + weight_decay · p          AdamW:  p = p · (1 − lr · weight_decay)
///     m = m + (1 − β₁)(g − m)
///     v = β₂ v + (1 − β₂) g²
///     p = p − lr / (1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + ε)
///
/// The operations and their fused multiply-adds follow PyTorch's CPU kernels (lerp,
/// addcmul, addcdiv); only PyTorch's vectorised sqrt rounds differently, so trajectories
/// agree to a few float ulps rather than bit for bit.
public class Adam: Optimizer {
  public let beta1: Double
  public let beta2: Double
  public let eps: Double
  public let weightDecay: Double
  /// AdamW's decay of the weights themselves instead of an L2 term in the gradient.
  public let decoupledWeightDecay: Bool

  public convenience init(
    _ parameters: [Tensor], lr: Double = 1e-3, betas: (Double, Double) = (0.9, 0.999),
    eps: Double = 1e-8,
    weightDecay: Double = 0
  ) throws {
    try self.init(
      parameters, lr: lr, betas: betas, eps: eps, weightDecay: weightDecay, decoupled: false,
      op: "Adam")
  }

  init(
    _ parameters: [Tensor], lr: Double, betas: (Double, Double), eps: Double, weightDecay: Double,
    decoupled: Bool,
    op: String
  ) throws {
    for (k, beta) in [betas.0, betas.1].enumerated() where !(beta >= 0 && beta < 1) {
      throw TensorError("\(op): beta\(k + 1) \(beta) must be in [0, 1)")
    }
    guard eps >= 0, eps.isFinite else {
      throw TensorError("\(op): invalid eps \(eps) (must be ≥ 0)")
    }
    guard weightDecay >= 0, weightDecay.isFinite else {
      throw TensorError("\(op): invalid weight_decay \(weightDecay) (must be ≥ 0)")
    }
    (beta1, beta2) = betas
    self.eps = eps
    self.weightDecay = weightDecay
    decoupledWeightDecay = decoupled
    try super.init(parameters, lr: lr, buffersPerParameter: 2, op: op)
  }

  public override func update(
    _ param: UnsafeMutablePointer<Float>, grad: UnsafeMutablePointer<Float>,
    state: [UnsafeMutablePointer<Float>],
    count: Int, step: Int
  ) {
    let m = state[0]
    let v = state[1]
    // Scalars in double, as PyTorch computes them in Python, then rounded once.
    let stepSize = Float(lr / (1 - pow(beta1, Double(step))))
    let bias2Sqrt = Float((1 - pow(beta2, Double(step))).squareRoot())
    let decay = Float(decoupledWeightDecay ? 1 - lr * weightDecay : 1)
    let l2 = Float(decoupledWeightDecay ? 0 : weightDecay)
    let w1 = Float(1 - beta1)
    let b2 = Float(beta2)
    let w2 = Float(1 - beta2)
    let eps = Float(eps)
    // PyTorch's lerp(m, g, w1): m + w1 (g − m) for w1 < 0.5, else g − (1 − w1)(g − m), fused.
    let lerpFromGrad = w1 >= 0.5
    for i in 0..<count {
      let p = param[i] * decay
      let g = fusedMultiplyAdd(p, l2, grad[i])
      let mi =
        lerpFromGrad ? fusedMultiplyAdd(w1 - 1, g - m[i], g) : fusedMultiplyAdd(w1, g - m[i], m[i])
      let vi = fusedMultiplyAdd(w2 * g, g, v[i] * b2)
      m[i] = mi
      v[i] = vi
      param[i] = p + (-stepSize) * mi / (vi.squareRoot() / bias2Sqrt + eps)
    }
  }
}

/// Adam with decoupled weight decay (default 0.01, as PyTorch's AdamW).
public final class AdamW: Adam {
  public init(
    _ parameters: [Tensor], lr: Double = 1e-3, betas: (Double, Double) = (0.9, 0.999),
    eps: Double = 1e-8,
    weightDecay: Double = 0.01
  ) throws {
    try super.init(
      parameters, lr: lr, betas: betas, eps: eps, weightDecay: weightDecay, decoupled: true,
      op: "AdamW")
  }
}
