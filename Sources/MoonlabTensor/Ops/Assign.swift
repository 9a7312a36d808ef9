/// In-place assignment into a window of a tensor (`t[{{}, 1}] = 0`, `t[mask] = v`).
/// Autograd follows PyTorch where it is cheap to: a leaf that requires grad can't be
/// changed in place while recording; a non-view tensor written to gets a new node, so
/// gradients flow to the assigned value and not through the overwritten elements; and the
/// storage's version counter catches a write into a tensor some op saved. Writing a
/// value that needs gradients into a view is refused instead: the base tensor's history
/// would have to change too (docs/tensor.md, "Indexing, views and copies").
extension Tensor {
  /// Writes `value` (broadcast to the window's shape) into `items` of this tensor.
  public func assign(_ value: Tensor, at items: [Index]) throws {
    let layout = try layout(of: items, op: "index assignment")
    try assign(value, into: layout)
  }

  /// Writes `value` into the elements where `mask` (same shape, 0 or 1) is 1: a number
  /// (one element) or one value per selected element.
  public func assign(_ value: Tensor, where mask: Tensor) throws {
    let picked = try maskedPositions(mask, op: "masked assignment")
    guard value.count == 1 || value.count == picked.count else {
      throw TensorError(
        "masked assignment: \(value.count) values for \(picked.count) selected elements")
    }
    try recordAssignment(value, op: "masked assignment") { source in
      let v = source.data
      for (k, i) in picked.enumerated() { data[i] = v[source.count == 1 ? 0 : k] }
    } backward: { [shape = value.shape] g in
      let keep = g.clone()
      let gv = Tensor(zeros: [picked.count])
      for (k, i) in picked.enumerated() {
        gv.data[k] = g.data[i]
        keep.data[i] = 0
      }
      return [keep, try (Shape.count(shape) == 1 ? gv.sum() : gv).reshape(shape)]
    }
  }

  func assign(_ value: Tensor, into layout: StridedLayout) throws {
    guard (try? Shape.broadcast(layout.shape, value.shape, op: "")) == layout.shape else {
      throw TensorError(
        "index assignment: value of shape \(describeShape(value.shape)) doesn't fit the selection of shape \(describeShape(layout.shape))"
      )
    }
    try recordAssignment(value, op: "index assignment") { source in
      layout.assign(source, into: data)
    } backward: { [shape = value.shape] g in
      let keep = g.clone()
      layout.assign(Tensor(scalar: 0), into: keep.data)
      let picked = Tensor(uninitialized: layout.shape)
      layout.gather(g.data, into: picked.data)
      return [keep, BroadcastKernel.sum(picked, to: shape)]
    }
  }

  /// Checks the autograd rules, writes (`write` gets `value`, or a copy of it if it
  /// overlaps this tensor), bumps the version counter and, when gradients are
  /// being recorded, makes this tensor the output of a node over its old self and `value`.
  func recordAssignment(
    _ value: Tensor, op: String, write: (Tensor) -> Void,
    backward: @escaping (Tensor) throws -> [Tensor?]
  ) throws {
    try checkWritable(op: op)
    let recording = Autograd.isEnabled && (requiresGrad || value.requiresGrad)
    if recording && isLeaf && requiresGrad {
      throw TensorError(
        "\(op): a leaf tensor that requires grad can't be changed in place; do it inside tensor.no_grad or on a clone()"
      )
    }
    if recording && isView {
      throw TensorError(
        "\(op): can't assign into a view while recording gradients (the tensor it views would not know); assign into a clone(), or inside tensor.no_grad"
      )
    }
    // A value overlapping this tensor would be read while it is overwritten.
    let source = value.storage === storage ? value.clone() : value
    write(source)
    markWritten()
    guard recording else { return }
    let before = detach()
    before.node = node
    // The backward reads neither input, so later writes into them don't matter.
    node = Node(name: op, inputs: [before, source], tracksVersions: false, backward: backward)
  }
}
