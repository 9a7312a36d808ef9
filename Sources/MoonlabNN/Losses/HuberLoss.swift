import MoonlabTensor

/// PyTorch's `HuberLoss(delta)`: with d = x − t,
/// l = |d| < δ ? 0.5·d² : δ·(|d| − 0.5·δ);  dl/dx = clamp(d, −δ, δ);  dl/dt = −dl/dx.
/// Equal to δ · SmoothL1Loss(β = δ).
public final class HuberLoss: Loss {
  public let delta: Float
  public let reduction: Reduction

  public init(delta: Float = 1, reduction: Reduction = .mean) throws {
    guard delta > 0, delta.isFinite else {
      throw TensorError("HuberLoss: delta \(delta) must be a finite number > 0")
    }
    try checkReduction(reduction, "HuberLoss")
    self.delta = delta
    self.reduction = reduction
  }

  public override func forward(_ input: Tensor, _ target: Tensor) throws -> Tensor {
    let delta = delta
    return try elementwise(
      input, target, reduction: reduction,
      loss: { x, t in
        let z = Double(abs(x - t))
        let d = Double(delta)
        return z < d ? 0.5 * z * z : d * (z - 0.5 * d)
      },
      gradient: { x, t in min(max(x - t, -delta), delta) },
      targetGradient: { x, t in -min(max(x - t, -delta), delta) })
  }
}
