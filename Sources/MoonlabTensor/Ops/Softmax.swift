import Foundation

/// softmax and log-softmax along one dimension, each a single node (docs/architecture.md, "Tensors and autograd": a
/// fused kernel per layer, not a chain of exp/sum/div nodes). The tensor is seen as
/// [outer, n, inner]; each of the outer·inner columns of n values (stride `inner`) is
/// normalised on its own, after subtracting its maximum so exp never overflows.
extension Tensor {
  /// yⱼ = e^(xⱼ − m) / Σₖ e^(xₖ − m);  backward: dxⱼ = yⱼ (gⱼ − Σₖ gₖ yₖ).
  public func softmax(dim: Int) throws -> Tensor { try softmax(dim: dim, log: false) }

  /// yⱼ = xⱼ − m − ln Σₖ e^(xₖ − m);  backward: dxⱼ = gⱼ − e^(yⱼ) Σₖ gₖ.
  public func logSoftmax(dim: Int) throws -> Tensor { try softmax(dim: dim, log: true) }

  private func softmax(dim: Int, log: Bool) throws -> Tensor {
    let op = log ? "log_softmax" : "softmax"
    let (_, outer, n, inner) = try layout(dim, op: op)
    let y = Tensor(uninitialized: shape)
    SoftmaxKernel.forward(data, y.data, outer: outer, n: n, inner: inner, log: log)
    return Autograd.record(op, output: y, inputs: [self]) { [y = y.detach()] g in
      let gx = Tensor(uninitialized: y.shape)
      SoftmaxKernel.columns(outer: outer, n: n, inner: inner) { base in
        let py = y.data + base
        let pg = g.data + base
        let px = gx.data + base
        var total: Float = 0
        if log {
          for j in 0..<n { total += pg[j * inner] }
          SoftmaxKernel.exp(py, into: px, n: n, stride: inner, shift: 0)
          for j in 0..<n { px[j * inner] = pg[j * inner] - px[j * inner] * total }
        } else {
          for j in 0..<n { total += pg[j * inner] * py[j * inner] }
          for j in 0..<n { px[j * inner] = py[j * inner] * (pg[j * inner] - total) }
        }
      }
      return [gx]
    }
  }
}

enum SoftmaxKernel {
  /// Calls `body` with the offset of the first element of each column; rows of columns
  /// go to the thread pool in chunks of ≥ 64k elements (columns are disjoint, so the
  /// split changes no result; the loops inside `body` call no closure, so they stay
  /// vectorised).
  @inline(__always)
  static func columns(outer: Int, n: Int, inner: Int, _ body: (Int) -> Void) {
    // An empty tensor may still have a huge outer or inner (e.g. [10⁹, 0]); skip the loops.
    if outer == 0 || n == 0 || inner == 0 { return }
    Parallel.forChunks(outer, minChunk: Swift.max(1, (1 << 16) / (n * inner))) {
      r in
      for o in r {
        for i in 0..<inner { body(o * n * inner + i) }
      }
    }
  }

  /// dst[j·stride] = e^(src[j·stride] − shift); the stride-1 loop is the one that vectorises.
  @inline(__always)
  static func exp(
    _ src: UnsafePointer<Float>, into dst: UnsafeMutablePointer<Float>, n: Int, stride: Int,
    shift: Float
  ) {
    if stride == 1 {
      for j in 0..<n { dst[j] = VectorMath.exp(src[j] - shift) }
    } else {
      for j in 0..<n { dst[j * stride] = VectorMath.exp(src[j * stride] - shift) }
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
      exp(px, into: py, n: n, stride: inner, shift: m)
      var total: Float = 0
      for j in 0..<n { total += py[j * inner] }
      if log {
        let shift = m + Foundation.log(total)
        for j in 0..<n { py[j * inner] = px[j * inner] - shift }
      } else {
        let scale = 1 / total
        for j in 0..<n { py[j * inner] *= scale }
      }
    }
  }
}
