extension Tensor {
  /// Limits values to [min, max] (either bound may be absent). The gradient passes where
  /// min < x < max: a value sitting on a bound gets none, as in PyTorch.
  public func clamp(min lower: Float? = nil, max upper: Float? = nil) -> Tensor {
    struct Clamp: UnaryKernel {
      let lower: Float
      let upper: Float
      // max then min, as PyTorch: with min > max every value becomes max; NaN stays NaN.
      @inline(__always) func callAsFunction(_ x: Float) -> Float {
        let y = x < lower ? lower : x
        return y > upper ? upper : y
      }
    }
    struct Gradient: BinaryKernel {
      let lower: Float
      let upper: Float
      @inline(__always) func callAsFunction(_ g: Float, _ x: Float) -> Float {
        x > lower && x < upper ? g : 0
      }
    }
    let (lo, hi) = (lower ?? -.infinity, upper ?? .infinity)
    let y = Elementwise.map(self, Clamp(lower: lo, upper: hi))
    return Autograd.record("clamp", output: y, inputs: [self]) { [x = detach()] g in
      [Elementwise.zip(g, x, Gradient(lower: lo, upper: hi))]
    }
  }

  /// Clamped by tensor bounds (broadcast with this tensor, as PyTorch's clamp with tensor
  /// min/max): the lower bound where x is below it, then the upper bound where above; the
  /// gradient goes to whichever tensor a value came from (`where`'s).
  public func clamp(min lower: Tensor?, max upper: Tensor?) throws -> Tensor {
    var y = self
    if let lower { y = try Tensor.where(y.lt(lower), lower, y) }
    if let upper { y = try Tensor.where(y.gt(upper), upper, y) }
    return y
  }
}
