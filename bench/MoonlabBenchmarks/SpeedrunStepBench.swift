import MoonlabNN
import MoonlabTensor

/// One training step of airbench94's network (experiments/cifar_speedrun.lua) at batch 1024.
enum SpeedrunStepBench {
  static func run() throws {
    try TrainStepBench.run(name: "speedrun", model: try net(), batch: 1024, steps: 1)
  }

  static func net() throws -> Sequential {
    func conv(_ cin: Int, _ cout: Int) throws -> Conv2d {
      try Conv2d(cin, cout, kernelSize: 3, padding: 1, bias: false)
    }
    func norm(_ c: Int) throws -> BatchNorm2d {
      let bn = try BatchNorm2d(c, momentum: 0.4, eps: 1e-12)
      bn.weight.requiresGrad = false
      return bn
    }
    func group(_ cin: Int, _ cout: Int) throws -> [Module] {
      [try conv(cin, cout), try MaxPool2d(2), try norm(cout), GELU(), try conv(cout, cout), try norm(cout), GELU()]
    }
    let whiten = try Conv2d(3, 24, kernelSize: 2, padding: 0, bias: true)
    whiten.weight.requiresGrad = false
    return Sequential(
      [whiten, GELU()] + (try group(24, 64)) + (try group(64, 256)) + (try group(256, 256))
        + [try MaxPool2d(3), Flatten(), try Linear(256, 10, bias: false)])
  }
}
