import MoonlabTensor

/// Multiplies its input by a constant (Torch7's `nn.MulConstant`; PyTorch code writes
/// `x * s` inside forward): one tape node of the tensor op `mul(s)`, whose backward is
/// g · s. airbench scales its logits this way (docs/nn.md, "Modules").
public final class MulConstant: Module {
  public let scale: Float

  public init(_ scale: Float) throws {
    guard scale.isFinite else {
      throw TensorError("MulConstant: the constant \(scale) must be finite")
    }
    self.scale = scale
  }

  public override var extraDescription: String { "scale \(scale)" }

  public override func forward(_ x: Tensor) throws -> Tensor { x.mul(scale) }
}
