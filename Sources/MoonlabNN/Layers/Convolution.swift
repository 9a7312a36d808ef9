import MoonlabTensor

/// What Conv1d, Conv2d and ConvTranspose2d share: channels, a square (or 1-D) kernel,
/// stride and zero padding, the weight (`weightShape`) and bias [`biasCount`], both
/// U(±1/√fanIn) (PyTorch's default), and the scratch their `ConvPlan` reuses.
public class Convolution: Module {
  public let inChannels, outChannels, kernelSize, stride, padding: Int
  public let weight: Tensor
  public let bias: Tensor?
  let scratch = Workspace()

  init(
    _ op: String, _ inChannels: Int, _ outChannels: Int, kernelSize: Int, stride: Int,
    padding: Int, bias: Bool, weightShape: [Int], fanIn: Int
  ) throws {
    guard inChannels > 0, outChannels > 0, kernelSize > 0, stride > 0, padding >= 0 else {
      throw TensorError(
        "\(op): channels, kernel size and stride must be positive and padding ≥ 0, got \(inChannels) -> \(outChannels), kernel \(kernelSize), stride \(stride), padding \(padding)"
      )
    }
    try Shape.validate(weightShape, op: op)  // before allocating it
    self.inChannels = inChannels
    self.outChannels = outChannels
    self.kernelSize = kernelSize
    self.stride = stride
    self.padding = padding
    weight = Tensor(zeros: weightShape)
    self.bias = bias ? Tensor(zeros: [outChannels]) : nil
    super.init()
    registerWeightAndBias(weight, self.bias, fanIn: fanIn)
  }

  public override var extraDescription: String {
    "\(inChannels) -> \(outChannels), kernel \(kernelSize)"
      + (stride != 1 ? ", stride \(stride)" : "")
      + (padding != 0 ? ", padding \(padding)" : "") + moreOptions
      + (bias == nil ? ", no bias" : "")
  }

  /// A subclass's own options for the description (", output padding 1").
  var moreOptions: String { "" }
}

/// One tape node running `plan` forward, and backward for the input and weight gradients
/// that are needed (Conv2d, and Conv1d as a 1×k convolution of height-1 images).
func convolve(
  _ name: String, _ x: Tensor, _ plan: ConvPlan, weight: Tensor, bias: Tensor?,
  outputShape: [Int], scratch: Workspace
) throws -> Tensor {
  let y = Tensor(uninitialized: outputShape)
  try plan.forward(
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
    try plan.backward(
      gradOutput: gy.data, input: x.data, weight: weight.data, gradInput: gx?.data,
      gradWeight: gw, gradBias: gb, scratch: scratch)
    return [gx, gw] + (gb.map { [$0] } ?? [])
  }
}
