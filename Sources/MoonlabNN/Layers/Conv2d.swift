import MoonlabTensor

/// 2-D convolution (cross-correlation, as in PyTorch) of an [N, Cin, H, W] input with a
/// [Cout, Cin, k, k] weight, zero padding and stride. Weight and bias start as
/// U(±1/√(Cin·k·k)), PyTorch's default.
///
/// A `ConvPlan` picks the kernels for each input shape and runs forward and backward
/// (docs/nn.md, "Conv2d").
public final class Conv2d: Module {
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
        "Conv2d: channels, kernel size and stride must be positive and padding ≥ 0, got \(inChannels) -> \(outChannels), kernel \(kernelSize), stride \(stride), padding \(padding)"
      )
    }
    try Shape.validate([outChannels, inChannels, kernelSize, kernelSize], op: "Conv2d")
    self.inChannels = inChannels
    self.outChannels = outChannels
    self.kernelSize = kernelSize
    self.stride = stride
    self.padding = padding
    weight = Tensor(zeros: [outChannels, inChannels, kernelSize, kernelSize])
    self.bias = bias ? Tensor(zeros: [outChannels]) : nil
    super.init()
    registerWeightAndBias(weight, self.bias, fanIn: inChannels * kernelSize * kernelSize)
  }

  public override var extraDescription: String {
    "\(inChannels) -> \(outChannels), kernel \(kernelSize)"
      + (stride != 1 ? ", stride \(stride)" : "")
      + (padding != 0 ? ", padding \(padding)" : "") + (bias == nil ? ", no bias" : "")
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
    return convolve(
      "Conv2d", x, plan, weight: weight, bias: bias,
      outputShape: [x.shape[0], outChannels, g.outHeight, g.outWidth], scratch: scratch)
  }
}

/// One tape node running `plan` forward, and backward for the input and weight gradients
/// that are needed (Conv2d, and Conv1d as a 1×k convolution of height-1 images).
func convolve(
  _ name: String, _ x: Tensor, _ plan: ConvPlan, weight: Tensor, bias: Tensor?,
  outputShape: [Int], scratch: Workspace
) -> Tensor {
  let y = Tensor(uninitialized: outputShape)
  plan.forward(
    input: x.data, weight: weight.data, bias: bias?.data, output: y.data, scratch: scratch)
  let inputs = [x, weight] + (bias.map { [$0] } ?? [])
  return Autograd.record(name, output: y, inputs: inputs) {
    [
      x = x.detach(), needX = x.requiresGrad, needW = weight.requiresGrad, weight,
      hasBias = bias != nil, scratch
    ] gy in
    let gx = needX ? Tensor(uninitialized: x.shape) : nil
    let gw = needW ? Tensor(uninitialized: weight.shape) : nil  // frozen: no dW pass
    let gb = hasBias ? Tensor(uninitialized: [plan.outChannels]) : nil
    plan.backward(
      gradOutput: gy.data, input: x.data, weight: weight.data, gradInput: gx?.data,
      gradWeight: gw, gradBias: gb, scratch: scratch)
    return [gx, gw] + (gb.map { [$0] } ?? [])
  }
}
