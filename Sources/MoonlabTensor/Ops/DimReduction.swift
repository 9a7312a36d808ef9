/// min, argmin, prod and norm, over all elements or along one dimension (seen as
/// [outer, n, inner], as in Reduction.swift).
extension Tensor {
  /// The smallest element; its gradient goes to the first position holding it. Named
  /// `minimum`: a method `min()` would hide `Swift.min` in every Tensor extension.
  public func minimum() throws -> Tensor { try extreme(smallest: true, op: "min") }

  /// The smallest values along `dim` (differentiable) and their first positions (0-based,
  /// as Floats), like PyTorch's `min(dim)`.
  public func minWithIndices(dim: Int, keepDim: Bool = false) throws -> (
    values: Tensor, indices: Tensor
  ) {
    try extremeWithIndices(dim: dim, keepDim: keepDim, smallest: true, op: "min")
  }

  /// Positions (0-based, as Floats) of the smallest values along `dim`; not differentiable.
  public func argmin(dim: Int) throws -> Tensor {
    try positions(dim: dim, smallest: true, op: "argmin")
  }

  /// The product of all elements (1 for an empty tensor).
  public func prod() -> Tensor {
    product(outShape: [], outer: 1, n: count, inner: 1)
  }

  public func prod(dim: Int, keepDim: Bool = false) throws -> Tensor {
    let (d, outer, n, inner) = try layout(dim, op: "prod")
    return product(
      outShape: try reducedShape(d, keepDim: keepDim, op: "prod"), outer: outer, n: n, inner: inner)
  }

  /// out[o, i] = Πⱼ x[o, j, i]. The gradient of x[j] is the product of the others, taken as
  /// prefix × suffix products rather than out / x[j], so zeros in x are handled exactly.
  private func product(outShape: [Int], outer: Int, n: Int, inner: Int) -> Tensor {
    let out = Tensor(uninitialized: outShape)
    let (px, po) = (data, out.data)
    for o in 0..<outer {
      for i in 0..<inner {
        var p: Float = 1
        for j in 0..<n { p *= px[(o * n + j) * inner + i] }
        po[o * inner + i] = p
      }
    }
    return Autograd.record("prod", output: out, inputs: [self]) { [x = detach()] g in
      let gx = Tensor(uninitialized: x.shape)
      let (px, pg, pgx) = (x.data, g.data, gx.data)
      for o in 0..<outer {
        for i in 0..<inner {
          let line = o * n * inner + i
          // Prefix products first, then multiplied by the suffix walking back.
          var prefix: Float = 1
          for j in 0..<n {
            pgx[line + j * inner] = prefix
            prefix *= px[line + j * inner]
          }
          var suffix = pg[o * inner + i]
          for j in stride(from: n - 1, through: 0, by: -1) {
            pgx[line + j * inner] *= suffix
            suffix *= px[line + j * inner]
          }
        }
      }
      return [gx]
    }
  }

  /// The p-norm of all elements, (Σ|x|ᵖ)^(1/p); p = .infinity is the largest magnitude and
  /// p = 0 counts the nonzero elements (no gradient, as in PyTorch).
  public func norm(p: Float = 2) throws -> Tensor {
    try pNorm(p, sum: { $0.sum() }, max: { try $0.max() })
  }

  public func norm(p: Float = 2, dim: Int, keepDim: Bool = false) throws -> Tensor {
    try pNorm(
      p, sum: { try $0.sum(dim: dim, keepDim: keepDim) },
      max: { try $0.max(dim: dim, keepDim: keepDim) })
  }

  /// The norm composed from differentiable ops, so its gradient is theirs.
  private func pNorm(
    _ p: Float, sum: (Tensor) throws -> Tensor, max: (Tensor) throws -> Tensor
  ) throws -> Tensor {
    guard p >= 0, !p.isNaN else { throw TensorError("norm: p must be ≥ 0, got \(p)") }
    switch p {
    case 0: return try sum(try detach().ne(Tensor(scalar: 0)))
    case 1: return try sum(abs())
    case 2: return try sum(pow(2)).sqrt()
    case .infinity: return try max(abs())
    default: return try sum(abs().pow(p)).pow(1 / p)
    }
  }
}
