/// The loop behind every same-shape elementwise op: a plain indexed loop over raw
/// pointers into which `f` is inlined, so the compiler vectorises it.
///
/// Deliberately single-threaded: handing the loop to the thread pool puts `f` behind a
/// closure context the optimiser can't see through (one indirect call per element, no
/// SIMD), which measured 5–7× slower on 2 threads than this loop on one; and most of
/// these ops are memory-bound anyway.
enum Elementwise {
  @inline(__always)
  static func map(_ x: Tensor, _ f: (Float) -> Float) -> Tensor {
    let out = Tensor(uninitialized: x.shape)
    let px = x.data
    let po = out.data
    for i in 0..<x.count { po[i] = f(px[i]) }
    return out
  }

  /// out[i] = f(a[i], b[i]); `a` and `b` have the same element count.
  @inline(__always)
  static func zip(_ a: Tensor, _ b: Tensor, _ f: (Float, Float) -> Float) -> Tensor {
    let out = Tensor(uninitialized: a.shape)
    let pa = a.data
    let pb = b.data
    let po = out.data
    for i in 0..<a.count { po[i] = f(pa[i], pb[i]) }
    return out
  }
}
