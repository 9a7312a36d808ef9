/// Sums over one contiguous row of floats in 16 float lanes (two AVX registers, or four
/// SSE ones), lanes added in index order at the end, the tail (< 16 values) after them.
/// The order depends only on the length, so results are deterministic. BatchNormKernel
/// adds the row sums in Double, so a float partial sum never covers more than length/16
/// values.
enum RowSum {
  typealias Lanes = SIMD16<Float>

  @inline(__always)
  static func load(_ p: UnsafePointer<Float>, _ i: Int) -> Lanes {
    UnsafeRawPointer(p + i).loadUnaligned(as: Lanes.self)
  }

  /// Σ p[i]
  @inline(__always)
  static func values(_ p: UnsafePointer<Float>, _ n: Int) -> Float {
    var acc = Lanes()
    var i = 0
    while i + Lanes.scalarCount <= n {
      acc += load(p, i)
      i += Lanes.scalarCount
    }
    var s = acc.sum()
    while i < n {
      s += p[i]
      i += 1
    }
    return s
  }

  /// Σ (p[i] − mu)²
  @inline(__always)
  static func squaredDeviations(_ p: UnsafePointer<Float>, _ n: Int, from mu: Float) -> Float {
    var acc = Lanes()
    let m = Lanes(repeating: mu)
    var i = 0
    while i + Lanes.scalarCount <= n {
      let d = load(p, i) - m
      acc += d * d
      i += Lanes.scalarCount
    }
    var s = acc.sum()
    while i < n {
      let d = p[i] - mu
      s += d * d
      i += 1
    }
    return s
  }

  /// (Σ g'[i], Σ g'[i]·(x[i] − mu)) with g' = g·[y > 0] when `y` is given (a ReLU's
  /// backward on its output), else g. The masked and plain loops add the same values in
  /// the same order, so a fused layer's sums equal the unfused ones bit for bit.
  @inline(__always)
  static func gradients(
    _ g: UnsafePointer<Float>, _ y: UnsafePointer<Float>?, _ x: UnsafePointer<Float>, _ n: Int,
    around mu: Float
  ) -> (Float, Float) {
    var sumG = Lanes()
    var sumGX = Lanes()
    let m = Lanes(repeating: mu)
    let whole = n - n % Lanes.scalarCount
    if let y {
      for i in stride(from: 0, to: whole, by: Lanes.scalarCount) {
        let gv = load(g, i).replacing(with: 0, where: .!(load(y, i) .> 0))
        sumG += gv
        sumGX += gv * (load(x, i) - m)
      }
    } else {
      for i in stride(from: 0, to: whole, by: Lanes.scalarCount) {
        let gv = load(g, i)
        sumG += gv
        sumGX += gv * (load(x, i) - m)
      }
    }
    var sg = sumG.sum()
    var sgx = sumGX.sum()
    for i in whole..<n {
      let gv = y.map { $0[i] > 0 ? g[i] : 0 } ?? g[i]
      sg += gv
      sgx += gv * (x[i] - mu)
    }
    return (sg, sgx)
  }

  /// out[i] = y[i] > 0 ? g[i] : 0 (ReLU's backward on its output y).
  @inline(__always)
  static func mask(
    _ g: UnsafePointer<Float>, by y: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>,
    _ n: Int
  ) {
    for i in 0..<n { out[i] = y[i] > 0 ? g[i] : 0 }
  }
}
