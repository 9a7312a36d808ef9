import MoonlabTensor

/// RMSprop (Hinton, Lecture 6e of "Neural Networks for Machine Learning"; centered form:
/// Graves 2013, https://arxiv.org/abs/1308.0850) as `torch.optim.RMSprop`:
///
///     g = g + weight_decay · p
///     v = α v + (1 − α) g²
///     centered: ḡ = ḡ + (1 − α)(g − ḡ),  avg = √(v − ḡ²) + ε;  else avg = √v + ε
///     momentum > 0: buf = μ buf + g / avg,  p = p − lr · buf;  else p = p − lr · g / avg
public final class RMSprop: Optimizer {
  public let alpha, eps, weightDecay, momentum: Double
  public let centered: Bool

  public init(
    _ parameters: [Tensor], lr: Double = 0.01, alpha: Double = 0.99, eps: Double = 1e-8,
    weightDecay: Double = 0, momentum: Double = 0, centered: Bool = false
  ) throws {
    guard alpha >= 0, alpha <= 1 else {
      throw TensorError("RMSprop: alpha \(alpha) must be in [0, 1]")
    }
    guard eps >= 0, eps.isFinite else {
      throw TensorError("RMSprop: invalid eps \(eps) (must be ≥ 0)")
    }
    guard weightDecay >= 0, weightDecay.isFinite else {
      throw TensorError("RMSprop: invalid weight_decay \(weightDecay) (must be ≥ 0)")
    }
    guard momentum >= 0, momentum < 1 else {
      throw TensorError("RMSprop: momentum \(momentum) must be in [0, 1)")
    }
    self.alpha = alpha
    self.eps = eps
    self.weightDecay = weightDecay
    self.momentum = momentum
    self.centered = centered
    // v, then the momentum buffer and ḡ when used.
    let buffers = 1 + (momentum > 0 ? 1 : 0) + (centered ? 1 : 0)
    try super.init(parameters, lr: lr, buffersPerParameter: buffers, op: "RMSprop")
  }

  public override func update(
    _ param: UnsafeMutablePointer<Float>, grad: UnsafeMutablePointer<Float>,
    state: [UnsafeMutablePointer<Float>],
    count: Int, step: Int
  ) {
    let v = state[0]
    let buf: UnsafeMutablePointer<Float>? = momentum > 0 ? state[1] : nil
    let mean: UnsafeMutablePointer<Float>? = centered ? state[state.count - 1] : nil
    let (lr, a, w, wd, mu, eps) = (
      Float(lr), Float(alpha), Float(1 - alpha), Float(weightDecay), Float(momentum), Float(eps)
    )
    for i in 0..<count {
      let g = fusedMultiplyAdd(param[i], wd, grad[i])
      v[i] = fusedMultiplyAdd(w * g, g, v[i] * a)
      var square = v[i]
      if let mean {
        mean[i] = fusedMultiplyAdd(w, g - mean[i], mean[i])
        square = fusedMultiplyAdd(-mean[i], mean[i], square)
      }
      let avg = square.squareRoot() + eps
      if let buf {
        buf[i] = buf[i] * mu + g / avg
        param[i] = fusedMultiplyAdd(buf[i], -lr, param[i])
      } else {
        param[i] = param[i] + (-lr) * g / avg
      }
    }
  }
}
