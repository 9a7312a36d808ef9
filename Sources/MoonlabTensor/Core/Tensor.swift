/// A float32 tensor (NCHW for images): `shape` over `storage`, element 0 at `offset`,
/// laid out by `strides`. Most tensors are contiguous row-major; `transpose`, `permute`,
/// `expand` and inner-dimension slices are strided views sharing their input's storage
/// (docs/tensor.md, "Indexing, views and copies").
///
/// Kernels read and write `data` as a plain row-major array whatever the layout: a
/// strided view hands out a private row-major copy (`DenseCopy`), refreshed when the
/// storage's version moves, and `markWritten()` copies in-place writes back into the
/// storage. So every kernel works on views unchanged, and what they pay is one gather per
/// read after a write — what PyTorch's `contiguous()` at most kernel entries costs too.
///
/// A final class: identity matters for autograd (the tape refers to tensors) and for Lua
/// userdata. Tensors made by ops on inputs that require gradients carry the `node` that
/// made them; `backward()` walks those nodes (see Autograd/Backward.swift).
public final class Tensor {
  /// A var only so that backward can ask whether it is uniquely referenced; never reassigned.
  public internal(set) var storage: TensorStorage
  public let shape: [Int]
  public let count: Int
  /// Where element 0 lives in `storage`.
  public let offset: Int
  /// Storage elements between neighbours along each dimension (0 along an expanded one).
  /// Worked out when asked for a contiguous tensor, whose creation then makes no array.
  public var strides: [Int] { viewStrides ?? Shape.strides(shape) }
  private let viewStrides: [Int]?
  /// Whether the tensor shares another tensor's elements (made by a view op), so an
  /// in-place change would also change that tensor.
  public let isView: Bool
  /// The row-major copy kernels read of a strided view; nil when contiguous.
  private let dense: DenseCopy?
  /// The op that produced this tensor, nil for leaves and for tensors made without grad.
  public internal(set) var node: Node?
  /// Accumulated gradient (leaves only), same shape as the tensor.
  public var grad: Tensor?
  private var leafRequiresGrad = false

  /// Wraps existing storage as a contiguous tensor; `storage.count` must be ≥ `offset` +
  /// the shape's element count.
  public init(shape: [Int], storage: TensorStorage, offset: Int = 0, isView: Bool = false) {
    self.shape = shape
    self.count = Shape.count(shape)
    self.storage = storage
    self.offset = offset
    self.viewStrides = nil
    self.isView = isView
    self.dense = nil
  }

  /// A strided view of `storage` (already validated: `layout` stays inside it and its
  /// shape passed `Shape.validate`, since the row-major copy is allocated here).
  init(view layout: StridedLayout, of storage: TensorStorage, sharing dense: DenseCopy? = nil) {
    shape = layout.shape
    count = layout.count
    self.storage = storage
    offset = layout.offset
    viewStrides = layout.strides
    isView = true
    self.dense = dense ?? DenseCopy(layout)
  }

  /// A zero-filled tensor. The shape must be valid (see `Tensor.zeros` for checked creation).
  public convenience init(zeros shape: [Int]) {
    self.init(shape: shape, storage: TensorStorage(count: Shape.count(shape)))
  }

  /// A tensor holding `values` (row-major).
  public convenience init(shape: [Int], values: [Float]) throws {
    try Shape.validate(shape, op: "tensor")
    guard Shape.count(shape) == values.count else {
      throw TensorError("tensor: \(values.count) values don't fill shape \(describeShape(shape))")
    }
    self.init(zeros: shape)
    values.withUnsafeBufferPointer { src in
      if let base = src.baseAddress { data.update(from: base, count: values.count) }
    }
  }

  /// A one-element tensor of shape [] (a scalar).
  public convenience init(scalar: Float) {
    self.init(zeros: [])
    data[0] = scalar
  }

  /// The elements, row-major: the storage itself when contiguous, else the view's
  /// up-to-date private copy (writes to it need `markWritten()`).
  public var data: UnsafeMutablePointer<Float> {
    guard let dense else { return storage.pointer + offset }
    return dense.read(storage)
  }
  public var rank: Int { shape.count }
  public var isLeaf: Bool { node == nil }
  /// Whether `data` is the storage itself (row-major, no gaps).
  public var isContiguous: Bool { dense == nil }
  /// Where the tensor's storage layout is: shape, strides and offset into `storage`.
  public var memoryLayout: StridedLayout {
    StridedLayout(shape: shape, strides: strides, offset: offset)
  }

  /// Whether gradients flow to this tensor: a leaf marked so, or the result of an op
  /// on such tensors while grad mode was on.
  public var requiresGrad: Bool {
    get { leafRequiresGrad || node != nil }
    set { leafRequiresGrad = newValue }
  }

  public func toArray() -> [Float] { Array(UnsafeBufferPointer(start: data, count: count)) }

  /// The single value of a one-element tensor.
  public func item() throws -> Float {
    guard count == 1 else {
      throw TensorError(
        "item: tensor of shape \(describeShape(shape)) has \(count) elements, expected 1")
    }
    return data[0]
  }

  /// A tensor sharing this storage, cut off from the graph.
  public func detach() -> Tensor {
    guard let dense else {
      return Tensor(shape: shape, storage: storage, offset: offset, isView: isView)
    }
    return Tensor(view: memoryLayout, of: storage, sharing: dense)
  }

  /// A copy with its own storage (differentiable).
  public func clone() -> Tensor {
    let out = Tensor(zeros: shape)
    out.data.update(from: data, count: count)
    return Autograd.record("clone", output: out, inputs: [self]) { g in [g] }
  }

  /// Call after changing elements in place through `data`: a strided view copies them
  /// back into the storage it shares, and the version counter moves (so other views
  /// refresh and saved tensors are known to have changed).
  public func markWritten() {
    dense?.writeBack(into: storage)
    storage.markModified()
    dense?.caughtUp(with: storage)
  }

  /// Throws unless the tensor can be written in place: an expanded view (PyTorch's
  /// "more than one element of the written-to tensor refers to a single memory
  /// location") can't, since one storage element would take several values.
  public func checkWritable(op: String) throws {
    guard dense?.overlaps == true else { return }
    throw TensorError(
      "\(op): can't write into an expanded tensor (several of its elements are one element of the tensor it expands); write into a clone() or contiguous() copy"
    )
  }

  /// Clears the accumulated gradient.
  public func zeroGrad() { grad = nil }
}
