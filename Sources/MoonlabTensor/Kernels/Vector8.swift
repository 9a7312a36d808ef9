/// Unaligned loads and stores of float lanes, for every SIMD kernel (SIMD8 in `DirectConv`
/// and `Winograd` through `Vector8`, SIMD16 in `LaneSum` and `SmallGEMM`).
extension SIMD where Scalar == Float {
  @inline(__always)
  static func load(_ p: UnsafePointer<Float>) -> Self {
    UnsafeRawPointer(p).loadUnaligned(as: Self.self)
  }

  @inline(__always)
  func store(_ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: self, as: Self.self)
  }
}

/// 8-float loads and stores for the SIMD8 kernels (`DirectConv`, `Winograd`).
enum Vector8 {
  @inline(__always)
  static func load(_ p: UnsafePointer<Float>) -> SIMD8<Float> { .load(p) }

  @inline(__always)
  static func store(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) { v.store(p) }
}

/// a·b + c lane by lane: one fused instruction where the build targets FMA (Package.swift),
/// else a multiply and an add (`addingProduct` would become a libm call per lane there).
@inline(__always)
func mulAdd<V: SIMD>(_ a: V, _ b: V, _ c: V) -> V where V.Scalar: FloatingPoint {
  #if MOONLAB_FMA
    c.addingProduct(a, b)
  #else
    c + a * b
  #endif
}
