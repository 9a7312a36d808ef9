import MoonlabTensor

/// PyTorch's `SmoothL1Loss(beta)`: with d = x − t,
/// l = |d| < β ? 0.5·d²/β : |d| − 0.5·β;  dl/dx = clamp(d/β, −1, 1) (sign(d) when β = 0,
/// which is the L1 loss); dl/dt = −dl/dx.
public final class SmoothL1Loss: Loss {
  public let beta: Float
  public let reduction: Reduction

  public init(beta: Float = 1, reduction: Reduction = .mean) throws {
    guard beta >= 0, beta.isFinite else {
      throw TensorError("SmoothL1Loss: beta \(beta) must be a finite number ≥ 0")
    }
    try checkReduction(reduction, "SmoothL1Loss")
    self.beta = beta
    self.reduction = reduction
  }

  public override func forward(_ input: Tensor, _ target: Tensor) throws -> Tensor {
    let beta = beta
    func slope(_ d: Float) -> Float { d < -beta ? -1 : d > beta ? 1 : beta == 0 ? 0 : d / beta }
    return try elementwise(
      input, target, reduction: reduction,
      loss: { x, t in
        let z = Double(abs(x - t))
        return z < Double(beta) ? 0.5 * z * z / Double(beta) : z - 0.5 * Double(beta)
      },
      gradient: { x, t in slope(x - t) }, targetGradient: { x, t in -slope(x - t) })
  }
}
