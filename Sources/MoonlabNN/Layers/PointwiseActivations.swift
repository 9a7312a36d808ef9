import Foundation
import MoonlabTensor

/// An elementwise function and its derivative, both of the input x (docs/nn.md,
/// "Embedding, normalisation, activations"). A type, not a closure, so `pointwise` is
/// specialised per function and its loops inline it.
protocol PointwiseFunction {
  func value(_ x: Float) -> Float
  func derivative(_ x: Float) -> Float
}

/// y = f(x) as one tape node; backward is g · f′(x) from the saved input.
func pointwise<F: PointwiseFunction>(_ name: String, _ x: Tensor, _ f: F) -> Tensor {
  let y = Tensor(uninitialized: x.shape)
  let (px, py) = (x.data, y.data)
  Parallel.forChunks(x.count, minChunk: 1 << 16) { r in
    for i in r { py[i] = f.value(px[i]) }
  }
  return Autograd.record(name, output: y, inputs: [x]) { [x = x.detach()] g in
    let gx = Tensor(uninitialized: x.shape)
    let (px, pg, pgx) = (x.data, g.data, gx.data)
    Parallel.forChunks(x.count, minChunk: 1 << 16) { r in
      for i in r { pgx[i] = pg[i] * f.derivative(px[i]) }
    }
    return [gx]
  }
}

/// GELU (Hendrycks & Gimpel 2016): x·Φ(x) with Φ the normal CDF (`approximate: false`,
/// PyTorch's default), or its tanh approximation.
public final class GELU: Module {
  public let approximate: Bool
  public init(approximate: Bool = false) { self.approximate = approximate }
  public override var extraDescription: String { approximate ? "tanh" : "" }

  struct Exact: PointwiseFunction {
    // Φ(x) = ½(1 + erf(x/√2)); d/dx xΦ(x) = Φ(x) + x·φ(x). VectorMath's erf and exp keep
    // the loops vectorised (libm's erff was most of a GELU's time).
    @inline(__always) func value(_ x: Float) -> Float {
      0.5 * x * (1 + VectorMath.erf(x * 0.707_106_78))
    }
    @inline(__always) func derivative(_ x: Float) -> Float {
      let z = x * 0.707_106_78
      let e = VectorMath.exp(-z * z)  // e^(−x²/2), shared by erf and φ
      return 0.5 * (1 + VectorMath.erf(z, expMinusSquare: e)) + x * 0.398_942_28 * e
    }
  }

  struct Tanh: PointwiseFunction {
    // ½x(1 + tanh u), u = √(2/π)(x + 0.044715x³)
    static let k: Float = 0.7978845608
    @inline(__always) func value(_ x: Float) -> Float {
      0.5 * x * (1 + Foundation.tanh(Tanh.k * (x + 0.044715 * x * x * x)))
    }
    @inline(__always) func derivative(_ x: Float) -> Float {
      let t = Foundation.tanh(Tanh.k * (x + 0.044715 * x * x * x))
      return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * Tanh.k * (1 + 3 * 0.044715 * x * x)
    }
  }

  public override func forward(_ x: Tensor) throws -> Tensor {
    approximate ? pointwise("GELU", x, Tanh()) : pointwise("GELU", x, Exact())
  }
}

/// SiLU / swish: x·σ(x); derivative σ(x)(1 + x(1 − σ(x))).
public final class SiLU: Module {
  struct Function: PointwiseFunction {
    @inline(__always) func value(_ x: Float) -> Float { x / (1 + Foundation.exp(-x)) }
    @inline(__always) func derivative(_ x: Float) -> Float {
      let s = 1 / (1 + Foundation.exp(-x))
      return s * (1 + x * (1 - s))
    }
  }
  public override func forward(_ x: Tensor) throws -> Tensor { pointwise("SiLU", x, Function()) }
}

/// x for x > 0, slope·x otherwise (PyTorch's default slope 0.01).
public final class LeakyReLU: Module {
  public let slope: Float
  public init(slope: Float = 0.01) { self.slope = slope }
  public override var extraDescription: String { "slope \(slope)" }

  struct Function: PointwiseFunction {
    let slope: Float
    @inline(__always) func value(_ x: Float) -> Float { x > 0 ? x : slope * x }
    @inline(__always) func derivative(_ x: Float) -> Float { x > 0 ? 1 : slope }
  }
  public override func forward(_ x: Tensor) throws -> Tensor {
    pointwise("LeakyReLU", x, Function(slope: slope))
  }
}

/// ELU (Clevert et al. 2015): x for x > 0, α(eˣ − 1) otherwise; derivative αeˣ there.
public final class ELU: Module {
  public let alpha: Float
  public init(alpha: Float = 1) { self.alpha = alpha }
  public override var extraDescription: String { "alpha \(alpha)" }

  struct Function: PointwiseFunction {
    let alpha: Float
    @inline(__always) func value(_ x: Float) -> Float { x > 0 ? x : alpha * expm1(x) }
    @inline(__always) func derivative(_ x: Float) -> Float {
      x > 0 ? 1 : alpha * Foundation.exp(x)
    }
  }
  public override func forward(_ x: Tensor) throws -> Tensor {
    pointwise("ELU", x, Function(alpha: alpha))
  }
}

/// (1/β)·ln(1 + e^(βx)), and x itself where βx > threshold (PyTorch's linear region, which
/// also keeps e^(βx) from overflowing); derivative σ(βx).
public final class Softplus: Module {
  public let beta, threshold: Float
  public init(beta: Float = 1, threshold: Float = 20) {
    self.beta = beta
    self.threshold = threshold
  }
  public override var extraDescription: String { "beta \(beta), threshold \(threshold)" }

  struct Function: PointwiseFunction {
    let beta, threshold: Float
    @inline(__always) func value(_ x: Float) -> Float {
      beta * x > threshold ? x : log1p(Foundation.exp(beta * x)) / beta
    }
    @inline(__always) func derivative(_ x: Float) -> Float {
      beta * x > threshold ? 1 : 1 / (1 + Foundation.exp(-beta * x))
    }
  }
  public override func forward(_ x: Tensor) throws -> Tensor {
    pointwise("Softplus", x, Function(beta: beta, threshold: threshold))
  }
}
