import Foundation

/// Piecewise-constant functions: floor, ceil, round and sign. PyTorch records them with a
/// zero gradient (not none), so a graph through them still reaches its leaves.
extension Tensor {
  public func floor() -> Tensor {
    struct Floor: UnaryKernel {
      @inline(__always) func callAsFunction(_ x: Float) -> Float { x.rounded(.down) }
    }
    return zeroGradient("floor", Elementwise.map(self, Floor()))
  }

  public func ceil() -> Tensor {
    struct Ceil: UnaryKernel {
      @inline(__always) func callAsFunction(_ x: Float) -> Float { x.rounded(.up) }
    }
    return zeroGradient("ceil", Elementwise.map(self, Ceil()))
  }

  /// Rounds half to even (2.5 → 2, 3.5 → 4), as PyTorch does.
  public func round() -> Tensor {
    struct Round: UnaryKernel {
      @inline(__always) func callAsFunction(_ x: Float) -> Float { x.rounded(.toNearestOrEven) }
    }
    return zeroGradient("round", Elementwise.map(self, Round()))
  }

  /// −1, 0 or 1 (NaN stays NaN).
  public func sign() -> Tensor {
    struct Sign: UnaryKernel {
      @inline(__always) func callAsFunction(_ x: Float) -> Float {
        x > 0 ? 1 : (x < 0 ? -1 : x)
      }
    }
    return zeroGradient("sign", Elementwise.map(self, Sign()))
  }

  private func zeroGradient(_ name: String, _ y: Tensor) -> Tensor {
    Autograd.record(name, output: y, inputs: [self]) { [shape] _ in [Tensor(zeros: shape)] }
  }
}
