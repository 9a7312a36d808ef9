/// Slicing and axis reordering through a `StridedLayout`. Tensors stay contiguous
/// row-major, so a result that is one block of the input (`select`/`narrow` along the
/// first dimension, a range of whole rows) is a view sharing its storage, and any other
/// result is a copy (docs/tensor.md, "Indexing, views and copies"). Either way the gradient is
/// the output's gradient added back through the same window.
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

  /// The elements `layout` picks out of this tensor: a view when they form a block,
  /// else a copy.
  public func window(_ layout: StridedLayout, op: String) throws -> Tensor {
    let out: Tensor
    if layout.isContiguous {
      out = Tensor(
        shape: layout.shape, storage: storage, offset: offset + layout.offset, isView: true)
    } else {
      try Shape.validate(layout.shape, op: op)
      out = Tensor(uninitialized: layout.shape)
      layout.gather(data, into: out.data)
    }
    return Autograd.record(op, output: out, inputs: [self]) { [shape] g in
      let gi = Tensor(zeros: shape)
      layout.accumulate(g.data, into: gi.data)
      return [gi]
    }
  }

  /// The window of `items` (fewer items than dimensions leave the rest whole).
  public func layout(of items: [Index], op: String) throws -> StridedLayout {
    guard items.count <= rank else {
      throw TensorError(
        "\(op): \(items.count) indices for a tensor of shape \(describeShape(shape))")
    }
    var layout = StridedLayout(shape)
    var d = 0  // dimension of `layout` the next item applies to
    for (k, item) in items.enumerated() {
      let size = shape[k]
      switch item {
      case .at(let i):
        guard i >= 0, i < size else {
          throw TensorError(
            "\(op): index \(i) out of range for dimension \(k + 1) of size \(size) (shape \(describeShape(shape)))"
          )
        }
        layout.select(d, i)
      case .range(let r):
        guard r.lowerBound >= 0, r.upperBound <= size else {
          throw TensorError(
            "\(op): range \(r.lowerBound)..<\(r.upperBound) out of range for dimension \(k + 1) of size \(size) (shape \(describeShape(shape)))"
          )
        }
        layout.narrow(d, r.lowerBound, r.count)
        d += 1
      case .all:
        d += 1
      }
    }
    return layout
  }

  /// Indexing by positions and ranges, one per leading dimension.
  public func index(_ items: [Index]) throws -> Tensor {
    try window(try layout(of: items, op: "index"), op: "index")
  }

  /// `length` positions of dimension `dim` from `start`.
  public func narrow(dim: Int, start: Int, length: Int) throws -> Tensor {
    let d = try Shape.normalize(dim: dim, rank: rank, op: "narrow")
    guard start >= 0, length >= 0, start + length <= shape[d] else {
      throw TensorError(
        "narrow: start \(start) and length \(length) out of range for dimension \(d + 1) of size \(shape[d])"
      )
    }
    var layout = StridedLayout(shape)
    layout.narrow(d, start, length)
    return try window(layout, op: "narrow")
  }

  /// Position `index` of dimension `dim`, which is dropped.
  public func select(dim: Int, index: Int) throws -> Tensor {
    let d = try Shape.normalize(dim: dim, rank: rank, op: "select")
    guard index >= 0, index < shape[d] else {
      throw TensorError(
        "select: index \(index) out of range for dimension \(d + 1) of size \(shape[d])")
    }
    var layout = StridedLayout(shape)
    layout.select(d, index)
    return try window(layout, op: "select")
  }

  /// Dimensions `dim0` and `dim1` swapped.
  public func transpose(_ dim0: Int, _ dim1: Int) throws -> Tensor {
    let a = try Shape.normalize(dim: dim0, rank: rank, op: "transpose")
    let b = try Shape.normalize(dim: dim1, rank: rank, op: "transpose")
    var layout = StridedLayout(shape)
    layout.shape.swapAt(a, b)
    layout.strides.swapAt(a, b)
    return try window(layout, op: "transpose")
  }

  /// Dimensions reordered: output dimension i is input dimension `dims[i]`.
  public func permute(_ dims: [Int]) throws -> Tensor {
    let order = try dims.map { try Shape.normalize(dim: $0, rank: rank, op: "permute") }
    guard order.count == rank, Set(order).count == rank else {
      throw TensorError(
        "permute: \(dims) is not a permutation of the \(rank) dimensions of shape \(describeShape(shape))"
      )
    }
    let full = StridedLayout(shape)
    var layout = full
    layout.shape = order.map { full.shape[$0] }
    layout.strides = order.map { full.strides[$0] }
    return try window(layout, op: "permute")
  }

  /// Sizes-1 dimensions repeated to `sizes` (-1 keeps a size; new leading dimensions may
  /// be added), as PyTorch's expand; the result is a copy here.
  public func expand(_ sizes: [Int]) throws -> Tensor {
    let lead = sizes.count - rank
    guard lead >= 0 else {
      throw TensorError(
        "expand: \(describeShape(sizes)) has fewer dimensions than shape \(describeShape(shape))")
    }
    let own = Shape.strides(shape)
    var layout = StridedLayout(sizes)
    for d in 0..<sizes.count {
      let size = d < lead ? 1 : shape[d - lead]
      let target = sizes[d] == -1 && d >= lead ? size : sizes[d]
      guard target >= 0, target == size || size == 1 else {
        throw TensorError(
          "expand: can't expand shape \(describeShape(shape)) to \(describeShape(sizes)) (dimension \(d + 1): \(size) vs \(sizes[d]))"
        )
      }
      layout.shape[d] = target
      layout.strides[d] = size == 1 ? 0 : own[d - lead]
    }
    return try window(layout, op: "expand")
  }

  /// The order of the elements reversed along each of `dims`.
  public func flip(_ dims: [Int]) throws -> Tensor {
    var layout = StridedLayout(shape)
    for dim in Set(try dims.map { try Shape.normalize(dim: $0, rank: rank, op: "flip") }) {
      layout.offset += Swift.max(shape[dim] - 1, 0) * layout.strides[dim]
      layout.strides[dim] = -layout.strides[dim]
    }
    return try window(layout, op: "flip")
  }
}
