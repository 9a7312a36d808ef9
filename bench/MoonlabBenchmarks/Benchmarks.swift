import Foundation
import MoonlabTensor

/// The benchmark suite behind `moonlab bench [name…]`: each prints one or more lines
/// `name: value unit (details)`, the format bench/run.sh parses to put Moonlab next to
/// the PyTorch counterparts in bench/torch/.
public enum Benchmarks {
  static let all: [(name: String, about: String, run: () throws -> Void)] = [
    ("lua_call", "one Lua→Swift call through the C trampoline", LuaCallBench.run),
    ("startup", "a fresh process: an empty moonlab run, moonlab --version", StartupBench.run),
    ("tensor", "matmul next to cblas_sgemm; elementwise add, exp and a chain", TensorBench.run),
    ("pipeline", "PadCrop + HFlip + Normalize into CIFAR batches, one core", PipelineBench.run),
    ("fma_peak", "the multiply-add peak of this CPU on --threads threads", FMAPeakBench.run),
    ("lenet", "LeNet-CIFAR training images/s at batch 256", LeNetBench.run),
    ("vgg", "VGG-small (conv3×3-BN-ReLU ×5) training images/s at batch 128", CIFARNetBench.runVGG),
    ("resnet20", "ResNet-20 training images/s at batch 128", CIFARNetBench.runResNet20),
    (
      "speedrun_step", "airbench94's training step at batch 1024 (experiments/cifar_speedrun.lua)",
      SpeedrunStepBench.run
    ),
    ("lenet_layers", "each LeNet layer's forward and backward alone", LeNetLayersBench.run),
    ("lenet_augment", "a LeNet epoch with augmentation on vs off", LeNetAugmentBench.run),
    (
      "bn_layers", "BatchNorm, fused BatchNorm+ReLU/+add+ReLU and pooling at VGG/ResNet shapes",
      BNLayersBench.run
    ),
    ("conv_layers", "VGG-small and ResNet-20 convolutions alone at batch 128", ConvLayersBench.run),
    (
      "winograd_variants", "conv_layers' Winograd layers with F(2×2) and F(4×4) forced",
      WinogradVariantsBench.run
    ),
    (
      "mlp_step", "one SGD step of the MLP 784-100-100-10 at batch 1, 16 and 1024", MLPStepBench.run
    ),
    (
      "data_parallel", "LeNet on MNIST: one process vs 2 MPI ranks, and the gradient sum's cost",
      DataParallelBench.run
    ),
  ]

  /// Names and one-line descriptions, in running order.
  public static var list: [(name: String, about: String)] { all.map { ($0.name, $0.about) } }

  /// Runs the named benchmarks (all when `names` is empty) in the suite's order; a
  /// failing one prints `name: failed: …` and the rest still run. Returns how many failed.
  public static func run(_ names: [String]) throws -> Int {
    let unknown = names.filter { name in !all.contains { $0.name == name } }
    guard unknown.isEmpty else {
      throw TensorError(
        "unknown benchmark \(unknown.map { "'\($0)'" }.joined(separator: ", ")); choose from \(all.map(\.name).joined(separator: ", "))"
      )
    }
    var failures = 0
    for b in all where names.isEmpty || names.contains(b.name) {
      do {
        try b.run()
      } catch {
        print("\(b.name): failed: \(error)")
        failures += 1
      }
    }
    return failures
  }
}
