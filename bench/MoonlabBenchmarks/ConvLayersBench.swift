import MoonlabNN
import MoonlabTensor

/// The convolutions of VGG-small, ResNet-20 and the speedrun on CIFAR, each alone at batch
/// 128: forward and backward median ms and GFLOP/s (2·N·Cout·Cin·k²·Hout·Wout per pass;
/// backward does two such products, dX and dW, or one for a first layer whose input needs
/// no gradient), and the CPU time of all threads (steadier on a shared machine).
/// bench/torch/conv_layers_bench.py times the same layers in PyTorch.
enum ConvLayersBench {
  /// (name, Cin, Cout, kernel, stride, input size, bias)
  static let shapes: [(String, Int, Int, Int, Int, Int, Bool)] = [
    ("vgg_3_32", 3, 32, 3, 1, 32, true),
    ("vgg_32_32", 32, 32, 3, 1, 32, true),
    ("vgg_32_64", 32, 64, 3, 1, 16, true),
    ("vgg_64_64", 64, 64, 3, 1, 16, true),
    ("vgg_64_128", 64, 128, 3, 1, 8, true),
    ("resnet_3_16", 3, 16, 3, 1, 32, false),
    ("resnet_16_16", 16, 16, 3, 1, 32, false),
    ("resnet_16_32_s2", 16, 32, 3, 2, 32, false),
    ("resnet_32_32", 32, 32, 3, 1, 16, false),
    ("resnet_32_64_s2", 32, 64, 3, 2, 16, false),
    ("resnet_64_64", 64, 64, 3, 1, 8, false),
    ("resnet_1x1_16_32_s2", 16, 32, 1, 2, 32, false),
    ("resnet_1x1_32_64_s2", 32, 64, 1, 2, 16, false),
    ("speedrun_24_64", 24, 64, 3, 1, 31, false),
    ("speedrun_64_64", 64, 64, 3, 1, 15, false),
    ("speedrun_64_256", 64, 256, 3, 1, 15, false),
    ("speedrun_256_256_7", 256, 256, 3, 1, 7, false),
    ("speedrun_256_256_3", 256, 256, 3, 1, 3, false),
  ]

  static func run() throws {
    RunContext.current.reseed(0)
    let batch = 128
    let gen = Generator(seed: 1, stream: "bench")
    for (name, cin, cout, k, stride, size, bias) in shapes {
      let conv = try Conv2d(
        cin, cout, kernelSize: k, stride: stride, padding: k / 2, bias: bias)
      let x = try Tensor.randn([batch, cin, size, size], generator: gen)
      x.requiresGrad = cin != 3  // a first layer's input is data: no gradient needed
      var y = x
      let forward = try Timing.medians(repeats: 9) { y = try conv(x) }
      let g = try Tensor.randn(y.shape, generator: gen)
      let node = y.node  // the layer's own backward, without the tape walk
      let backward = try Timing.medians(repeats: 9) { _ = try node?.backward(g) }
      let flop = 2.0 * Double(batch * cout * cin * k * k * y.shape[2] * y.shape[3])
      let backwardFlop = x.requiresGrad ? 2 * flop : flop
      Timing.report(
        "conv_\(name)", (forward.wall + backward.wall) * 1e3, "ms",
        String(
          format:
            "forward %.2f ms %.1f GFLOP/s, backward %.2f ms %.1f GFLOP/s; CPU ms forward %.2f, backward %.2f",
          forward.wall * 1e3, flop / forward.wall * 1e-9, backward.wall * 1e3,
          backwardFlop / backward.wall * 1e-9, forward.cpu * 1e3, backward.cpu * 1e3))
    }
  }
}
