import Foundation

/// Eigendecomposition of a symmetric matrix by the cyclic Jacobi method, in Double.
/// Meant for small matrices (a whitening layer's 27×27 patch covariance): each sweep is
/// O(n³) and a handful of sweeps converge, with results that don't depend on threads or
/// BLAS (docs/tensor.md, "Linear algebra").
public enum SymmetricEigen {
  /// The largest n `Tensor.eigh` takes.
  public static let maxSize = 1024

  /// `a`: n×n row-major, read as symmetric. Returns the eigenvalues ascending and the
  /// eigenvectors as the columns of a row-major n×n matrix, so A = V diag(λ) Vᵀ.
  public static func decompose(_ a: [Double], n: Int) -> (values: [Double], vectors: [Double]) {
    var m = a
    var v = [Double](repeating: 0, count: n * n)
    for i in 0..<n { v[i * n + i] = 1 }
    let scale = m.reduce(0) { $0 + $1 * $1 }
    for _ in 0..<100 {
      var off = 0.0
      for p in 0..<n { for q in (p + 1)..<n { off += m[p * n + q] * m[p * n + q] } }
      // Off-diagonal mass below rounding of the whole matrix: the diagonal is converged.
      if off <= 1e-30 * scale || off == 0 { break }
      for p in 0..<n {
        for q in (p + 1)..<n {
          let apq = m[p * n + q]
          if apq == 0 { continue }
          rotate(&m, &v, n, p, q, apq)
        }
      }
    }
    let order = (0..<n).sorted { (m[$0 * n + $0], $0) < (m[$1 * n + $1], $1) }
    let values = order.map { m[$0 * n + $0] }
    var vectors = [Double](repeating: 0, count: n * n)
    for (j, k) in order.enumerated() { for i in 0..<n { vectors[i * n + j] = v[i * n + k] } }
    return (values, vectors)
  }

  /// One Jacobi rotation A ← JᵀAJ, V ← VJ zeroing A[p][q]; J is the identity with
  /// c at (p,p), (q,q), s at (p,q) and −s at (q,p), tan φ = t the smaller root of
  /// t² + 2θt − 1 = 0, θ = (a_qq − a_pp)/(2 a_pq) (the stable choice, |φ| ≤ π/4).
  private static func rotate(
    _ m: inout [Double], _ v: inout [Double], _ n: Int, _ p: Int, _ q: Int, _ apq: Double
  ) {
    let theta = (m[q * n + q] - m[p * n + p]) / (2 * apq)
    let t =
      theta.isInfinite
      ? 0.5 / theta : (theta >= 0 ? 1 : -1) / (abs(theta) + (theta * theta + 1).squareRoot())
    let c = 1 / (t * t + 1).squareRoot()
    let s = t * c
    for k in 0..<n {
      let (akp, akq) = (m[k * n + p], m[k * n + q])
      m[k * n + p] = c * akp - s * akq
      m[k * n + q] = s * akp + c * akq
    }
    for k in 0..<n {
      let (apk, aqk) = (m[p * n + k], m[q * n + k])
      m[p * n + k] = c * apk - s * aqk
      m[q * n + k] = s * apk + c * aqk
    }
    for k in 0..<n {
      let (vkp, vkq) = (v[k * n + p], v[k * n + q])
      v[k * n + p] = c * vkp - s * vkq
      v[k * n + q] = s * vkp + c * vkq
    }
  }
}

extension Tensor {
  /// PyTorch's `torch.linalg.eigh`: eigenvalues [n] ascending and eigenvectors [n, n] as
  /// columns of a symmetric [n, n] tensor, A = V diag(λ) Vᵀ. As PyTorch (UPLO='L'), only
  /// the lower triangle is read. No gradient.
  public func eigh() throws -> (values: Tensor, vectors: Tensor) {
    guard rank == 2, shape[0] == shape[1] else {
      throw TensorError("eigh: expected a square matrix [n, n], got \(describeShape(shape))")
    }
    let n = shape[0]
    // Jacobi costs ~n³ per sweep in Double: 1024 takes seconds, beyond that minutes.
    guard n <= SymmetricEigen.maxSize else {
      throw TensorError(
        "eigh: a \(n)x\(n) matrix is larger than the \(SymmetricEigen.maxSize)x\(SymmetricEigen.maxSize) this Jacobi solver is meant for"
      )
    }
    let x = data
    var a = [Double](repeating: 0, count: n * n)
    for i in 0..<n {
      for j in 0...i {
        let value = Double(x[i * n + j])
        guard value.isFinite else {
          throw TensorError("eigh: the matrix holds \(value); it must be finite")
        }
        a[i * n + j] = value
        a[j * n + i] = value
      }
    }
    let (values, vectors) = SymmetricEigen.decompose(a, n: n)
    return (
      try Tensor(shape: [n], values: values.map(Float.init)),
      try Tensor(shape: [n, n], values: vectors.map(Float.init))
    )
  }
}
