import Foundation

/// Elementwise functions and scalar arithmetic, each one tape node with its derivative
/// beside it. Where the derivative is a function of the output (exp, sqrt, sigmoid,
/// tanh) the backward reads the saved output instead of recomputing the forward.
/// Saved tensors are `detach()`ed views: capturing the output itself would make a
/// reference cycle output → node → closure → output.
extension Tensor {
  /// d/dx eˣ = eˣ
  public func exp() -> Tensor {
    struct Exp: UnaryKernel {
      @inline(__always) func callAsFunction(_ x: Float) -> Float { VectorMath.exp(x) }
    }
    let y = Elementwise.map(self, Exp())
    return Autograd.record("exp", output: y, inputs: [self]) { [y = y.detach()] g in
      [Elementwise.zip(g, y, Multiply())]
    }
  }

  /// d/dx ln x = 1/x
  public func log() -> Tensor {
    struct Log: UnaryKernel {
      @inline(__always) func callAsFunction(_ x: Float) -> Float { Foundation.log(x) }
    }
    let y = Elementwise.map(self, Log())
    return Autograd.record("log", output: y, inputs: [self]) { [x = detach()] g in
      [Elementwise.zip(g, x, Divide())]
    }
  }

  /// ln(1 + x), accurate for small x; d/dx = 1 / (1 + x).
  public func log1p() -> Tensor {
    struct Log1p: UnaryKernel {
      @inline(__always) func callAsFunction(_ x: Float) -> Float { Foundation.log1p(x) }
    }
    struct Gradient: BinaryKernel {
      @inline(__always) func callAsFunction(_ g: Float, _ x: Float) -> Float { g / (1 + x) }
    }
    let y = Elementwise.map(self, Log1p())
    return Autograd.record("log1p", output: y, inputs: [self]) { [x = detach()] g in
      [Elementwise.zip(g, x, Gradient())]
    }
  }

  /// d/dx √x = 1 / (2√x)
  public func sqrt() -> Tensor {
    struct Sqrt: UnaryKernel {
      @inline(__always) func callAsFunction(_ x: Float) -> Float { x.squareRoot() }
    }
    struct Gradient: BinaryKernel {
      @inline(__always) func callAsFunction(_ g: Float, _ y: Float) -> Float { g / (2 * y) }
    }
    let y = Elementwise.map(self, Sqrt())
    return Autograd.record("sqrt", output: y, inputs: [self]) { [y = y.detach()] g in
      [Elementwise.zip(g, y, Gradient())]
    }
  }

  /// d/dx |x| = sign(x), with sign(0) = 0 as in PyTorch.
  public func abs() -> Tensor {
    struct Abs: UnaryKernel {
      @inline(__always) func callAsFunction(_ x: Float) -> Float { Swift.abs(x) }
    }
    struct Gradient: BinaryKernel {
      @inline(__always) func callAsFunction(_ g: Float, _ x: Float) -> Float {
        x > 0 ? g : (x < 0 ? -g : 0)
      }
    }
    let y = Elementwise.map(self, Abs())
    return Autograd.record("abs", output: y, inputs: [self]) { [x = detach()] g in
      [Elementwise.zip(g, x, Gradient())]
    }
  }

  /// d/dx xᵖ = p·xᵖ⁻¹
  public func pow(_ p: Float) -> Tensor {
    struct Square: UnaryKernel {
      @inline(__always) func callAsFunction(_ x: Float) -> Float { x * x }
    }
    struct SquareGradient: BinaryKernel {
      @inline(__always) func callAsFunction(_ g: Float, _ x: Float) -> Float { g * 2 * x }
    }
    struct Power: UnaryKernel {
      let p: Float
      @inline(__always) func callAsFunction(_ x: Float) -> Float { Foundation.pow(x, p) }
    }
    struct PowerGradient: BinaryKernel {
      let p: Float
      @inline(__always) func callAsFunction(_ g: Float, _ x: Float) -> Float {
        g * p * Foundation.pow(x, p - 1)
      }
    }
    let y = p == 2 ? Elementwise.map(self, Square()) : Elementwise.map(self, Power(p: p))
    return Autograd.record("pow", output: y, inputs: [self]) { [x = detach()] g in
      [
        p == 2
          ? Elementwise.zip(g, x, SquareGradient()) : Elementwise.zip(g, x, PowerGradient(p: p))
      ]
    }
  }

  /// max(x, 0); the derivative is 1 where x > 0, else 0. Backward reads the output
  /// (y > 0 exactly where x > 0), so the input — a BatchNorm's or a residual sum's output —
  /// needn't outlive the forward (docs/architecture.md, "Memory").
  public func relu() -> Tensor {
    struct ReLU: UnaryKernel {
      @inline(__always) func callAsFunction(_ x: Float) -> Float { x > 0 ? x : 0 }
    }
    struct Gradient: BinaryKernel {
      @inline(__always) func callAsFunction(_ g: Float, _ y: Float) -> Float { y > 0 ? g : 0 }
    }
    let y = Elementwise.map(self, ReLU())
    return Autograd.record("relu", output: y, inputs: [self]) { [y = y.detach()] g in
      [Elementwise.zip(g, y, Gradient())]
    }
  }

  /// σ(x) = 1 / (1 + e⁻ˣ); σ' = σ(1 − σ).
  public func sigmoid() -> Tensor {
    struct Sigmoid: UnaryKernel {
      @inline(__always) func callAsFunction(_ x: Float) -> Float { VectorMath.sigmoid(x) }
    }
    struct Gradient: BinaryKernel {
      @inline(__always) func callAsFunction(_ g: Float, _ y: Float) -> Float { g * y * (1 - y) }
    }
    let y = Elementwise.map(self, Sigmoid())
    return Autograd.record("sigmoid", output: y, inputs: [self]) { [y = y.detach()] g in
      [Elementwise.zip(g, y, Gradient())]
    }
  }

  /// tanh' = 1 − tanh²
  public func tanh() -> Tensor {
    struct Tanh: UnaryKernel {
      @inline(__always) func callAsFunction(_ x: Float) -> Float { VectorMath.tanh(x) }
    }
    struct Gradient: BinaryKernel {
      @inline(__always) func callAsFunction(_ g: Float, _ y: Float) -> Float { g * (1 - y * y) }
    }
    let y = Elementwise.map(self, Tanh())
    return Autograd.record("tanh", output: y, inputs: [self]) { [y = y.detach()] g in
      [Elementwise.zip(g, y, Gradient())]
    }
  }

  public func neg() -> Tensor {
    struct Negate: UnaryKernel {
      @inline(__always) func callAsFunction(_ x: Float) -> Float { -x }
    }
    let y = Elementwise.map(self, Negate())
    return Autograd.record("neg", output: y, inputs: [self]) { g in [g.neg()] }
  }

  /// x + s for a number s.
  public func add(_ s: Float) -> Tensor {
    struct AddScalar: UnaryKernel {
      let s: Float
      @inline(__always) func callAsFunction(_ x: Float) -> Float { x + s }
    }
    let y = Elementwise.map(self, AddScalar(s: s))
    return Autograd.record("add", output: y, inputs: [self]) { g in [g] }
  }

  /// x · s for a number s.
  public func mul(_ s: Float) -> Tensor {
    struct MultiplyScalar: UnaryKernel {
      let s: Float
      @inline(__always) func callAsFunction(_ x: Float) -> Float { x * s }
    }
    let y = Elementwise.map(self, MultiplyScalar(s: s))
    return Autograd.record("mul", output: y, inputs: [self]) { g in [g.mul(s)] }
  }
}
