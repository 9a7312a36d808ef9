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

  /// mean_i loss(xᵢ, tᵢ) over same-shape input and target, as one node whose input
  /// gradient is gradient(xᵢ, tᵢ)/n (and the target's targetGradient(xᵢ, tᵢ)/n, if given).
  /// `check` sees each pair first and may reject it. Sums run in Double.
  func elementwiseMean(
    _ input: Tensor, _ target: Tensor, check: (Float, Int) throws -> Void = { _, _ in },
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
    var sum = 0.0
    for i in 0..<n {
      try check(px[i], i)
      sum += loss(px[i], pt[i])
    }
    let out = Tensor(scalar: Float(sum / Double(n)))
    return Autograd.record(typeName, output: out, inputs: [input, target]) {
      [x = input.detach(), t = target.detach()] g in
      let scale = g.data[0] / Float(n)
      let gx = Tensor(zeros: x.shape)
      for i in 0..<n { gx.data[i] = scale * gradient(x.data[i], t.data[i]) }
      guard let targetGradient else { return [gx, nil] }
      let gt = Tensor(zeros: x.shape)
      for i in 0..<n { gt.data[i] = scale * targetGradient(x.data[i], t.data[i]) }
      return [gx, gt]
    }
  }
}

/// Mean squared error: mean((x − t)²); d/dx = 2(x − t)/n, d/dt = −2(x − t)/n.
public final class MSELoss: Loss {
  public override func forward(_ input: Tensor, _ target: Tensor) throws -> Tensor {
    try elementwiseMean(
      input, target, loss: { x, t in Double(x - t) * Double(x - t) },
      gradient: { x, t in 2 * (x - t) },
      targetGradient: { x, t in 2 * (t - x) })
  }
}
