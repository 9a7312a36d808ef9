import MoonlabNN
import MoonlabTensor

/// One training step of airbench94's network (experiments/cifar_speedrun.lua) at batch
/// 1024 on random data: forward, summed label-smoothed cross-entropy, backward, Nesterov SGD
/// with the BatchNorm shifts in their own group. bench/torch/speedrun_step_bench.py times
/// the same step in PyTorch (channels-last, as bench/torch/airbench94_cpu.py trains).
enum SpeedrunStepBench {
  static let batch = 1024

  static func run() throws {
    RunContext.current.reseed(0)
    let (model, normBiases, others) = try net()
    let (x, y) = try TrainStepBench.randomBatch(batch)
    let loss = try CrossEntropyLoss(weight: nil, labelSmoothing: 0.2, reduction: .sum)
    let opt = try ParamGroups([
      try SGD(normBiases, lr: 0.4, momentum: 0.85, weightDecay: 1e-3, nesterov: true),
      try SGD(others, lr: 0.006, momentum: 0.85, weightDecay: 5e-3, nesterov: true),
    ])
    let cpu0 = TrainStepBench.cpuSeconds()
    let seconds = try Timing.median(repeats: 5) {
      opt.zeroGrad()
      try loss(model(x), y).backward()
      try opt.step()
    }
    let cpuPerStep = (TrainStepBench.cpuSeconds() - cpu0) / 6  // warm-up + 5 repeats
    let flops = 6 * Double(try MultiplyAdds.count(model, input: [3, 32, 32])) * Double(batch)
    Timing.report(
      "speedrun_step", seconds * 1e3, "ms",
      String(
        format: "batch %d, %.1f images/s, %.2f CPU ms/step, %.1f GFLOP/s, %d threads", batch,
        Double(batch) / seconds, cpuPerStep * 1e3, flops / seconds / 1e9,
        RunContext.current.threads))
    try TrainingRSS.report("speedrun_step")
  }

  /// The network as experiments/cifar_speedrun.lua builds it (Dirac and whitening inits
  /// left out: they don't change the step's cost), with its two parameter groups.
  static func net() throws -> (model: Sequential, normBiases: [Tensor], others: [Tensor]) {
    var (normBiases, others) = ([Tensor](), [Tensor]())
    func conv(_ cin: Int, _ cout: Int) throws -> Conv2d {
      let c = try Conv2d(cin, cout, kernelSize: 3, padding: 1, bias: false)
      others.append(c.weight)
      return c
    }
    func norm(_ c: Int) throws -> BatchNorm2d {
      let bn = try BatchNorm2d(c, momentum: 0.4, eps: 1e-12)
      bn.weight.requiresGrad = false
      normBiases.append(bn.bias)
      return bn
    }
    func block(_ cin: Int, _ cout: Int) throws -> [Module] {
      [
        try conv(cin, cout), try MaxPool2d(2), try norm(cout), GELU(), try conv(cout, cout),
        try norm(cout), GELU(),
      ]
    }
    let whiten = try Conv2d(3, 24, kernelSize: 2, padding: 0, bias: true)
    whiten.weight.requiresGrad = false
    others += whiten.bias.map { [$0] } ?? []
    let head = try Linear(256, 10, bias: false)
    let layers: [Module] =
      [whiten, GELU()] + (try block(24, 64)) + (try block(64, 256)) + (try block(256, 256))
      + [try MaxPool2d(3), Flatten(), head, try MulConstant(1.0 / 9)]
    others.append(head.weight)
    return (Sequential(layers), normBiases, others)
  }
}
