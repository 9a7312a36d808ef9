import MoonlabNN
import MoonlabTensor

/// The layers between the convolutions of the VGG-style and ResNet-20 CIFAR models at
/// batch 128, at each of their shapes: BatchNorm2d alone, BatchNorm + ReLU (in a
/// Sequential, so fused; and as two separate ops), BatchNorm + add + ReLU (a Residual
/// whose block is the BatchNorm, then a ReLU), 2×2 max pooling and ResNet's global
/// average pooling. Each line is forward + backward (median ms), in train mode, with a
/// fresh graph per pass; bench/torch/bn_layers_bench.py times the same names.
enum BNLayersBench {
  /// (channels, side) of the activations: VGG's, then ResNet-20's.
  static let shapes = [(32, 32), (64, 16), (128, 8), (16, 32), (32, 16), (64, 8)]
  static let batch = 128

  static func run() throws {
    RunContext.current.reseed(0)
    let gen = Generator(seed: 1, stream: "bench")
    for (c, side) in shapes {
      let x = try Tensor.randn([batch, c, side, side], generator: gen)
      x.requiresGrad = true
      let suffix = "c\(c)_\(side)"
      let bn = try BatchNorm2d(c)
      try time("bn2d_\(suffix)", x, gen, [bn]) { try bn($0) }
      let seq = Sequential([bn, ReLU()])
      try time("bn_relu_\(suffix)", x, gen, [bn], "Sequential{BatchNorm2d, ReLU}") { try seq($0) }
      try time("bn_relu_separate_\(suffix)", x, gen, [bn], "BatchNorm2d, then relu()") {
        try bn($0).relu()
      }
      let block = Sequential([Residual(bn), ReLU()])
      try time("bn_add_relu_\(suffix)", x, gen, [bn], "Sequential{Residual(BatchNorm2d), ReLU}") {
        try block($0)
      }
      let pool = try MaxPool2d(2)
      try time("maxpool2_\(suffix)", x, gen, []) { try pool($0) }
      if side == 8 {
        let global = try AvgPool2d(8)
        try time("avgpool8_\(suffix)", x, gen, []) { try global($0) }
      }
    }
  }

  /// Reports forward + backward of `f` on `x` (median ms), with forward alone and the
  /// difference (backward) in the details.
  static func time(
    _ name: String, _ x: Tensor, _ gen: Generator, _ modules: [Module], _ about: String = "",
    _ f: (Tensor) throws -> Tensor
  ) throws {
    let g = try Tensor.randn(try f(x).shape, generator: gen)
    let forward = try Timing.median { _ = try f(x) }
    let both = try Timing.median {
      x.grad = nil
      for m in modules { m.zeroGrad() }
      try f(x).backward(g)
    }
    Timing.report(
      name, both * 1e3, "ms",
      String(
        format: "%@forward %.2f ms, backward %.2f ms", about.isEmpty ? "" : about + ", ",
        forward * 1e3, (both - forward) * 1e3))
  }
}
