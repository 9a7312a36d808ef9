import MoonlabTensor

/// The Winograd layers of `ConvLayersBench` (stride 1, padding 1, ≥ 8 input channels) run
/// through `ConvPlan` with F(2×2, 3×3) and with F(4×4, 3×3) forced, batch 128: the CPU ms
/// of forward and backward (dX and dW) of each, and the variant the plan picks. The
/// measurements behind `Winograd4.preferred` (docs/nn.md, "Performance").
enum WinogradVariantsBench {
  static func run() throws {
    let batch = 128
    let gen = Generator(seed: 1, stream: "bench")
    for (name, cin, cout, k, stride, size, _) in ConvLayersBench.shapes
    where k == 3 && stride == 1 && cin >= ConvPlan.winogradChannels {
      let g = ConvGeometry(
        channels: cin, height: size, width: size, kernel: 3, stride: 1, padding: 1)
      let x = try Tensor.randn([batch, cin, size, size], generator: gen)
      let w = try Tensor.randn([cout, cin, 3, 3], generator: gen)
      let y = Tensor(uninitialized: [batch, cout, size, size])
      let gy = try Tensor.randn([batch, cout, size, size], generator: gen)
      let (gx, gw) = (Tensor(uninitialized: x.shape), Tensor(uninitialized: w.shape))
      let scratch = Workspace()
      var cells: [String] = []
      for f4 in [false, true] {
        let plan = ConvPlan(g, outChannels: cout, batch: batch, winograd4: f4)
        let forward = try Timing.medians(repeats: 5) {
          try plan.forward(
            input: x.data, weight: w.data, bias: nil, output: y.data, scratch: scratch)
        }
        let backward = try Timing.medians(repeats: 5) {
          try plan.backward(
            gradOutput: gy.data, input: x.data, weight: w.data, gradInput: gx.data,
            gradWeight: gw, gradBias: nil, scratch: scratch)
        }
        cells.append(
          String(
            format: "%@ %.1f + %.1f", f4 ? "F(4x4)" : "F(2x2)", forward.cpu * 1e3,
            backward.cpu * 1e3))
      }
      let chosen = ConvPlan(g, outChannels: cout, batch: batch).description
      print(
        "winograd_\(name): CPU ms forward + backward: \(cells.joined(separator: ", ")); plan \(chosen)"
      )
    }
  }
}
