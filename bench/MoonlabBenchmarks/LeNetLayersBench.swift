import MoonlabNN
import MoonlabTensor

/// Where a LeNet-CIFAR training step spends its time: each layer's forward and backward
/// alone at batch 256 (median ms), then the loss and the SGD step. A guide for
/// optimisation, not a target; `lenet` is the number issue 4 compares with PyTorch.
enum LeNetLayersBench {
  static func run() throws {
    RunContext.current.reseed(0)
    let model = try LeNetBench.model()
    let batch = 256
    let gen = Generator(seed: 1, stream: "bench")
    var x = try Tensor.randn([batch, 3, 32, 32], generator: gen)
    for (i, layer) in model.layers.enumerated() {
      let input = x.detach()
      input.requiresGrad = i > 0  // the first layer's input is data: no gradient needed
      var y = input
      let forward = try Timing.median(repeats: 9) { y = try layer(input) }
      let g = try Tensor.randn(y.shape, generator: gen)
      // The layer's own backward node, without the tape walk or leaf-gradient copies.
      let node = y.node
      let backward = try Timing.median(repeats: 9) { _ = try node?.backward(g) }
      Timing.report(
        "lenet_layer\(i)", (forward + backward) * 1e3, "ms",
        String(
          format: "%@, forward %.2f ms, backward %.2f ms",
          "\(layer.typeName) \(layer.extraDescription)", forward * 1e3,
          backward * 1e3))
      x = y.detach()
    }
    let y = try Tensor(shape: [batch], values: (0..<batch).map { _ in Float(gen.below(10)) })
    let logits = x.detach()
    logits.requiresGrad = true
    let loss = CrossEntropyLoss()
    let lossTime = try Timing.median(repeats: 9) { try loss(logits, y).backward() }
    Timing.report("lenet_loss", lossTime * 1e3, "ms", "forward + backward")
    for p in model.parameters() { p.grad = Tensor(zeros: p.shape) }
    let sgd = try SGD(model.parameters(), lr: 0.01, momentum: 0.9)
    let step = try Timing.median(repeats: 9) { try sgd.step() }
    Timing.report("lenet_sgd", step * 1e3, "ms", "momentum 0.9")
  }
}
