import MoonlabTensor

/// Stochastic gradient descent with momentum, Nesterov momentum and L2 weight decay —
/// PyTorch's `torch.optim.SGD` with dampening 0:
///
///     d = g + weight_decay · p
///     buf = momentum · buf + d                 (buf starts at 0, so buf₁ = d)
///     d = nesterov ? d + momentum · buf : buf
///     p = p − lr · d
///
/// Nesterov form: Sutskever et al. 2013, as PyTorch implements it. Where PyTorch's CPU
/// kernels fuse a multiply-add (`add(x, alpha=)` is an FMA) we do too, which keeps the
/// trajectories within float rounding of PyTorch's.
public final class SGD: Optimizer {
  public let momentum: Double
  public let weightDecay: Double
  public let nesterov: Bool

  public init(
    _ parameters: [Tensor], lr: Double, momentum: Double = 0, weightDecay: Double = 0,
    nesterov: Bool = false
  ) throws {
    guard momentum >= 0, momentum < 1 else {
      throw TensorError("SGD: momentum \(momentum) must be in [0, 1)")
    }
    guard weightDecay >= 0, weightDecay.isFinite else {
      throw TensorError("SGD: invalid weight_decay \(weightDecay) (must be ≥ 0)")
    }
    guard !nesterov || momentum > 0 else { throw TensorError("SGD: nesterov needs a momentum > 0") }
    self.momentum = momentum
    self.weightDecay = weightDecay
    self.nesterov = nesterov
    try super.init(parameters, lr: lr, buffersPerParameter: momentum > 0 ? 1 : 0, op: "SGD")
  }

  public override func update(
    _ param: UnsafeMutablePointer<Float>, grad: UnsafeMutablePointer<Float>,
    state: [UnsafeMutablePointer<Float>],
    count: Int, step: Int
  ) {
    let lr = Float(lr)
    let wd = Float(weightDecay)
    let mu = Float(momentum)
    guard let buf = state.first else {
      for i in 0..<count {
        param[i] = fusedMultiplyAdd(fusedMultiplyAdd(param[i], wd, grad[i]), -lr, param[i])
      }
      return
    }
    for i in 0..<count {
      let d = fusedMultiplyAdd(param[i], wd, grad[i])
      let b = mu * buf[i] + d
      buf[i] = b
      param[i] = fusedMultiplyAdd(nesterov ? fusedMultiplyAdd(b, mu, d) : b, -lr, param[i])
    }
  }
}
