import MoonlabNN
import MoonlabTensor

/// The 3×3-conv + BatchNorm networks users move on to after LeNet, trained at batch 128
/// (bench/torch/cifar_nets_bench.py builds the same ones in PyTorch).
enum CIFARNetBench {
  static func runVGG() throws {
    try TrainStepBench.run(name: "vgg", model: try vggSmall(), batch: 128, steps: 3)
  }

  static func runResNet20() throws {
    try TrainStepBench.run(name: "resnet20", model: try resnet20(), batch: 128, steps: 3)
  }

  /// conv3×3-BN-ReLU at 32, 32, (pool) 64, 64, (pool) 128, (pool), Linear 2048 → 10.
  static func vggSmall() throws -> Sequential {
    func block(_ cin: Int, _ cout: Int) throws -> [Module] {
      [
        try Conv2d(cin, cout, kernelSize: 3, padding: 1, bias: false), try BatchNorm2d(cout),
        ReLU(),
      ]
    }
    return Sequential(
      try block(3, 32) + block(32, 32) + [try MaxPool2d(2)] + block(32, 64) + block(64, 64)
        + [try MaxPool2d(2)] + block(64, 128) + [try MaxPool2d(2), Flatten(), try Linear(2048, 10)])
  }

  /// ResNet-20 (He et al. 2016, CIFAR variant): conv3×3 16, three stages of three basic
  /// blocks at 16/32/64 channels, 1×1-conv + BN shortcuts where the shape changes
  /// (option B), global average pool, Linear 64 → 10.
  static func resnet20() throws -> Sequential {
    func conv3(_ cin: Int, _ cout: Int, stride: Int) throws -> Conv2d {
      try Conv2d(cin, cout, kernelSize: 3, stride: stride, padding: 1, bias: false)
    }
    func basic(_ cin: Int, _ cout: Int, stride: Int) throws -> [Module] {
      let block = Sequential([
        try conv3(cin, cout, stride: stride), try BatchNorm2d(cout), ReLU(),
        try conv3(cout, cout, stride: 1), try BatchNorm2d(cout),
      ])
      let shortcut =
        stride == 1 && cin == cout
        ? nil
        : Sequential([
          try Conv2d(cin, cout, kernelSize: 1, stride: stride, bias: false), try BatchNorm2d(cout),
        ])
      return [Residual(block, shortcut: shortcut), ReLU()]
    }
    var layers: [Module] = [try conv3(3, 16, stride: 1), try BatchNorm2d(16), ReLU()]
    var cin = 16
    for (stage, width) in [16, 32, 64].enumerated() {
      for i in 0..<3 {
        layers += try basic(cin, width, stride: stage > 0 && i == 0 ? 2 : 1)
        cin = width
      }
    }
    layers += [try AvgPool2d(8), Flatten(), try Linear(64, 10)]
    return Sequential(layers)
  }
}
