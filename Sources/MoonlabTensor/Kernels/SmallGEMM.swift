/// C = α·op(A)·op(B) + β·C in plain SIMD loops over the operands where they lie, for a
/// Linear layer's products at a batch of a few rows. OpenBLAS packs both operands into
/// blocks and scales C before its kernel; with one row on one side that copying — the
/// whole weight matrix, every call — costs more than the multiply-adds. Where its build
/// has no small-matrix path (the Haswell/Zen kernels: AVX2 machines), an MLP step at
/// batch 1 spent 3/4 of its time there (docs/nn.md, "Modules").
///
/// Each C element sums its products in an order fixed by the shape, so results repeat from
/// run to run and do not depend on how a caller splits the rows over threads.
public enum SmallGEMM {
  /// A Linear layer takes this path when its batch has at most this many rows.
  public static let rowLimit = 4

  typealias Lanes = SIMD16<Float>
  static let width = Lanes.scalarCount

  @inline(__always)
  static func load(_ p: UnsafePointer<Float>) -> Lanes { .load(p) }

  public static func run(
    transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float, a: UnsafePointer<Float>,
    lda: Int, b: UnsafePointer<Float>, ldb: Int, beta: Float, c: UnsafeMutablePointer<Float>,
    ldc: Int
  ) {
    // op(A)[i, p] is a[i * rowStep + p * colStep].
    let (rowStep, colStep) = transA ? (1, lda) : (lda, 1)
    for i in 0..<m {
      let (ai, ci) = (a + i * rowStep, c + i * ldc)
      if transB {
        dots(ai, colStep, n: n, k: k, alpha: alpha, b: b, ldb: ldb, beta: beta, c: ci)
      } else {
        combineRows(ai, colStep, n: n, k: k, alpha: alpha, b: b, ldb: ldb, beta: beta, c: ci)
      }
    }
  }

  /// Stores α·acc + β·old, not reading C when β is 0 (BLAS: C may hold anything then).
  @inline(__always)
  static func store(_ acc: Lanes, _ alpha: Float, _ beta: Float, _ c: UnsafeMutablePointer<Float>) {
    if beta == 0 {
      (alpha == 1 ? acc : alpha * acc).store(c)
    } else {
      mulAdd(Lanes(repeating: beta), load(c), alpha * acc).store(c)
    }
  }

  @inline(__always)
  static func store(_ sum: Float, _ alpha: Float, _ beta: Float, _ c: UnsafeMutablePointer<Float>) {
    c.pointee = beta == 0 ? alpha * sum : alpha * sum + beta * c.pointee
  }

  /// The lanes' sum, halving: 4 vector adds instead of 15 scalar ones.
  @inline(__always)
  static func total(_ v: Lanes) -> Float {
    let v8 = v.lowHalf + v.highHalf
    let v4 = v8.lowHalf + v8.highHalf
    let v2 = v4.lowHalf + v4.highHalf
    return v2[0] + v2[1]
  }

  /// One row of C = Σ_p a[p]·B[p, :]: four 16-float tiles at a time, so four independent
  /// accumulators hide the fused multiply-add's latency; then single tiles, then scalars.
  @inline(__always)
  static func combineRows(
    _ a: UnsafePointer<Float>, _ aStep: Int, n: Int, k: Int, alpha: Float,
    b: UnsafePointer<Float>, ldb: Int, beta: Float, c: UnsafeMutablePointer<Float>
  ) {
    var j = 0
    while j + 4 * width <= n {
      var (s0, s1, s2, s3) = (Lanes(), Lanes(), Lanes(), Lanes())
      for p in 0..<k {
        let (x, row) = (Lanes(repeating: a[p * aStep]), b + p * ldb + j)
        s0 = mulAdd(x, load(row), s0)
        s1 = mulAdd(x, load(row + width), s1)
        s2 = mulAdd(x, load(row + 2 * width), s2)
        s3 = mulAdd(x, load(row + 3 * width), s3)
      }
      store(s0, alpha, beta, c + j)
      store(s1, alpha, beta, c + j + width)
      store(s2, alpha, beta, c + j + 2 * width)
      store(s3, alpha, beta, c + j + 3 * width)
      j += 4 * width
    }
    while j + width <= n {
      var s = Lanes()
      for p in 0..<k { s = mulAdd(Lanes(repeating: a[p * aStep]), load(b + p * ldb + j), s) }
      store(s, alpha, beta, c + j)
      j += width
    }
    for j in j..<n {
      var s: Float = 0
      for p in 0..<k { s += a[p * aStep] * b[p * ldb + j] }
      store(s, alpha, beta, c + j)
    }
  }

  /// One row of C[j] = Σ_p a[p]·B[j, p]: dot products with four rows of B at a time, so
  /// each load of `a` serves four of them, in 16-float lanes when `a` is contiguous; then
  /// the rows left one by one, and the elements past the last whole lane group as scalars.
  @inline(__always)
  static func dots(
    _ a: UnsafePointer<Float>, _ aStep: Int, n: Int, k: Int, alpha: Float,
    b: UnsafePointer<Float>, ldb: Int, beta: Float, c: UnsafeMutablePointer<Float>
  ) {
    let whole = aStep == 1 ? k - k % width : 0
    var j = 0
    while j + 4 <= n {
      let (r0, r1, r2, r3) = (b + j * ldb, b + (j + 1) * ldb, b + (j + 2) * ldb, b + (j + 3) * ldb)
      var (s0, s1, s2, s3) = (Lanes(), Lanes(), Lanes(), Lanes())
      for p in stride(from: 0, to: whole, by: width) {
        let x = load(a + p)
        s0 = mulAdd(x, load(r0 + p), s0)
        s1 = mulAdd(x, load(r1 + p), s1)
        s2 = mulAdd(x, load(r2 + p), s2)
        s3 = mulAdd(x, load(r3 + p), s3)
      }
      var (t0, t1, t2, t3) = (total(s0), total(s1), total(s2), total(s3))
      for p in whole..<k {
        let x = a[p * aStep]
        t0 += x * r0[p]
        t1 += x * r1[p]
        t2 += x * r2[p]
        t3 += x * r3[p]
      }
      store(t0, alpha, beta, c + j)
      store(t1, alpha, beta, c + j + 1)
      store(t2, alpha, beta, c + j + 2)
      store(t3, alpha, beta, c + j + 3)
      j += 4
    }
    for j in j..<n {
      let row = b + j * ldb
      var s = Lanes()
      for p in stride(from: 0, to: whole, by: width) { s = mulAdd(load(a + p), load(row + p), s) }
      var t = total(s)
      for p in whole..<k { t += a[p * aStep] * row[p] }
      store(t, alpha, beta, c + j)
    }
  }
}
