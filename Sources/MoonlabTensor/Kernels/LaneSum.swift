/// A sum over rows of floats in 16 float lanes (two AVX registers, or four SSE ones),
/// each row's tail (< 16 values) in one more float, moved into a Double by `flush`.
///
/// BatchNormKernel flushes after every block of rows of ~2K values, so a float lane or the
/// tail float sums at most ~128 values (more only in rows longer than 2K), while the lanes'
/// horizontal sum (15 dependent adds) is paid per block, not per row: with 8×8 images a
/// per-row horizontal sum cost more than the row's own loads. The order depends only on
/// the shape, so results are deterministic.
struct LaneSum {
  typealias Lanes = SIMD16<Float>
  var lanes = Lanes()
  var tail: Float = 0
  private(set) var total = 0.0

  /// Values summed per block before a flush.
  static let blockValues = 2048

  @inline(__always)
  static func load(_ p: UnsafePointer<Float>, _ i: Int) -> Lanes {
    .load(p + i)
  }

  /// Where a row of `n` values stops being whole lane groups.
  @inline(__always)
  static func whole(_ n: Int) -> Int { n - n % Lanes.scalarCount }

  @inline(__always)
  mutating func flush() {
    total += Double(lanes.sum()) + Double(tail)
    lanes = Lanes()
    tail = 0
  }

  /// += Σ p[i]
  @inline(__always)
  mutating func add(_ p: UnsafePointer<Float>, _ n: Int) {
    let whole = Self.whole(n)
    for i in stride(from: 0, to: whole, by: Lanes.scalarCount) { lanes += Self.load(p, i) }
    for i in whole..<n { tail += p[i] }
  }

  /// += Σ (p[i] − mu)²
  @inline(__always)
  mutating func addSquaredDeviations(_ p: UnsafePointer<Float>, _ n: Int, from mu: Float) {
    let m = Lanes(repeating: mu)
    let whole = Self.whole(n)
    for i in stride(from: 0, to: whole, by: Lanes.scalarCount) {
      let d = Self.load(p, i) - m
      lanes += d * d
    }
    for i in whole..<n {
      let d = p[i] - mu
      tail += d * d
    }
  }

  /// sumG += Σ g'[i], sumGX += Σ g'[i]·(x[i] − mu), with g' = g·[y > 0] when `y` is given
  /// (a ReLU's backward on its output), else g. The masked and plain loops add the same
  /// values in the same order, so a fused layer's sums equal the unfused ones bit for bit.
  @inline(__always)
  static func addGradients(
    _ g: UnsafePointer<Float>, _ y: UnsafePointer<Float>?, _ x: UnsafePointer<Float>, _ n: Int,
    around mu: Float, _ sumG: inout LaneSum, _ sumGX: inout LaneSum
  ) {
    let m = Lanes(repeating: mu)
    let whole = Self.whole(n)
    if let y {
      for i in stride(from: 0, to: whole, by: Lanes.scalarCount) {
        let gv = load(g, i).replacing(with: 0, where: .!(load(y, i) .> 0))
        sumG.lanes += gv
        sumGX.lanes += gv * (load(x, i) - m)
      }
    } else {
      for i in stride(from: 0, to: whole, by: Lanes.scalarCount) {
        let gv = load(g, i)
        sumG.lanes += gv
        sumGX.lanes += gv * (load(x, i) - m)
      }
    }
    for i in whole..<n {
      let gv = y.map { $0[i] > 0 ? g[i] : 0 } ?? g[i]
      sumG.tail += gv
      sumGX.tail += gv * (x[i] - mu)
    }
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
