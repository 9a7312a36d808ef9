/// The loop behind every same-shape elementwise op: a plain indexed loop over raw
/// pointers (the compiler vectorises it when `f` is simple), split over the thread pool
/// for large tensors. Each element is computed independently, so the split never
/// changes a result.
enum Elementwise {
  /// Below this many elements a second thread costs more than it saves.
  static let parallelThreshold = 1 << 16

  @inline(__always)
  static func map(_ x: Tensor, _ f: (Float) -> Float) -> Tensor {
    let out = Tensor(uninitialized: x.shape)
    let px = x.data
    let po = out.data
    Parallel.forChunks(x.count, minChunk: parallelThreshold) { r in
      for i in r { po[i] = f(px[i]) }
    }
    return out
  }

  /// out[i] = f(a[i], b[i]); `a` and `b` have the same element count.
  @inline(__always)
  static func zip(_ a: Tensor, _ b: Tensor, _ f: (Float, Float) -> Float) -> Tensor {
    let out = Tensor(uninitialized: a.shape)
    let pa = a.data
    let pb = b.data
    let po = out.data
    Parallel.forChunks(a.count, minChunk: parallelThreshold) { r in
      for i in r { po[i] = f(pa[i], pb[i]) }
    }
    return out
  }

  /// out[i] = f(a[i], b[i], c[i]); all three have the same element count.
  @inline(__always)
  static func zip3(_ a: Tensor, _ b: Tensor, _ c: Tensor, _ f: (Float, Float, Float) -> Float)
    -> Tensor
  {
    let out = Tensor(uninitialized: a.shape)
    let pa = a.data
    let pb = b.data
    let pc = c.data
    let po = out.data
    Parallel.forChunks(a.count, minChunk: parallelThreshold) { r in
      for i in r { po[i] = f(pa[i], pb[i], pc[i]) }
    }
    return out
  }
}
