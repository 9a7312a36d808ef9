import MoonlabTensor

/// 1-D convolution (cross-correlation, as in PyTorch) of an [N, Cin, L] input with a
/// [Cout, Cin, k] weight, zero padding and stride: output length ⌊(L + 2p − k)/s⌋ + 1.
/// Weight and bias start as U(±1/√(Cin·k)), PyTorch's default.
///
/// It runs as Conv2d's `ConvPlan` on [N, Cin, 1, L] images with a 1×k kernel (the same
/// memory), so every kernel and path is Conv2d's (docs/nn.md, "Conv1d").
public final class Conv1d: Module {
  public let inChannels, outChannels, kernelSize, stride, padding: Int
  public let weight: Tensor
  public let bias: Tensor?
  private let scratch = Workspace()

  public init(
    _ inChannels: Int, _ outChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
    bias: Bool = true
  ) throws {
    guard inChannels > 0, outChannels > 0, kernelSize > 0, stride > 0, padding >= 0 else {
      throw TensorError(
        "Conv1d: channels, kernel size and stride must be positive and padding ≥ 0, got \(inChannels) -> \(outChannels), kernel \(kernelSize), stride \(stride), padding \(padding)"
      )
    }
    try Shape.validate([outChannels, inChannels, kernelSize], op: "Conv1d")
    self.inChannels = inChannels
    self.outChannels = outChannels
    self.kernelSize = kernelSize
    self.stride = stride
    self.padding = padding
    weight = Tensor(zeros: [outChannels, inChannels, kernelSize])
    self.bias = bias ? Tensor(zeros: [outChannels]) : nil
    super.init()
    registerWeightAndBias(weight, self.bias, fanIn: inChannels * kernelSize)
  }

  public override var extraDescription: String {
    "\(inChannels) -> \(outChannels), kernel \(kernelSize)"
      + (stride != 1 ? ", stride \(stride)" : "")
      + (padding != 0 ? ", padding \(padding)" : "") + (bias == nil ? ", no bias" : "")
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
    return convolve(
      "Conv1d", x, plan, weight: weight, bias: bias,
      outputShape: [x.shape[0], outChannels, plan.geometry.outWidth], scratch: scratch)
  }
}
