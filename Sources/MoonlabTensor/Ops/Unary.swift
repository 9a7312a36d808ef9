import Foundation

/// Elementwise functions and scalar arithmetic, each one tape node with its derivative
/// beside it. Where the derivative is a function of the output (exp, sqrt, sigmoid,
/// tanh) the backward reads the saved output instead of recomputing the forward.
/// Saved tensors are `detach()`ed views: capturing the output itself would make a
/// reference cycle output → node → closure → output.
extension Tensor {
  /// d/dx eˣ = eˣ
  public func exp() -> Tensor {
    let y = Elementwise.map(self) { VectorMath.exp($0) }
    return Autograd.record("exp", output: y, inputs: [self]) { [y = y.detach()] g in
      [Elementwise.zip(g, y) { $0 * $1 }]
    }
  }

  /// d/dx ln x = 1/x
  public func log() -> Tensor {
    let y = Elementwise.map(self) { Foundation.log($0) }
    return Autograd.record("log", output: y, inputs: [self]) { [x = detach()] g in
      [Elementwise.zip(g, x) { $0 / $1 }]
    }
  }

  /// d/dx √x = 1 / (2√x)
  public func sqrt() -> Tensor {
    let y = Elementwise.map(self) { $0.squareRoot() }
    return Autograd.record("sqrt", output: y, inputs: [self]) { [y = y.detach()] g in
      [Elementwise.zip(g, y) { $0 / (2 * $1) }]
    }
  }

  /// d/dx |x| = sign(x), with sign(0) = 0 as in PyTorch.
  public func abs() -> Tensor {
    let y = Elementwise.map(self) { Swift.abs($0) }
    return Autograd.record("abs", output: y, inputs: [self]) { [x = detach()] g in
      [Elementwise.zip(g, x) { g, x in x > 0 ? g : (x < 0 ? -g : 0) }]
    }
  }

  /// d/dx xᵖ = p·xᵖ⁻¹
  public func pow(_ p: Float) -> Tensor {
    let y =
      p == 2 ? Elementwise.map(self) { $0 * $0 } : Elementwise.map(self) { Foundation.pow($0, p) }
    return Autograd.record("pow", output: y, inputs: [self]) { [x = detach()] g in
      if p == 2 { return [Elementwise.zip(g, x) { $0 * 2 * $1 }] }
      return [Elementwise.zip(g, x) { g, x in g * p * Foundation.pow(x, p - 1) }]
    }
  }

  /// max(x, 0); the derivative is 1 where x > 0, else 0.
  public func relu() -> Tensor {
    let y = Elementwise.map(self) { $0 > 0 ? $0 : 0 }
    return Autograd.record("relu", output: y, inputs: [self]) { [x = detach()] g in
      [Elementwise.zip(g, x) { g, x in x > 0 ? g : 0 }]
    }
  }

  /// σ(x) = 1 / (1 + e⁻ˣ); σ' = σ(1 − σ).
  public func sigmoid() -> Tensor {
    let y = Elementwise.map(self) { VectorMath.sigmoid($0) }
    return Autograd.record("sigmoid", output: y, inputs: [self]) { [y = y.detach()] g in
      [Elementwise.zip(g, y) { g, y in g * y * (1 - y) }]
    }
  }

  /// tanh' = 1 − tanh²
  public func tanh() -> Tensor {
    let y = Elementwise.map(self) { VectorMath.tanh($0) }
    return Autograd.record("tanh", output: y, inputs: [self]) { [y = y.detach()] g in
      [Elementwise.zip(g, y) { g, y in g * (1 - y * y) }]
    }
  }

  public func neg() -> Tensor {
    let y = Elementwise.map(self) { -$0 }
    return Autograd.record("neg", output: y, inputs: [self]) { g in [g.neg()] }
  }

  /// x + s for a number s.
  public func add(_ s: Float) -> Tensor {
    let y = Elementwise.map(self) { $0 + s }
    return Autograd.record("add", output: y, inputs: [self]) { g in [g] }
  }

  /// x · s for a number s.
  public func mul(_ s: Float) -> Tensor {
    let y = Elementwise.map(self) { $0 * s }
    return Autograd.record("mul", output: y, inputs: [self]) { g in [g.mul(s)] }
  }
}
