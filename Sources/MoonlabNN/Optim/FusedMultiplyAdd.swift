/// a·b + c rounded once, as PyTorch's CPU kernels compute `add(x, alpha=)`, `lerp` and
/// `addcmul` (vfmadd). `Float.addingProduct` would do it, but without an FMA target
/// feature (Swift's default x86-64 target) it becomes a call to libm's fmaf per element:
/// ~20× slower than this. The product of two floats is exact in double, so only the sum
/// rounds twice (double, then float), which differs from a true fma in about one case
/// in 2²⁹ — and this form vectorises.
@inline(__always)
func fusedMultiplyAdd(_ a: Float, _ b: Float, _ c: Float) -> Float {
  Float(Double(a) * Double(b) + Double(c))
}
