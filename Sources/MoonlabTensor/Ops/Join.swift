/// Joining tensors along a dimension (cat, stack) and cutting one into pieces (split,
/// chunk). The pieces of split and chunk are `narrow`s: views along the first dimension,
/// copies along others.
extension Tensor {
  /// The tensors laid end to end along `dim`; all other sizes must match.
  public static func cat(_ tensors: [Tensor], dim: Int) throws -> Tensor {
    guard let first = tensors.first else { throw TensorError("cat: expected at least one tensor") }
    let d = try Shape.normalize(dim: dim, rank: first.rank, op: "cat")
    for (k, t) in tensors.enumerated() {
      guard t.rank == first.rank,
        t.shape.indices.allSatisfy({ $0 == d || t.shape[$0] == first.shape[$0] })
      else {
        throw TensorError(
          "cat: tensor \(k + 1) has shape \(describeShape(t.shape)), expected \(describeShape(first.shape)) except along dimension \(d + 1)"
        )
      }
    }
    var shape = first.shape
    shape[d] = tensors.reduce(0) { $0 + $1.shape[d] }
    try Shape.validate(shape, op: "cat")
    let out = Tensor(uninitialized: shape)
    // Each input contributes one block of shape[d]·inner floats per outer position.
    let outer = Shape.count(Array(shape[..<d]))
    let inner = Shape.count(Array(shape[(d + 1)...]))
    let row = shape[d] * inner
    var start = 0
    for t in tensors {
      let block = t.shape[d] * inner
      for o in 0..<outer {
        (out.data + o * row + start).update(from: t.data + o * block, count: block)
      }
      start += block
    }
    let sizes = tensors.map { $0.shape[d] }
    return Autograd.record("cat", output: out, inputs: tensors) { g in
      try g.split(sizes: sizes, dim: d)
    }
  }

  /// The tensors (all of one shape) joined along a new dimension `dim` (0 … rank).
  public static func stack(_ tensors: [Tensor], dim: Int) throws -> Tensor {
    guard let first = tensors.first else {
      throw TensorError("stack: expected at least one tensor")
    }
    for (k, t) in tensors.enumerated() where t.shape != first.shape {
      throw TensorError(
        "stack: tensor \(k + 1) has shape \(describeShape(t.shape)), expected \(describeShape(first.shape))"
      )
    }
    let d = try Shape.normalize(dim: dim, rank: first.rank + 1, op: "stack")
    return try cat(tensors.map { try $0.unsqueeze(dim: d) }, dim: d)
  }

  /// Consecutive pieces along `dim` of the given sizes, which must add up to its size.
  public func split(sizes: [Int], dim: Int) throws -> [Tensor] {
    let d = try Shape.normalize(dim: dim, rank: rank, op: "split")
    // Each size within the dimension first, so the sum can't overflow.
    guard sizes.allSatisfy({ $0 >= 0 && $0 <= shape[d] }), sizes.reduce(0, +) == shape[d] else {
      throw TensorError(
        "split: sizes \(describeShape(sizes)) don't add up to size \(shape[d]) of dimension \(d + 1)"
      )
    }
    var start = 0
    return try sizes.map { n in
      defer { start += n }
      return try narrow(dim: d, start: start, length: n)
    }
  }

  /// Pieces of `size` along `dim` (the last one smaller if the size doesn't divide); an
  /// empty dimension gives one empty piece, as in PyTorch.
  public func split(size: Int, dim: Int) throws -> [Tensor] {
    let d = try Shape.normalize(dim: dim, rank: rank, op: "split")
    guard size > 0 else { throw TensorError("split: piece size must be positive, got \(size)") }
    let n = shape[d]
    let sizes = stride(from: 0, to: n, by: size).map { min(size, n - $0) }
    return try split(sizes: sizes.isEmpty ? [0] : sizes, dim: d)
  }

  /// At most `chunks` pieces of equal size along `dim` (the last one smaller), as
  /// PyTorch's chunk: pieces of ⌈size / chunks⌉.
  public func chunk(_ chunks: Int, dim: Int) throws -> [Tensor] {
    let d = try Shape.normalize(dim: dim, rank: rank, op: "chunk")
    guard chunks > 0 else {
      throw TensorError("chunk: number of chunks must be positive, got \(chunks)")
    }
    return try split(size: Swift.max((shape[d] + chunks - 1) / chunks, 1), dim: d)
  }
}
