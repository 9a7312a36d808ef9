/// Reductions over all elements or along one dimension. A tensor reduced along `dim` is
/// seen as [outer, n, inner] (n = size of dim), so one kernel serves every dimension.
extension Tensor {
  public func sum() -> Tensor {
    let out = Tensor(scalar: Reduce.sum(data, count))
    return Autograd.record("sum", output: out, inputs: [self]) { [shape] g in
      [Tensor(filled: shape, g.data[0])]
    }
  }

  public func sum(dim: Int, keepDim: Bool = false) throws -> Tensor {
    let (d, outer, n, inner) = try layout(dim, op: "sum")
    let out = Tensor(uninitialized: try reducedShape(d, keepDim: keepDim, op: "sum"))
    Reduce.sum(data, into: out.data, outer: outer, n: n, inner: inner, scale: 1)
    return Autograd.record("sum", output: out, inputs: [self]) { [shape] g in
      [Reduce.expand(g, to: shape, outer: outer, n: n, inner: inner, scale: 1)]
    }
  }

  /// The mean of all elements (NaN for an empty tensor, as in PyTorch).
  public func mean() -> Tensor {
    let n = Float(count)
    let out = Tensor(scalar: Reduce.sum(data, count) / n)
    return Autograd.record("mean", output: out, inputs: [self]) { [shape] g in
      [Tensor(filled: shape, g.data[0] / n)]
    }
  }

  public func mean(dim: Int, keepDim: Bool = false) throws -> Tensor {
    let (d, outer, n, inner) = try layout(dim, op: "mean")
    let out = Tensor(uninitialized: try reducedShape(d, keepDim: keepDim, op: "mean"))
    let scale = 1 / Float(n)
    Reduce.sum(data, into: out.data, outer: outer, n: n, inner: inner, scale: scale)
    return Autograd.record("mean", output: out, inputs: [self]) { [shape] g in
      [Reduce.expand(g, to: shape, outer: outer, n: n, inner: inner, scale: scale)]
    }
  }

  /// The largest element; its gradient goes to the first position holding it.
  public func max() throws -> Tensor { try extreme(smallest: false, op: "max") }

  /// The largest (or smallest) element, its gradient to the first position holding it.
  func extreme(smallest: Bool, op: String) throws -> Tensor {
    guard count > 0 else {
      let what = smallest ? "minimum" : "maximum"
      throw TensorError("\(op): empty tensor of shape \(describeShape(shape)) has no \(what)")
    }
    let values = Tensor(uninitialized: [])
    var index: Int32 = 0
    Reduce.extreme(
      data, values: values.data, indices: &index, outer: 1, n: count, inner: 1, smallest: smallest)
    return Autograd.record(op, output: values, inputs: [self]) { [shape] g in
      let gx = Tensor(zeros: shape)
      gx.data[Int(index)] = g.data[0]
      return [gx]
    }
  }

  /// The largest values along `dim`; each gradient goes to the first position holding it.
  public func max(dim: Int, keepDim: Bool = false) throws -> Tensor {
    try maxWithIndices(dim: dim, keepDim: keepDim).values
  }

  /// The largest values along `dim` (differentiable) and their positions (0-based, as
  /// Floats, same shape), like PyTorch's `max(dim)`.
  public func maxWithIndices(dim: Int, keepDim: Bool = false) throws -> (
    values: Tensor, indices: Tensor
  ) {
    try extremeWithIndices(dim: dim, keepDim: keepDim, smallest: false, op: "max")
  }

  /// The largest (or smallest) values along `dim` and their first positions.
  func extremeWithIndices(dim: Int, keepDim: Bool, smallest: Bool, op: String) throws -> (
    values: Tensor, indices: Tensor
  ) {
    let (values, indices, outer, n, inner) = try extremeAlong(
      dim, keepDim: keepDim, smallest: smallest, op: op)
    let positions = Tensor(uninitialized: values.shape)
    for i in 0..<indices.count { positions.data[i] = Float(indices[i]) }
    let out = Autograd.record(op, output: values, inputs: [self]) { [shape] g in
      let gx = Tensor(zeros: shape)
      for o in 0..<outer {
        for i in 0..<inner {
          gx.data[(o * n + Int(indices[o * inner + i])) * inner + i] = g.data[o * inner + i]
        }
      }
      return [gx]
    }
    return (out, positions)
  }

  /// Positions (0-based, as Floats) of the largest values along `dim`; not differentiable.
  public func argmax(dim: Int) throws -> Tensor {
    try positions(dim: dim, smallest: false, op: "argmax")
  }

  /// Positions (0-based, as Floats) of the largest (or smallest) values along `dim`.
  func positions(dim: Int, smallest: Bool, op: String) throws -> Tensor {
    let (values, indices, _, _, _) = try extremeAlong(
      dim, keepDim: false, smallest: smallest, op: op)
    for i in 0..<indices.count { values.data[i] = Float(indices[i]) }
    return values
  }

  /// The max (or min) kernel along `dim`, unrecorded: values, first positions, and the
  /// layout.
  private func extremeAlong(
    _ dim: Int, keepDim: Bool, smallest: Bool, op: String
  ) throws -> (Tensor, [Int32], outer: Int, n: Int, inner: Int) {
    let (d, outer, n, inner) = try layout(dim, op: op)
    guard n > 0 else {
      throw TensorError(
        "\(op): can't reduce along an empty dimension of shape \(describeShape(shape))")
    }
    let values = Tensor(uninitialized: try reducedShape(d, keepDim: keepDim, op: op))
    var indices = [Int32](repeating: 0, count: outer * inner)
    indices.withUnsafeMutableBufferPointer { idx in
      if let p = idx.baseAddress {
        Reduce.extreme(
          data, values: values.data, indices: p, outer: outer, n: n, inner: inner,
          smallest: smallest)
      }
    }
    return (values, indices, outer, n, inner)
  }

  /// (dim, outer, n, inner) for a reduction along `dim` (negative counts from the end).
  func layout(_ dim: Int, op: String) throws -> (Int, Int, Int, Int) {
    let d = try Shape.normalize(dim: dim, rank: rank, op: op)
    return (d, Shape.count(Array(shape[..<d])), shape[d], Shape.count(Array(shape[(d + 1)...])))
  }

  /// The shape left after reducing along d. Checked: reducing an empty dimension of
  /// [100000, 100000, 0] would otherwise ask for 10¹⁰ output elements.
  func reducedShape(_ d: Int, keepDim: Bool, op: String) throws -> [Int] {
    var s = shape
    if keepDim { s[d] = 1 } else { s.remove(at: d) }
    try Shape.validate(s, op: op)
    return s
  }
}

/// Reduction kernels on raw pointers.
public enum Reduce {
  /// Sum of n contiguous floats: 16 float lanes per block of 4096 (vectorised; the
  /// compiler won't reorder a scalar float sum), blocks accumulated in Double so large
  /// tensors keep their precision.
  public static func sum(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
    var total: Double = 0
    var start = 0
    let raw = UnsafeRawPointer(x)
    while start < n {
      let end = Swift.min(start + 4096, n)
      var a0 = SIMD8<Float>()
      var a1 = SIMD8<Float>()
      var i = start
      while i + 16 <= end {
        a0 += raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
        a1 += raw.loadUnaligned(fromByteOffset: (i + 8) * 4, as: SIMD8<Float>.self)
        i += 16
      }
      var s = (a0 + a1).sum()
      while i < end {
        s += x[i]
        i += 1
      }
      total += Double(s)
      start = end
    }
    return Float(total)
  }

  /// out[o, i] = scale · Σⱼ x[o, j, i]
  static func sum(
    _ x: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, outer: Int, n: Int,
    inner: Int, scale: Float
  ) {
    if inner == 1 {
      for o in 0..<outer { out[o] = sum(x + o * n, n) * scale }
      return
    }
    for o in 0..<outer {
      let po = out + o * inner
      po.update(repeating: 0, count: inner)
      for j in 0..<n {
        let px = x + (o * n + j) * inner
        for i in 0..<inner { po[i] += px[i] }
      }
      for i in 0..<inner { po[i] *= scale }
    }
  }

  /// The backward of a sum/mean along a dimension: gx[o, j, i] = scale · g[o, i].
  static func expand(_ g: Tensor, to shape: [Int], outer: Int, n: Int, inner: Int, scale: Float)
    -> Tensor
  {
    let gx = Tensor(uninitialized: shape)
    let pg = g.data
    let px = gx.data
    for o in 0..<outer {
      for j in 0..<n {
        let row = px + (o * n + j) * inner
        let src = pg + o * inner
        for i in 0..<inner { row[i] = src[i] * scale }
      }
    }
    return gx
  }

  /// values[o, i] = maxⱼ x[o, j, i] (or minⱼ when `smallest`) and the first j reaching
  /// it (NaN wins, as in PyTorch); n ≥ 1.
  static func extreme(
    _ x: UnsafePointer<Float>, values: UnsafeMutablePointer<Float>,
    indices: UnsafeMutablePointer<Int32>,
    outer: Int, n: Int, inner: Int, smallest: Bool
  ) {
    for o in 0..<outer {
      for i in 0..<inner {
        let base = x + o * n * inner + i
        var best = base[0]
        var at = 0
        if !best.isNaN {
          for j in 1..<Swift.max(n, 1) {
            let v = base[j * inner]
            if (smallest ? v < best : v > best) || v.isNaN {
              best = v
              at = j
              if v.isNaN { break }
            }
          }
        }
        values[o * inner + i] = best
        indices[o * inner + i] = Int32(at)
      }
    }
  }
}
