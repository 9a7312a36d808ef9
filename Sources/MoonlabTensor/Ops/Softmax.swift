import Foundation

/// softmax and log-softmax along one dimension, each a single node (design.md §2: a
/// fused kernel per layer, not a chain of exp/sum/div nodes). The tensor is seen as
/// [outer, n, inner]; each of the outer·inner columns of n values (stride `inner`) is
/// normalised on its own, after subtracting its maximum so exp never overflows.
extension Tensor {
  /// yⱼ = e^(xⱼ − m) / Σₖ e^(xₖ − m);  backward: dxⱼ = yⱼ (gⱼ − Σₖ gₖ yₖ).
  public func softmax(dim: Int) throws -> Tensor {
    let (_, outer, n, inner) = try layout(dim, op: "softmax")
    let y = Tensor(uninitialized: shape)
    SoftmaxKernel.forward(data, y.data, outer: outer, n: n, inner: inner, log: false)
    return Autograd.record("softmax", output: y, inputs: [self]) { [y = y.detach()] g in
      let gx = Tensor(uninitialized: y.shape)
      SoftmaxKernel.columns(outer: outer, n: n, inner: inner) { base in
        let py = y.data + base
        let pg = g.data + base
        let px = gx.data + base
        var dot: Float = 0
        for j in 0..<n { dot += pg[j * inner] * py[j * inner] }
        for j in 0..<n { px[j * inner] = py[j * inner] * (pg[j * inner] - dot) }
      }
      return [gx]
    }
  }

  /// yⱼ = xⱼ − m − ln Σₖ e^(xₖ − m);  backward: dxⱼ = gⱼ − e^(yⱼ) Σₖ gₖ.
  public func logSoftmax(dim: Int) throws -> Tensor {
    let (_, outer, n, inner) = try layout(dim, op: "log_softmax")
    let y = Tensor(uninitialized: shape)
    SoftmaxKernel.forward(data, y.data, outer: outer, n: n, inner: inner, log: true)
    return Autograd.record("log_softmax", output: y, inputs: [self]) { [y = y.detach()] g in
      let gx = Tensor(uninitialized: y.shape)
      SoftmaxKernel.columns(outer: outer, n: n, inner: inner) { base in
        let py = y.data + base
        let pg = g.data + base
        let px = gx.data + base
        var total: Float = 0
        for j in 0..<n { total += pg[j * inner] }
        for j in 0..<n { px[j * inner] = pg[j * inner] - Foundation.exp(py[j * inner]) * total }
      }
      return [gx]
    }
  }
}

enum SoftmaxKernel {
  /// Calls `body` with the offset of the first element of each column.
  @inline(__always)
  static func columns(outer: Int, n: Int, inner: Int, _ body: (Int) -> Void) {
    // An empty tensor may still have a huge outer × inner (e.g. [10⁹, 0]); skip the loops.
    if n == 0 { return }
    for o in 0..<outer {
      for i in 0..<inner { body(o * n * inner + i) }
    }
  }

  static func forward(
    _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, outer: Int, n: Int, inner: Int,
    log: Bool
  ) {
    columns(outer: outer, n: n, inner: inner) { base in
      let px = x + base
      let py = y + base
      var m = -Float.infinity
      for j in 0..<n { m = Swift.max(m, px[j * inner]) }
      if m == -.infinity { m = 0 }  // a column of −∞: keep exp finite (gives NaN/−∞ as PyTorch)
      var total: Float = 0
      if log {
        for j in 0..<n { total += Foundation.exp(px[j * inner] - m) }
        let shift = m + Foundation.log(total)
        for j in 0..<n { py[j * inner] = px[j * inner] - shift }
      } else {
        for j in 0..<n {
          let e = Foundation.exp(px[j * inner] - m)
          py[j * inner] = e
          total += e
        }
        let scale = 1 / total
        for j in 0..<n { py[j * inner] *= scale }
      }
    }
  }
}
