import MoonlabTensor

/// 1-D convolution (cross-correlation, as in PyTorch) of an [N, Cin, L] input with a
/// [Cout, Cin, k] weight, zero padding and stride: output length ⌊(L + 2p − k)/s⌋ + 1.
/// Weight and bias start as U(±1/√(Cin·k)), PyTorch's default.
///
/// It runs as Conv2d's `ConvPlan` on [N, Cin, 1, L] images with a 1×k kernel (the same
/// memory), so every kernel and path is Conv2d's (docs/nn.md, "Conv1d").
public final class Conv1d: Convolution {
  public init(
    _ inChannels: Int, _ outChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
    bias: Bool = true
  ) throws {
    try super.init(
      "Conv1d", inChannels, outChannels, kernelSize: kernelSize, stride: stride,
      padding: padding, bias: bias, weightShape: [outChannels, inChannels, kernelSize],
      fanIn: inChannels * kernelSize)
  }

  public override func forward(_ x: Tensor) throws -> Tensor {
    guard x.rank == 3, x.shape[1] == inChannels else {
      throw TensorError("Conv1d: expected input [N,\(inChannels),L], got \(describeShape(x.shape))")
    }
    guard x.shape[2] + 2 * padding >= kernelSize else {
      throw TensorError(
        "Conv1d: input \(describeShape(x.shape)) is shorter than the kernel \(kernelSize) (padding \(padding))"
      )
    }
    let plan = ConvPlan(
      ConvGeometry(
        channels: inChannels, height: 1, width: x.shape[2], kernel: kernelSize, stride: stride,
        padding: padding, kernelHeight: 1, paddingHeight: 0),
      outChannels: outChannels, batch: x.shape[0])
    return try convolve(
      "Conv1d", x, plan, weight: weight, bias: bias,
      outputShape: [x.shape[0], outChannels, plan.geometry.outWidth], scratch: scratch)
  }
}
