/// Cumulative sums along a dimension (seen as [outer, n, inner]).
extension Tensor {
  /// out[j] = Σ_{k ≤ j} x[k] along `dim`. Its gradient is the reversed cumulative sum of
  /// the output gradient: x[k] feeds every out[j] with j ≥ k.
  public func cumsum(dim: Int) throws -> Tensor {
    let (_, outer, n, inner) = try layout(dim, op: "cumsum")
    let out = Tensor(uninitialized: shape)
    Self.scan(data, into: out.data, outer: outer, n: n, inner: inner, reversed: false)
    return Autograd.record("cumsum", output: out, inputs: [self]) { g in
      let gx = Tensor(uninitialized: g.shape)
      Self.scan(g.data, into: gx.data, outer: outer, n: n, inner: inner, reversed: true)
      return [gx]
    }
  }

  /// Running sums along j, from the front or (reversed) from the back, in Double.
  private static func scan(
    _ x: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, outer: Int, n: Int,
    inner: Int, reversed: Bool
  ) {
    for o in 0..<outer {
      for i in 0..<inner {
        let line = o * n * inner + i
        var total: Double = 0
        for k in 0..<n {
          let j = reversed ? n - 1 - k : k
          total += Double(x[line + j * inner])
          out[line + j * inner] = Float(total)
        }
      }
    }
  }
}
