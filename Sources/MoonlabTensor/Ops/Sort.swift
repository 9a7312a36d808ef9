/// sort and topk along a dimension (seen as [outer, n, inner]): one kernel orders each
/// slice and keeps its first k entries (k = n for sort).
extension Tensor {
  /// Values sorted along `dim` and their original positions (0-based, as Floats). NaN sorts
  /// as the largest value, as in PyTorch; equal values keep their order (stable=True).
  public func sort(dim: Int = -1, descending: Bool = false) throws -> (
    values: Tensor, indices: Tensor
  ) {
    let (d, _, n, _) = try layout(dim, op: "sort")
    return try ordered(d, k: n, descending: descending, op: "sort")
  }

  /// The k largest (or smallest) values along `dim`, in that order, and their positions.
  public func topk(_ k: Int, dim: Int = -1, largest: Bool = true) throws -> (
    values: Tensor, indices: Tensor
  ) {
    let (d, _, n, _) = try layout(dim, op: "topk")
    guard k >= 0, k <= n else {
      throw TensorError(
        "topk: k = \(k) out of range for a dimension of size \(n) (shape \(describeShape(shape)))"
      )
    }
    return try ordered(d, k: k, descending: largest, op: "topk")
  }

  /// The first k entries of each slice in sorted order. The values' gradient goes back to
  /// the positions they came from.
  private func ordered(_ d: Int, k: Int, descending: Bool, op: String) throws -> (
    values: Tensor, indices: Tensor
  ) {
    let (_, outer, n, inner) = try layout(d, op: op)
    var outShape = shape
    outShape[d] = k
    try Shape.validate(outShape, op: op)
    let values = Tensor(uninitialized: outShape)
    let indices = Tensor(uninitialized: outShape)
    // One slice's values and permutation, reused for every slice.
    var slice = [Float](repeating: 0, count: n)
    var order = [Int](repeating: 0, count: n)
    let (px, pv, pi) = (data, values.data, indices.data)
    for o in 0..<outer {
      for i in 0..<inner {
        for j in 0..<n {
          slice[j] = px[(o * n + j) * inner + i]
          order[j] = j
        }
        slice.withUnsafeBufferPointer { s in
          // NaN is the largest; ties (NaNs too) keep their original order.
          order.sort { a, b in
            let (x, y) = (s[a], s[b])
            let tie = x == y || (x.isNaN && y.isNaN)
            if tie { return a < b }
            if descending { return x > y || x.isNaN }
            return x < y || y.isNaN
          }
        }
        for j in 0..<k {
          pv[(o * k + j) * inner + i] = slice[order[j]]
          pi[(o * k + j) * inner + i] = Float(order[j])
        }
      }
    }
    let out = Autograd.record(op, output: values, inputs: [self]) {
      [shape, positions = indices] g in
      let gx = Tensor(zeros: shape)
      let (pg, pgx, pp) = (g.data, gx.data, positions.data)
      for o in 0..<outer {
        for i in 0..<inner {
          for j in 0..<k {
            let at = (o * k + j) * inner + i
            pgx[(o * n + Int(pp[at])) * inner + i] += pg[at]
          }
        }
      }
      return [gx]
    }
    return (out, indices)
  }
}
