/// index_select, gather and scatter_add (also in place): reading and adding at positions
/// given by an index tensor (0-based whole numbers, checked first). gather and scatter_add
/// are each other's backward, as in PyTorch.
extension Tensor {
  /// The slices at positions `index` (1-D) along `dim`, in that order.
  public func indexSelect(dim: Int, index: Tensor) throws -> Tensor {
    let d = try Shape.normalize(dim: dim, rank: rank, op: "index_select")
    guard index.rank == 1 else {
      throw TensorError(
        "index_select: index must be 1-D, got shape \(describeShape(index.shape))")
    }
    try Tensor.checkIndices(index, below: shape[d], op: "index_select")
    var outShape = shape
    outShape[d] = index.count
    try Shape.validate(outShape, op: "index_select")
    let out = Tensor(uninitialized: outShape)
    let blocks = IndexBlocks(shape: shape, dim: d, index: index)
    blocks.forEach { from, to, n in out.data.advanced(by: to).update(from: data + from, count: n) }
    return Autograd.record("index_select", output: out, inputs: [self]) { [shape] g in
      let gi = Tensor(zeros: shape)
      blocks.forEach { from, to, n in
        let dst = gi.data + from
        let src = g.data + to
        for i in 0..<n { dst[i] += src[i] }
      }
      return [gi]
    }
  }

  /// out[i][j][k] = self[index[i][j][k]][j][k] for dim 0 (likewise for other dims):
  /// `index` has this tensor's rank and no size beyond it except along `dim`.
  public func gather(dim: Int, index: Tensor) throws -> Tensor {
    let d = try checkScatterIndex(dim, index, op: "gather")
    let out = Tensor(uninitialized: index.shape)
    let src = data
    let po = out.data
    forEachIndexed(d, index) { a, b, pos in po[b] = src[a + pos] }
    return Autograd.record("gather", output: out, inputs: [self]) { [shape] g in
      [try Tensor(zeros: shape).scatterAdd(dim: d, index: index, source: g)]
    }
  }

  /// A copy of this tensor with `source` (at least the index's shape) added at the
  /// positions `index` names along `dim`: self[index[i][j]][j] += source[i][j] for dim 0.
  public func scatterAdd(dim: Int, index: Tensor, source: Tensor) throws -> Tensor {
    let (d, covered) = try checkScatter(dim, index, source, op: "scatter_add")
    let out = Autograd.noGrad { clone() }
    out.addScattered(d, index, covered)
    return Autograd.record("scatter_add", output: out, inputs: [self, covered]) { g in
      [g, try g.gather(dim: d, index: index)]
    }
  }

  /// scatterAdd into this tensor (PyTorch's scatter_add_), under the rules of in-place
  /// assignment (Ops/Assign.swift).
  public func scatterAddInPlace(dim: Int, index: Tensor, source: Tensor) throws {
    let (d, covered) = try checkScatter(dim, index, source, op: "scatter_add_")
    try recordAssignment(covered, op: "scatter_add_") { src in
      addScattered(d, index, src)
    } backward: { g in
      [g, try g.gather(dim: d, index: index)]
    }
  }

  private func addScattered(_ d: Int, _ index: Tensor, _ source: Tensor) {
    let dst = data
    let src = source.data
    forEachIndexed(d, index) { a, b, pos in dst[a + pos] += src[b] }
  }

  /// Checks a scatter's index and source; returns the 0-based dimension and the part of
  /// `source` the index covers (as in PyTorch, source may be larger than the index and
  /// only its leading block is read).
  private func checkScatter(_ dim: Int, _ index: Tensor, _ source: Tensor, op: String) throws
    -> (Int, Tensor)
  {
    let d = try checkScatterIndex(dim, index, op: op)
    guard source.rank == index.rank, zip(index.shape, source.shape).allSatisfy({ $0 <= $1 })
    else {
      throw TensorError(
        "\(op): source of shape \(describeShape(source.shape)) is smaller than index of shape \(describeShape(index.shape)) (same rank, each size at least the index's)"
      )
    }
    if source.shape == index.shape { return (d, source) }
    return (d, try source.index(index.shape.map { .range(0..<$0) }))
  }

  /// Checks a gather/scatter index and returns the 0-based dimension.
  private func checkScatterIndex(_ dim: Int, _ index: Tensor, op: String) throws -> Int {
    let d = try Shape.normalize(dim: dim, rank: rank, op: op)
    guard index.rank == rank,
      zip(index.shape, shape).enumerated().allSatisfy({
        $0.offset == d || $0.element.0 <= $0.element.1
      })
    else {
      throw TensorError(
        "\(op): index of shape \(describeShape(index.shape)) doesn't fit tensor of shape \(describeShape(shape)) (same rank, no larger except along dimension \(d + 1))"
      )
    }
    try Tensor.checkIndices(index, below: shape[d], op: op)
    return d
  }

  /// Calls `body(a, b, pos)` for each element b of `index` (row-major): `a` is the offset
  /// in this tensor of the same coordinates with coordinate `dim` set to 0, and `pos` the
  /// offset the index's value adds along `dim`.
  private func forEachIndexed(_ dim: Int, _ index: Tensor, _ body: (Int, Int, Int) -> Void) {
    var own = Shape.strides(shape)
    let step = own[dim]
    own[dim] = 0
    let idx = index.data
    StridedLayout.forEachRow(index.shape, own, Shape.strides(index.shape)) { a, b, n, sa, _ in
      for j in 0..<n { body(a + j * sa, b + j, Int(idx[b + j]) * step) }
    }
  }
}

/// The contiguous blocks index_select copies: for each outer position and each entry of
/// the index, `inner` floats from the chosen slice to the next output slice.
struct IndexBlocks {
  let outer: Int
  let size: Int
  let inner: Int
  let positions: [Int]

  init(shape: [Int], dim: Int, index: Tensor) {
    outer = Shape.count(Array(shape[..<dim]))
    size = shape[dim]
    inner = Shape.count(Array(shape[(dim + 1)...]))
    positions = (0..<index.count).map { Int(index.data[$0]) }
  }

  /// body(input offset, output offset, length) per block.
  func forEach(_ body: (Int, Int, Int) -> Void) {
    for o in 0..<outer {
      for (k, p) in positions.enumerated() {
        body((o * size + p) * inner, (o * positions.count + k) * inner, inner)
      }
    }
  }
}
