/// A contiguous, row-major float32 tensor (NCHW for images), starting `offset` elements
/// into its storage: a contiguous block of another tensor (`t[i]`, `narrow` along the
/// first dimension, `reshape`) is a view sharing that storage (docs/tensor.md, "Indexing,
/// views and copies").
///
/// A final class: identity matters for autograd (the tape refers to tensors) and for Lua
/// userdata. Tensors made by ops on inputs that require gradients carry the `node` that
/// made them; `backward()` walks those nodes (see Autograd/Backward.swift).
public final class Tensor {
  public let storage: TensorStorage
  public let shape: [Int]
  public let count: Int
  /// Where element 0 lives in `storage`.
  public let offset: Int
  /// Whether the tensor shares another tensor's elements (made by a view op), so an
  /// in-place change would also change that tensor.
  public let isView: Bool
  /// The op that produced this tensor, nil for leaves and for tensors made without grad.
  public internal(set) var node: Node?
  /// Accumulated gradient (leaves only), same shape as the tensor.
  public var grad: Tensor?
  private var leafRequiresGrad = false

  /// Wraps existing storage; `storage.count` must be ≥ `offset` + the shape's element count.
  public init(shape: [Int], storage: TensorStorage, offset: Int = 0, isView: Bool = false) {
    self.shape = shape
    self.count = Shape.count(shape)
    self.storage = storage
    self.offset = offset
    self.isView = isView
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

  public var data: UnsafeMutablePointer<Float> { storage.pointer + offset }
  public var rank: Int { shape.count }
  public var isLeaf: Bool { node == nil }

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
    Tensor(shape: shape, storage: storage, offset: offset, isView: isView)
  }

  /// A copy with its own storage (differentiable).
  public func clone() -> Tensor {
    let out = Tensor(zeros: shape)
    out.data.update(from: data, count: count)
    return Autograd.record("clone", output: out, inputs: [self]) { g in [g] }
  }

  /// Clears the accumulated gradient.
  public func zeroGrad() { grad = nil }
}
