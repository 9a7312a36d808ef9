import Foundation
import MoonlabTensor

/// Weight initializers (`nn.init.*` in Lua). Each fills a tensor in place from the "init"
/// stream of the current run (`RunContext.stream`) unless a generator is given.
///
/// Module defaults follow PyTorch: Linear, Conv2d and RNN weights and biases are
/// U(−1/√fan_in, 1/√fan_in) — what PyTorch's kaiming_uniform(a=√5) reduces to;
/// BatchNorm γ = 1, β = 0.
public enum Init {
  static var stream: Generator { RunContext.current.stream("init") }

  /// N(mean, std²).
  public static func normal(
    _ t: Tensor, std: Float = 1, mean: Float = 0, generator: Generator? = nil
  ) {
    let gen = generator ?? stream
    let p = t.data
    for i in 0..<t.count { p[i] = mean + std * gen.normal() }
    t.markWritten()
  }

  /// U(−bound, bound).
  public static func uniform(_ t: Tensor, bound: Float, generator: Generator? = nil) {
    let gen = generator ?? stream
    let p = t.data
    for i in 0..<t.count { p[i] = (2 * gen.uniform() - 1) * bound }
    t.markWritten()
  }

  /// He et al. 2015 ("MSRA"): N(0, 2/fan_in), for layers followed by ReLU
  /// (PyTorch's kaiming_normal_ with its defaults).
  public static func msra(_ t: Tensor, generator: Generator? = nil) throws {
    let (fanIn, _) = try fans(t, op: "msra")
    normal(t, std: (2 / Float(fanIn)).squareRoot(), generator: generator)
  }

  /// Glorot & Bengio 2010: U(±√(6/(fan_in + fan_out))) (PyTorch's xavier_uniform_).
  public static func xavier(_ t: Tensor, generator: Generator? = nil) throws {
    let (fanIn, fanOut) = try fans(t, op: "xavier")
    uniform(t, bound: (6 / Float(fanIn + fanOut)).squareRoot(), generator: generator)
  }

  public static func zeros(_ t: Tensor) { constant(t, 0) }

  public static func constant(_ t: Tensor, _ value: Float) {
    t.data.update(repeating: value, count: t.count)
    t.markWritten()
  }

  /// PyTorch's default for Linear/Conv weights and biases: U(±1/√fan_in).
  static func pytorchDefault(_ t: Tensor, fanIn: Int) {
    uniform(t, bound: fanIn > 0 ? 1 / Float(fanIn).squareRoot() : 0)
  }

  /// fan_in and fan_out of a weight [out, in, k…] as PyTorch computes them.
  public static func fans(_ t: Tensor, op: String) throws -> (Int, Int) {
    guard t.rank >= 2 else {
      throw TensorError(
        "\(op): fan in and fan out need a tensor with 2 or more dimensions, got \(describeShape(t.shape))"
      )
    }
    let receptive = t.shape.dropFirst(2).reduce(1, *)
    return (t.shape[1] * receptive, t.shape[0] * receptive)
  }
}

extension Module {
  /// Initializes `weight` and `bias` with PyTorch's default and registers them as
  /// "weight" and "bias" (Linear, Conv2d).
  func registerWeightAndBias(_ weight: Tensor, _ bias: Tensor?, fanIn: Int) {
    Init.pytorchDefault(weight, fanIn: fanIn)
    param("weight", weight)
    if let bias {
      Init.pytorchDefault(bias, fanIn: fanIn)
      param("bias", bias)
    }
  }
}
