/// a·b + c rounded once, as PyTorch's CPU kernels compute `add(x, alpha=)`, `lerp` and
/// `addcmul` (vfmadd). Where the build targets FMA (Package.swift) that is one
/// instruction. Elsewhere `Float.addingProduct` would become a call to libm's fmaf per
/// element (~20× slower), so the portable build goes through double: the product of two
/// floats is exact there and only the sum rounds twice, which differs from a true fma in
/// about one case in 2²⁹ — and that form vectorises too, at a third of the speed (the
/// conversions dominate an optimizer step at small batches).
@inline(__always)
func fusedMultiplyAdd(_ a: Float, _ b: Float, _ c: Float) -> Float {
  #if MOONLAB_FMA
    c.addingProduct(a, b)
  #else
    Float(Double(a) * Double(b) + Double(c))
  #endif
}
