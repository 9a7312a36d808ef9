import MoonlabTensor

/// Adagrad (Duchi et al. 2011, https://jmlr.org/papers/v12/duchi11a.html) as
/// `torch.optim.Adagrad` (initial accumulator 0). At step t:
///
///     g = g + weight_decay · p
///     clr = lr / (1 + (t − 1) · lr_decay)
///     s = s + g²
///     p = p − clr · g / (√s + ε)
public final class Adagrad: Optimizer {
  public let lrDecay, weightDecay, eps: Double

  public init(
    _ parameters: [Tensor], lr: Double = 0.01, lrDecay: Double = 0, weightDecay: Double = 0,
    eps: Double = 1e-10
  ) throws {
    guard lrDecay >= 0, lrDecay.isFinite else {
      throw TensorError("Adagrad: invalid lr_decay \(lrDecay) (must be ≥ 0)")
    }
    guard weightDecay >= 0, weightDecay.isFinite else {
      throw TensorError("Adagrad: invalid weight_decay \(weightDecay) (must be ≥ 0)")
    }
    guard eps >= 0, eps.isFinite else {
      throw TensorError("Adagrad: invalid eps \(eps) (must be ≥ 0)")
    }
    self.lrDecay = lrDecay
    self.weightDecay = weightDecay
    self.eps = eps
    try super.init(parameters, lr: lr, buffersPerParameter: 1, op: "Adagrad")
  }

  public override func update(
    _ param: UnsafeMutablePointer<Float>, grad: UnsafeMutablePointer<Float>,
    state: [UnsafeMutablePointer<Float>],
    count: Int, step: Int
  ) {
    let s = state[0]
    let clr = Float(lr / (1 + Double(step - 1) * lrDecay))
    let (wd, eps) = (Float(weightDecay), Float(eps))
    for i in 0..<count {
      let g = fusedMultiplyAdd(param[i], wd, grad[i])
      s[i] = fusedMultiplyAdd(g, g, s[i])
      param[i] = param[i] + (-clr) * g / (s[i].squareRoot() + eps)
    }
  }
}
