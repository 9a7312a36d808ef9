import MoonlabTensor

/// A criterion: (input, target) → scalar loss, mean over elements. A Module (no
/// parameters) so it prints, and binds to Lua, like any other module.
open class Loss: Module {
  open func forward(_ input: Tensor, _ target: Tensor) throws -> Tensor {
    throw TensorError("\(typeName): forward is not defined")
  }

  public func callAsFunction(_ input: Tensor, _ target: Tensor) throws -> Tensor { try forward(input, target) }

  open override func forward(_ input: Tensor) throws -> Tensor {
    throw TensorError("\(typeName): expects (input, target), got only an input")
  }

  /// Input and target must have the same shape (BCE, MSE).
  func checkSameShape(_ input: Tensor, _ target: Tensor) throws {
    guard input.shape == target.shape else {
      throw TensorError(
        "\(typeName): input \(describeShape(input.shape)) and target \(describeShape(target.shape)) must have the same shape"
      )
    }
    guard input.count > 0 else { throw TensorError("\(typeName): empty input") }
  }
}

/// Mean squared error: mean((x − t)²); d/dx = 2(x − t)/n, d/dt = −2(x − t)/n.
public final class MSELoss: Loss {
  public override func forward(_ input: Tensor, _ target: Tensor) throws -> Tensor {
    try checkSameShape(input, target)
    let n = input.count
    let (px, pt) = (input.data, target.data)
    var sum = 0.0
    for i in 0..<n {
      let d = Double(px[i] - pt[i])
      sum += d * d
    }
    let loss = Tensor(scalar: Float(sum / Double(n)))
    return Autograd.record("MSELoss", output: loss, inputs: [input, target]) {
      [x = input.detach(), t = target.detach()] g in
      let scale = 2 * g.data[0] / Float(n)
      let gx = Tensor(zeros: x.shape), gt = Tensor(zeros: x.shape)
      for i in 0..<n {
        let d = scale * (x.data[i] - t.data[i])
        gx.data[i] = d
        gt.data[i] = -d
      }
      return [gx, gt]
    }
  }
}
