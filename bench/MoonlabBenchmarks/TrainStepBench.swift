import Foundation
import MoonlabNN
import MoonlabTensor

/// One training step (forward, backward, plain SGD) of a CIFAR network on random data,
/// timed as the median of five runs of `steps` steps after a warm-up. Shared by the
/// `lenet`, `vgg` and `resnet20` benchmarks; each has a PyTorch counterpart in
/// bench/torch/ that prints the same line. Each then reports its peak RSS (TrainingRSS).
enum TrainStepBench {
  static func run(name: String, model: Module, batch: Int, steps: Int) throws {
    RunContext.current.reseed(0)
    let (x, y) = try randomBatch(batch)
    let loss = CrossEntropyLoss()
    let sgd = try SGD(model.parameters(), lr: 0.01)
    let cpu0 = cpuSeconds()
    let seconds = try Timing.median(repeats: 5) {
      for _ in 0..<steps {
        sgd.zeroGrad()
        try loss(model(x), y).backward()
        try sgd.step()
      }
    }
    // CPU time (all threads) per step: steadier than wall time on a shared machine.
    let cpuPerStep = (cpuSeconds() - cpu0) / Double(6 * steps)  // warm-up + 5 repeats
    let perStep = seconds / Double(steps)
    // Forward multiply-adds ×2 FLOPs ×3 passes (forward, input and weight gradients).
    let flops = 6 * Double(try MultiplyAdds.count(model, input: [3, 32, 32])) * Double(batch)
    Timing.report(
      "\(name)_train", Double(batch) / perStep, "images/s",
      String(
        format: "batch %d, %.2f ms/step, %.2f CPU ms/step, %.1f GFLOP/s, %d threads", batch,
        perStep * 1e3, cpuPerStep * 1e3, flops / perStep / 1e9, RunContext.current.threads))
    try TrainingRSS.report(name)
  }

  /// Random CIFAR-shaped images and 0-based labels, the same on every run.
  static func randomBatch(_ batch: Int) throws -> (x: Tensor, y: Tensor) {
    let gen = Generator(seed: 1, stream: "bench")
    let x = try Tensor.randn([batch, 3, 32, 32], generator: gen)
    let y = try Tensor(shape: [batch], values: (0..<batch).map { _ in Float(gen.below(10)) })
    return (x, y)
  }

  static func cpuSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
      + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) * 1e-6
  }
}

/// Multiply-adds of one image's forward pass through convolutions and Linear layers,
/// following the shape [C, H, W] through Sequential and Residual containers.
enum MultiplyAdds {
  static func count(_ model: Module, input: [Int]) throws -> Int {
    var shape = input
    return try walk(model, &shape)
  }

  private static func walk(_ m: Module, _ shape: inout [Int]) throws -> Int {
    switch m {
    case let s as Sequential:
      return try s.layers.reduce(0) { $0 + (try walk($1, &shape)) }
    case let r as Residual:
      var skip = shape
      let main = try walk(r.block, &shape)
      return main + (try r.shortcut.map { try walk($0, &skip) } ?? 0)
    case let c as Conv2d:
      let out = { (n: Int) in (n + 2 * c.padding - c.kernelSize) / c.stride + 1 }
      shape = [c.outChannels, out(shape[1]), out(shape[2])]
      return c.outChannels * shape[1] * shape[2] * c.inChannels * c.kernelSize * c.kernelSize
    case let l as Linear:
      shape = [l.outFeatures]
      return l.inFeatures * l.outFeatures
    case let p as Pool2d:
      let out = { (n: Int) in (n - p.kernelSize) / p.stride + 1 }
      shape = [shape[0], out(shape[1]), out(shape[2])]
      return 0
    case is Flatten:
      shape = [shape.reduce(1, *)]
      return 0
    default:
      return 0
    }
  }
}
