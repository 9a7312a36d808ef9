import MoonlabTensor

/// 2-D convolution (cross-correlation, as in PyTorch) of an [N, Cin, H, W] input with a
/// [Cout, Cin, k, k] weight, zero padding and stride. Weight and bias start as
/// U(±1/√(Cin·k·k)), PyTorch's default.
///
/// A `ConvPlan` picks the kernels for each input shape and runs forward and backward
/// (docs/nn.md, "Conv2d").
public final class Conv2d: Convolution {
  public init(
    _ inChannels: Int, _ outChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
    bias: Bool = true
  ) throws {
    try super.init(
      "Conv2d", inChannels, outChannels, kernelSize: kernelSize, stride: stride,
      padding: padding, bias: bias,
      weightShape: [outChannels, inChannels, kernelSize, kernelSize],
      fanIn: inChannels * kernelSize * kernelSize)
  }

  public override func forward(_ x: Tensor) throws -> Tensor {
    guard x.rank == 4, x.shape[1] == inChannels else {
      throw TensorError(
        "Conv2d: expected input [N,\(inChannels),H,W], got \(describeShape(x.shape))")
    }
    guard x.shape[2] + 2 * padding >= kernelSize, x.shape[3] + 2 * padding >= kernelSize else {
      throw TensorError(
        "Conv2d: input \(describeShape(x.shape)) is smaller than the \(kernelSize)x\(kernelSize) kernel (padding \(padding))"
      )
    }
    let plan = ConvPlan(
      ConvGeometry(
        channels: inChannels, height: x.shape[2], width: x.shape[3], kernel: kernelSize,
        stride: stride, padding: padding),
      outChannels: outChannels, batch: x.shape[0])
    let g = plan.geometry
    return try convolve(
      "Conv2d", x, plan, weight: weight, bias: bias,
      outputShape: [x.shape[0], outChannels, g.outHeight, g.outWidth], scratch: scratch)
  }
}
