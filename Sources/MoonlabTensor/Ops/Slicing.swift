/// Slicing and axis reordering through a `StridedLayout`: the result is a view sharing its
/// input's storage — contiguous when its elements form one block of it, strided otherwise
/// — except `flip`, a copy as in PyTorch (docs/tensor.md, "Indexing, views and copies").
/// Either way the gradient is the output's gradient added back through the same window.
extension Tensor {
  /// One position or range per leading dimension of an index (`t[{2, {1, 3}}]` in Lua).
  public enum Index {
    /// Position i (0-based), dropping the dimension.
    case at(Int)
    /// Positions in the range, keeping the dimension.
    case range(Range<Int>)
    /// The whole dimension.
    case all
  }

  /// The elements `pick` selects, as a view sharing this storage (or, with
  /// `copying`, in a new contiguous tensor). `pick` rearranges a layout: applied to this
  /// tensor's row-major shape it says what the gradient flows back through; applied to
  /// its memory layout it gives the view's.
  func window(
    op: String, copying: Bool = false, _ pick: (inout StridedLayout) -> Void
  ) throws -> Tensor {
    var logical = StridedLayout(shape)
    pick(&logical)
    var memory = memoryLayout
    pick(&memory)
    let out: Tensor
    if memory.isContiguous && !copying {
      out = Tensor(shape: memory.shape, storage: storage, offset: memory.offset, isView: true)
    } else {
      // Both forms allocate the shape: a strided view keeps a row-major copy for kernels.
      try Shape.validate(logical.shape, op: op)
      if copying {
        out = Tensor(uninitialized: logical.shape)
        logical.gather(data, into: out.data)
      } else {
        out = Tensor(view: memory, of: storage)
      }
    }
    return Autograd.record(op, output: out, inputs: [self]) { [shape] g in
      let gi = Tensor(zeros: shape)
      logical.accumulate(g.data, into: gi.data)
      return [gi]
    }
  }

  /// The window of `items` (fewer items than dimensions leave the rest whole), relative
  /// to this tensor's row-major elements.
  public func layout(of items: [Index], op: String) throws -> StridedLayout {
    try checkIndex(items, op: op)
    var layout = StridedLayout(shape)
    layout.index(items)
    return layout
  }

  private func checkIndex(_ items: [Index], op: String) throws {
    guard items.count <= rank else {
      throw TensorError(
        "\(op): \(items.count) indices for a tensor of shape \(describeShape(shape))")
    }
    for (k, item) in items.enumerated() {
      let size = shape[k]
      switch item {
      case .at(let i):
        guard i >= 0, i < size else {
          throw TensorError(
            "\(op): index \(i) out of range for dimension \(k + 1) of size \(size) (shape \(describeShape(shape)))"
          )
        }
      case .range(let r):
        guard r.lowerBound >= 0, r.upperBound <= size else {
          throw TensorError(
            "\(op): range \(r.lowerBound)..<\(r.upperBound) out of range for dimension \(k + 1) of size \(size) (shape \(describeShape(shape)))"
          )
        }
      case .all:
        break
      }
    }
  }

  /// Indexing by positions and ranges, one per leading dimension: a view.
  public func index(_ items: [Index]) throws -> Tensor {
    try checkIndex(items, op: "index")
    return try window(op: "index") { $0.index(items) }
  }

  /// `length` positions of dimension `dim` from `start`: a view.
  public func narrow(dim: Int, start: Int, length: Int) throws -> Tensor {
    let d = try Shape.normalize(dim: dim, rank: rank, op: "narrow")
    guard start >= 0, length >= 0, start + length <= shape[d] else {
      throw TensorError(
        "narrow: start \(start) and length \(length) out of range for dimension \(d + 1) of size \(shape[d])"
      )
    }
    return try window(op: "narrow") { $0.narrow(d, start, length) }
  }

  /// Position `index` of dimension `dim`, which is dropped: a view.
  public func select(dim: Int, index: Int) throws -> Tensor {
    let d = try Shape.normalize(dim: dim, rank: rank, op: "select")
    guard index >= 0, index < shape[d] else {
      throw TensorError(
        "select: index \(index) out of range for dimension \(d + 1) of size \(shape[d])")
    }
    return try window(op: "select") { $0.select(d, index) }
  }

  /// Dimensions `dim0` and `dim1` swapped: a view.
  public func transpose(_ dim0: Int, _ dim1: Int) throws -> Tensor {
    let a = try Shape.normalize(dim: dim0, rank: rank, op: "transpose")
    let b = try Shape.normalize(dim: dim1, rank: rank, op: "transpose")
    return try window(op: "transpose") { $0.swap(a, b) }
  }

  /// Dimensions reordered, output dimension i being input dimension `dims[i]`: a view.
  public func permute(_ dims: [Int]) throws -> Tensor {
    let order = try dims.map { try Shape.normalize(dim: $0, rank: rank, op: "permute") }
    guard order.count == rank, Set(order).count == rank else {
      throw TensorError(
        "permute: \(dims) is not a permutation of the \(rank) dimensions of shape \(describeShape(shape))"
      )
    }
    return try window(op: "permute") { $0.permute(order) }
  }

  /// Sizes-1 dimensions repeated to `sizes` (-1 keeps a size; new leading dimensions may
  /// be added), as PyTorch's expand: a view that can be read but not written.
  public func expand(_ sizes: [Int]) throws -> Tensor {
    let lead = sizes.count - rank
    guard lead >= 0 else {
      throw TensorError(
        "expand: \(describeShape(sizes)) has fewer dimensions than shape \(describeShape(shape))")
    }
    var target = sizes
    for d in 0..<sizes.count {
      let size = d < lead ? 1 : shape[d - lead]
      if sizes[d] == -1 && d >= lead { target[d] = size }
      guard target[d] >= 0, target[d] == size || size == 1 else {
        throw TensorError(
          "expand: can't expand shape \(describeShape(shape)) to \(describeShape(sizes)) (dimension \(d + 1): \(size) vs \(sizes[d]))"
        )
      }
    }
    return try window(op: "expand") { $0.expand(target) }
  }

  /// The order of the elements reversed along each of `dims` (a copy, as in PyTorch).
  public func flip(_ dims: [Int]) throws -> Tensor {
    let flipped = Set(try dims.map { try Shape.normalize(dim: $0, rank: rank, op: "flip") })
    return try window(op: "flip", copying: true) { layout in
      for d in flipped { layout.flip(d) }
    }
  }
}
