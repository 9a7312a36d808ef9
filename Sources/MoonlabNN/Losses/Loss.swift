import MoonlabTensor

/// A criterion: (input, target) → scalar loss, mean over elements. A Module (no
/// parameters) so it prints, and binds to Lua, like any other module.
open class Loss: Module {
  open func forward(_ input: Tensor, _ target: Tensor) throws -> Tensor {
    throw TensorError("\(typeName): forward is not defined")
  }

  public func callAsFunction(_ input: Tensor, _ target: Tensor) throws -> Tensor {
    try forward(input, target)
  }

  open override func forward(_ input: Tensor) throws -> Tensor {
    throw TensorError("\(typeName): expects (input, target), got only an input")
  }

  /// loss(xᵢ, tᵢ) over same-shape input and target, reduced (mean by default), as one
  /// node whose input gradient is gradient(xᵢ, tᵢ) times the output gradient (÷ n for the
  /// mean), and the target's likewise with targetGradient, if given. `check` sees each
  /// pair first and may reject it. Sums run in Double.
  func elementwise(
    _ input: Tensor, _ target: Tensor, reduction: Reduction = .mean,
    check: (Float, Int) throws -> Void = { _, _ in },
    loss: (Float, Float) -> Double, gradient: @escaping (Float, Float) -> Float,
    targetGradient: ((Float, Float) -> Float)? = nil
  ) throws -> Tensor {
    guard input.shape == target.shape else {
      throw TensorError(
        "\(typeName): input \(describeShape(input.shape)) and target \(describeShape(target.shape)) must have the same shape"
      )
    }
    let n = input.count
    guard n > 0 else { throw TensorError("\(typeName): empty input") }
    let (px, pt) = (input.data, target.data)
    let out = Tensor(zeros: reduction == .none ? input.shape : [])
    var sum = 0.0
    for i in 0..<n {
      try check(px[i], i)
      let l = loss(px[i], pt[i])
      if reduction == .none { out.data[i] = Float(l) } else { sum += l }
    }
    // batchmean divides by the batch size (dimension 0), as KLDivLoss does.
    let divisor = reduction.divisor(count: n, batch: input.rank > 0 ? input.shape[0] : 1)
    if reduction != .none { out.data[0] = Float(sum / divisor) }
    return Autograd.record(typeName, output: out, inputs: [input, target]) {
      [x = input.detach(), t = target.detach()] g in
      // One output gradient for a reduced loss, one per element for 'none'.
      let perElement = reduction == .none
      let scale = perElement ? 1 : g.data[0] / Float(divisor)
      func fill(_ f: (Float, Float) -> Float) -> Tensor {
        let d = Tensor(zeros: x.shape)
        for i in 0..<n { d.data[i] = (perElement ? g.data[i] : scale) * f(x.data[i], t.data[i]) }
        return d
      }
      return [fill(gradient), targetGradient.map(fill)]
    }
  }
}

/// How a loss combines its per-element (or per-sample) values, PyTorch's `reduction`.
/// `batchmean` (KLDivLoss only) divides the sum by the batch size.
public enum Reduction: String, CaseIterable {
  case mean, sum, none, batchmean

  func divisor(count: Int, batch: Int) -> Double {
    switch self {
    case .mean: return Double(count)
    case .batchmean: return Double(batch)
    case .sum, .none: return 1
    }
  }
}

/// Mean squared error: mean((x − t)²); d/dx = 2(x − t)/n, d/dt = −2(x − t)/n.
public final class MSELoss: Loss {
  public override func forward(_ input: Tensor, _ target: Tensor) throws -> Tensor {
    try elementwise(
      input, target, loss: { x, t in Double(x - t) * Double(x - t) },
      gradient: { x, t in 2 * (x - t) },
      targetGradient: { x, t in 2 * (t - x) })
  }
}

/// Rejects `batchmean`, which only KLDivLoss has.
func checkReduction(_ reduction: Reduction, _ op: String) throws {
  guard reduction != .batchmean else {
    throw TensorError(
      "\(op): reduction 'batchmean' is only for KLDivLoss (use 'mean', 'sum' or 'none')")
  }
}
