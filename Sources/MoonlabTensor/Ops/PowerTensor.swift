import Foundation

extension Tensor {
  /// aᵇ elementwise with a tensor exponent (NumPy broadcasting). d/da = b·aᵇ⁻¹ and
  /// d/db = aᵇ·ln a, with PyTorch's zeros where those are 0·∞: d/da where b = 0, d/db where
  /// a = 0 and b ≥ 0.
  public func pow(_ exponent: Tensor) throws -> Tensor {
    struct Power: BinaryKernel {
      @inline(__always) func callAsFunction(_ a: Float, _ b: Float) -> Float {
        Foundation.pow(a, b)
      }
    }
    struct BaseFactor: BinaryKernel {
      @inline(__always) func callAsFunction(_ a: Float, _ b: Float) -> Float {
        b == 0 ? 0 : b * Foundation.pow(a, b - 1)
      }
    }
    // y = aᵇ is finite at a = 0 exactly when b ≥ 0.
    struct ExponentFactor: BinaryKernel {
      @inline(__always) func callAsFunction(_ y: Float, _ a: Float) -> Float {
        a == 0 && y.isFinite ? 0 : y * Foundation.log(a)
      }
    }
    let y = try BroadcastKernel.binary(self, exponent, op: "pow", Power())
    let (needA, needB) = (requiresGrad, exponent.requiresGrad)
    return Autograd.record("pow", output: y, inputs: [self, exponent]) {
      [a = detach(), b = exponent.detach(), y = y.detach()] g in
      [
        needA
          ? BroadcastKernel.sum(
            try g.mul(try BroadcastKernel.binary(a, b, op: "pow", BaseFactor())), to: a.shape)
          : nil,
        needB
          ? BroadcastKernel.sum(
            try g.mul(try BroadcastKernel.binary(y, a, op: "pow", ExponentFactor())), to: b.shape)
          : nil,
      ]
    }
  }
}
