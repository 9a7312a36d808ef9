import Foundation
import MoonlabNN
import MoonlabTensor

/// LeNet-CIFAR training throughput at batch 256: forward, backward and a plain SGD
/// update per step, on random data, at `moonlab bench --threads` threads. bench/torch/lenet_bench.py is the PyTorch counterpart; issue 4 asks for
/// ≥ 1.0× PyTorch.
enum LeNetBench {
  static func run() throws {
    Generator.seedGlobal(0)
    let model = try model()
    let batch = 256
    let steps = 10
    let gen = Generator(seed: 1, stream: "bench")
    let x = try Tensor.randn([batch, 3, 32, 32], generator: gen)
    let y = try Tensor(shape: [batch], values: (0..<batch).map { _ in Float(gen.below(10)) })
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
    Timing.report(
      "lenet_train", Double(batch) / perStep, "images/s",
      String(
        format: "batch %d, %.2f ms/step, %.2f CPU ms/step, %d threads", batch, perStep * 1e3,
        cpuPerStep * 1e3,
        Parallel.threads))
    try TrainingRSS.report("lenet")
  }

  /// LeNet-CIFAR as in bench/torch/lenet_bench.py.
  static func model() throws -> Sequential {
    Sequential([
      try Conv2d(3, 6, kernelSize: 5), ReLU(), try MaxPool2d(2), try Conv2d(6, 16, kernelSize: 5),
      ReLU(), try MaxPool2d(2), Flatten(), try Linear(400, 120), ReLU(), try Linear(120, 84),
      ReLU(), try Linear(84, 10),
    ])
  }

  static func cpuSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
      + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) * 1e-6
  }
}
