import CBLAS

/// Row-major GEMM wrapper: C[m,n] = alpha · op(A) · op(B) + beta · C.
/// Every matrix product in Moonlab (linear, conv via im2col) goes through here. `small`:
/// the caller's product has a batch of at most `SmallGEMM.rowLimit` rows — decided on the
/// whole batch, not on a thread's chunk of it — and runs SmallGEMM's loops, not OpenBLAS.
@inline(__always)
public func sgemm(
  transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float = 1,
  a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
  beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int, small: Bool = false
) {
  if small {
    SmallGEMM.run(
      transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b,
      ldb: ldb, beta: beta, c: c, ldc: ldc)
    return
  }
  cblas_sgemm(
    CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
    blasint(m), blasint(n), blasint(k), alpha, a, blasint(lda), b, blasint(ldb), beta, c,
    blasint(ldc))
}

/// `sgemm` with the rows of C split over the run's threads, for GEMMs not already inside
/// a parallel chunk (`matmul`, the recurrent layers): OpenBLAS itself runs on one thread
/// (`RunContext.singleThreadedOpenBLAS`). Row chunks depend only on m and the thread
/// count, so results repeat from run to run; small products stay in one piece.
public func parallelSgemm(
  transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float = 1,
  a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
  beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
) {
  // Rows enough for about a million multiply-adds per chunk (the pool's wake-up is µs).
  let minRows = max(1, RunContext.current.minimumChunkWork / max(1, n * k))
  Parallel.forChunks(m, minChunk: minRows) { rows in
    // Row i of op(A) starts at row i of A, or at column i of A when transposed.
    let aRows = a + rows.lowerBound * (transA ? 1 : lda)
    sgemm(
      transA: transA, transB: transB, m: rows.count, n: n, k: k, alpha: alpha, a: aRows, lda: lda,
      b: b, ldb: ldb, beta: beta, c: c + rows.lowerBound * ldc, ldc: ldc)
  }
}

extension Tensor {
  /// 2-D matrix product C = A·B; dA = dC·Bᵀ, dB = Aᵀ·dC.
  public func matmul(_ other: Tensor) throws -> Tensor {
    guard rank == 2, other.rank == 2 else {
      throw TensorError(
        "matmul: expected 2-D tensors, got shapes \(describeShape(shape)) and \(describeShape(other.shape))"
      )
    }
    let (m, k, k2, n) = (shape[0], shape[1], other.shape[0], other.shape[1])
    guard k == k2 else {
      throw TensorError(
        "matmul: shapes \(describeShape(shape)) and \(describeShape(other.shape)) don't match (\(k) ≠ \(k2))"
      )
    }
    try Shape.validate([m, n], op: "matmul")
    // sgemm with beta = 0 overwrites C, so only an empty inner dimension needs zeros.
    let out = k == 0 ? Tensor(zeros: [m, n]) : Tensor(uninitialized: [m, n])
    if m > 0, n > 0, k > 0 {
      parallelSgemm(
        transA: false, transB: false, m: m, n: n, k: k, a: data, lda: k, b: other.data, ldb: n,
        c: out.data, ldc: n)
    }
    return Autograd.record("matmul", output: out, inputs: [self, other]) {
      [a = self.detach(), b = other.detach()] g in
      let ga = Tensor(zeros: [m, k])
      let gb = Tensor(zeros: [k, n])
      if m > 0, n > 0, k > 0 {
        parallelSgemm(
          transA: false, transB: true, m: m, n: k, k: n, a: g.data, lda: n, b: b.data, ldb: n,
          c: ga.data, ldc: k)
        parallelSgemm(
          transA: true, transB: false, m: k, n: n, k: m, a: a.data, lda: k, b: g.data, ldb: n,
          c: gb.data, ldc: n)
      }
      return [ga, gb]
    }
  }
}
