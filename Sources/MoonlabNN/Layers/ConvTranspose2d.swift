import MoonlabTensor

/// Transposed 2-D convolution (PyTorch's ConvTranspose2d): the adjoint of a Conv2d with
/// the same kernel, stride and padding, mapping [N, Cin, H, W] to [N, Cout, Hout, Wout],
/// Hout = (H − 1)·stride − 2·padding + k + outputPadding. Weight [Cin, Cout, k, k] and bias
/// [Cout] start as U(±1/√(Cout·k·k)) (PyTorch's fan-in of this layout).
///
/// With the Conv2d from Cout to Cin channels over a Hout × Wout image, this layer's
/// forward is that convolution's input gradient, its input gradient the convolution's
/// forward and its weight gradient the convolution's weight gradient: one `ConvPlan` runs
/// all three (docs/nn.md, "ConvTranspose2d").
public final class ConvTranspose2d: Convolution {
  public let outputPadding: Int

  public init(
    _ inChannels: Int, _ outChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
    outputPadding: Int = 0, bias: Bool = true
  ) throws {
    guard outputPadding >= 0, outputPadding < max(stride, 1) else {
      throw TensorError(
        "ConvTranspose2d: output padding must be in 0..<stride, got \(outputPadding) with stride \(stride)"
      )
    }
    self.outputPadding = outputPadding
    try super.init(
      "ConvTranspose2d", inChannels, outChannels, kernelSize: kernelSize, stride: stride,
      padding: padding, bias: bias,
      weightShape: [inChannels, outChannels, kernelSize, kernelSize],
      fanIn: outChannels * kernelSize * kernelSize)
  }

  override var moreOptions: String {
    outputPadding != 0 ? ", output padding \(outputPadding)" : ""
  }

  public override func forward(_ x: Tensor) throws -> Tensor {
    guard x.rank == 4, x.shape[1] == inChannels, x.shape[2] > 0, x.shape[3] > 0 else {
      throw TensorError(
        "ConvTranspose2d: expected input [N,\(inChannels),H,W], got \(describeShape(x.shape))")
    }
    let size = { (n: Int) in
      (n - 1) * self.stride - 2 * self.padding + self.kernelSize + self.outputPadding
    }
    let (h, w) = (size(x.shape[2]), size(x.shape[3]))
    guard h > 0, w > 0 else {
      throw TensorError(
        "ConvTranspose2d: input \(describeShape(x.shape)) gives an empty output (\(h)x\(w)) with padding \(padding)"
      )
    }
    try Shape.validate([x.shape[0], outChannels, h, w], op: "ConvTranspose2d")
    let plan = ConvPlan(
      ConvGeometry(
        channels: outChannels, height: h, width: w, kernel: kernelSize, stride: stride,
        padding: padding),
      outChannels: inChannels, batch: x.shape[0])
    let y = Tensor(uninitialized: [x.shape[0], outChannels, h, w])
    try plan.backward(
      gradOutput: x.data, input: nil, weight: weight.data, gradInput: y.data, gradWeight: nil,
      gradBias: nil, scratch: scratch)
    if let pb = bias?.data {
      let plane = h * w
      for p in 0..<x.shape[0] * outChannels {
        let (row, b) = (y.data + p * plane, pb[p % outChannels])
        for i in 0..<plane { row[i] += b }
      }
    }
    let inputs = [x, weight] + (bias.map { [$0] } ?? [])
    return Autograd.record("ConvTranspose2d", output: y, inputs: inputs) {
      [
        x = x.detach(), needX = x.requiresGrad, needW = weight.requiresGrad, weight, bias,
        scratch
      ] gy in
      let gx = needX ? Tensor(uninitialized: x.shape) : nil
      if let gx {  // the convolution's forward
        try plan.forward(
          input: gy.data, weight: weight.data, bias: nil, output: gx.data, scratch: scratch)
      }
      let gw = needW ? Tensor(uninitialized: weight.shape) : nil
      if gw != nil {  // the convolution's weight gradient, its output gradient being x
        try plan.backward(
          gradOutput: x.data, input: gy.data, weight: weight.data, gradInput: nil,
          gradWeight: gw, gradBias: nil, scratch: scratch)
      }
      guard bias != nil else { return [gx, gw] }
      let gb = Tensor(zeros: [gy.shape[1]])
      let plane = gy.shape[2] * gy.shape[3]
      for p in 0..<gy.shape[0] * gy.shape[1] {
        gb.data[p % gy.shape[1]] += Reduce.sum(gy.data + p * plane, plane)
      }
      return [gx, gw, gb]
    }
  }
}
