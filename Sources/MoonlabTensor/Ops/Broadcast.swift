/// Broadcasting elementwise kernels and the gradient's reduction back to an input shape.
enum BroadcastKernel {
  /// out[i] = f(a[ia], b[ib]) over the broadcast shape. Fast paths for equal shapes and
  /// a scalar operand (split over the thread pool when large, see `Elementwise`);
  /// otherwise an odometer over the output index.
  static func binary<K: BinaryKernel>(
    _ a: Tensor, _ b: Tensor, op: String, _ f: K
  ) throws -> Tensor {
    let shape = a.shape == b.shape ? a.shape : try Shape.broadcast(a.shape, b.shape, op: op)
    if a.shape != b.shape { try Shape.validate(shape, op: op) }
    let out = Tensor(uninitialized: shape)  // every path below writes every element
    let n = out.count
    let pa = a.data
    let pb = b.data
    let po = out.data
    if a.count == n && b.count == n {
      Parallel.forChunks(n, minChunk: Elementwise.minimumChunk) { r in
        for i in r { po[i] = f(pa[i], pb[i]) }
      }
    } else if b.count == 1 && a.count == n {
      let s = pb[0]
      Parallel.forChunks(n, minChunk: Elementwise.minimumChunk) { r in
        for i in r { po[i] = f(pa[i], s) }
      }
    } else if a.count == 1 && b.count == n {
      let s = pa[0]
      Parallel.forChunks(n, minChunk: Elementwise.minimumChunk) { r in
        for i in r { po[i] = f(s, pb[i]) }
      }
    } else {
      let sa = Shape.broadcastStrides(a.shape, to: shape)
      let sb = Shape.broadcastStrides(b.shape, to: shape)
      let rank = shape.count
      // The last dimension runs in an inner loop; the rest advance like an odometer.
      let inner = shape[rank - 1]
      let ia = sa[rank - 1]
      let ib = sb[rank - 1]
      var index = [Int](repeating: 0, count: rank)
      var offA = 0
      var offB = 0
      var o = 0
      while o < n {
        for j in 0..<inner { po[o + j] = f(pa[offA + j * ia], pb[offB + j * ib]) }
        o += inner
        var d = rank - 2
        while d >= 0 {
          index[d] += 1
          offA += sa[d]
          offB += sb[d]
          if index[d] < shape[d] { break }
          offA -= sa[d] * shape[d]
          offB -= sb[d] * shape[d]
          index[d] = 0
          d -= 1
        }
      }
    }
    return out
  }

  /// Sums `g` (of a broadcast shape) down to `shape`: the gradient of a broadcast input
  /// is the sum over the dimensions it was expanded along.
  static func sum(_ g: Tensor, to shape: [Int]) -> Tensor {
    if g.shape == shape { return g }
    let out = Tensor(zeros: shape)
    let so = Shape.broadcastStrides(shape, to: g.shape)
    let rank = g.shape.count
    var index = [Int](repeating: 0, count: rank)
    var off = 0
    let pg = g.data
    let po = out.data
    for i in 0..<g.count {
      po[off] += pg[i]
      var d = rank - 1
      while d >= 0 {
        index[d] += 1
        off += so[d]
        if index[d] < g.shape[d] { break }
        off -= so[d] * g.shape[d]
        index[d] = 0
        d -= 1
      }
    }
    return out
  }
}
