import MoonlabNN
import MoonlabTensor

/// LeNet-CIFAR training throughput at batch 256 (bench/torch/lenet_bench.py is the
/// PyTorch counterpart).
enum LeNetBench {
  static func run() throws {
    try TrainStepBench.run(name: "lenet", model: try model(), batch: 256, steps: 10)
  }

  /// LeNet-CIFAR as in bench/torch/lenet_bench.py.
  static func model() throws -> Sequential {
    Sequential([
      try Conv2d(3, 6, kernelSize: 5), ReLU(), try MaxPool2d(2), try Conv2d(6, 16, kernelSize: 5),
      ReLU(), try MaxPool2d(2), Flatten(), try Linear(400, 120), ReLU(), try Linear(120, 84),
      ReLU(), try Linear(84, 10),
    ])
  }
}
