/// Shape changes. `reshape`, `squeeze` and `unsqueeze` of a contiguous tensor share its
/// storage; of a strided view they copy (PyTorch's reshape does too where the strides
/// don't allow a view). `repeatTensor` copies (docs/tensor.md, "Indexing, views and copies").
extension Tensor {
  /// The same elements under `newShape`; one size may be -1 (inferred).
  public func reshape(_ newShape: [Int]) throws -> Tensor {
    guard isContiguous else { return try contiguous().reshape(newShape) }
    var target = newShape
    let holes = target.indices.filter { target[$0] == -1 }
    guard holes.count <= 1 else {
      throw TensorError("reshape: only one size may be -1, got \(describeShape(newShape))")
    }
    if let hole = holes.first {
      target[hole] = 1
      try Shape.validate(target, op: "reshape")
      let known = Shape.count(target)
      guard known > 0, count % known == 0 else {
        throw TensorError(
          "reshape: can't reshape \(describeShape(shape)) (\(count) elements) into \(describeShape(newShape))"
        )
      }
      target[hole] = count / known
    }
    try Shape.validate(target, op: "reshape")
    guard Shape.count(target) == count else {
      throw TensorError(
        "reshape: can't reshape \(describeShape(shape)) (\(count) elements) into \(describeShape(newShape))"
      )
    }
    let out = Tensor(shape: target, storage: storage, offset: offset, isView: true)
    return Autograd.record("reshape", output: out, inputs: [self]) { [shape] g in
      [try g.reshape(shape)]
    }
  }

  /// Without size-1 dimensions (or without dimension `dim`, if it has size 1).
  public func squeeze(dim: Int? = nil) throws -> Tensor {
    guard let dim else { return try reshape(shape.filter { $0 != 1 }) }
    let d = try Shape.normalize(dim: dim, rank: rank, op: "squeeze")
    guard shape[d] == 1 else { return self }
    var target = shape
    target.remove(at: d)
    return try reshape(target)
  }

  /// With a size-1 dimension inserted at `dim` (0 … rank; negative counts from the end
  /// of the result).
  public func unsqueeze(dim: Int) throws -> Tensor {
    let d = try Shape.normalize(dim: dim, rank: rank + 1, op: "unsqueeze")
    var target = shape
    target.insert(1, at: d)
    return try reshape(target)
  }

  /// This tensor when contiguous, else a contiguous copy of it (differentiable).
  public func contiguous() throws -> Tensor {
    guard !isContiguous else { return self }
    try Shape.validate(shape, op: "contiguous")
    let out = Tensor(uninitialized: shape)
    out.data.update(from: data, count: count)
    return Autograd.record("contiguous", output: out, inputs: [self]) { g in [g] }
  }

  /// Tiled `repeats[i]` times along dimension i (Torch7's repeatTensor, PyTorch's
  /// repeat); extra leading repeats add dimensions.
  public func repeatTensor(_ repeats: [Int]) throws -> Tensor {
    let lead = repeats.count - rank
    guard lead >= 0, repeats.allSatisfy({ $0 >= 0 }) else {
      throw TensorError(
        "repeatTensor: repeats \(describeShape(repeats)) must be ≥ 0 and at least one per dimension of shape \(describeShape(shape))"
      )
    }
    let sizes = [Int](repeating: 1, count: lead) + shape
    // Tile i of dimension d is dimension 2d of [r0, s0, r1, s1, …], broadcast from x.
    let interleaved = zip(repeats, sizes).flatMap { [1, $1] }
    let tiled = zip(repeats, sizes).flatMap { [$0, $1] }
    return try reshape(interleaved).expand(tiled).reshape(zip(repeats, sizes).map { $0 * $1 })
  }

  /// The transpose of a 2-D tensor (a view).
  public func transposed() throws -> Tensor {
    guard rank == 2 else {
      throw TensorError("t: expected a 2-D tensor, got shape \(describeShape(shape))")
    }
    return try transpose(0, 1)
  }
}
