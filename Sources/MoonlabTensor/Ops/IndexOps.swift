/// Ops driven by index and mask tensors: index_select, gather and its adjoint scatter_add,
/// masked reads, masked_fill and where. Indices are float tensors holding whole numbers
/// (0-based here; the Lua bridge converts from 1-based), checked before any is used.
extension Tensor {
  /// Throws unless every element of `index` is a whole number in 0..<bound. `base` is
  /// added to the numbers in the message (1 for Lua's 1-based positions).
  public static func checkIndices(_ index: Tensor, below bound: Int, op: String, base: Int = 0)
    throws
  {
    for i in 0..<index.count {
      let v = index.data[i]
      guard v >= 0, v < Float(bound), v.rounded() == v else {
        let shown =
          v.rounded() == v && Swift.abs(v) < 1e9 ? "\(Int(v) + base)" : "\(v + Float(base))"
        throw TensorError(
          "\(op): index \(shown) at position \(i + 1) is out of range \(base)..\(bound - 1 + base)"
        )
      }
    }
  }

  /// The positions where `mask` (of this tensor's shape) is nonzero, in order.
  func maskedPositions(_ mask: Tensor, op: String) throws -> [Int] {
    guard mask.shape == shape else {
      throw TensorError(
        "\(op): mask of shape \(describeShape(mask.shape)) doesn't match tensor of shape \(describeShape(shape))"
      )
    }
    return (0..<count).filter { mask.data[$0] != 0 }
  }

  /// The elements where `mask` is nonzero, as a 1-D tensor (a copy).
  public func masked(_ mask: Tensor) throws -> Tensor {
    let picked = try maskedPositions(mask, op: "masked select")
    let out = Tensor(uninitialized: [picked.count])
    for (k, i) in picked.enumerated() { out.data[k] = data[i] }
    return Autograd.record("masked select", output: out, inputs: [self]) { [shape] g in
      let gi = Tensor(zeros: shape)
      for (k, i) in picked.enumerated() { gi.data[i] = g.data[k] }
      return [gi]
    }
  }

  /// `value` where `mask` (broadcast to this shape) is nonzero, this tensor elsewhere.
  public func maskedFill(_ mask: Tensor, _ value: Float) throws -> Tensor {
    try Tensor.where(mask, Tensor(scalar: value), self, op: "masked_fill", shape: shape)
  }

  /// `a` where `condition` is nonzero, `b` elsewhere, all three broadcast together.
  public static func `where`(_ condition: Tensor, _ a: Tensor, _ b: Tensor) throws -> Tensor {
    let ab = try Shape.broadcast(a.shape, b.shape, op: "where")
    let shape = try Shape.broadcast(condition.shape, ab, op: "where")
    return try Tensor.where(condition, a, b, op: "where", shape: shape)
  }

  private static func `where`(
    _ condition: Tensor, _ a: Tensor, _ b: Tensor, op: String, shape: [Int]
  ) throws -> Tensor {
    guard try Shape.broadcast(condition.shape, shape, op: op) == shape else {
      throw TensorError(
        "\(op): mask of shape \(describeShape(condition.shape)) doesn't broadcast to \(describeShape(shape))"
      )
    }
    try Shape.validate(shape, op: op)
    let (c, x, y) = try Autograd.noGrad {
      (try condition.expand(shape), try a.expand(shape), try b.expand(shape))
    }
    // The condition as 0/1: the forward picks with it and the backward splits with it.
    let pick = Tensor(uninitialized: shape)
    let out = Tensor(uninitialized: shape)
    for i in 0..<out.count {
      let takeA = c.data[i] != 0
      pick.data[i] = takeA ? 1 : 0
      out.data[i] = takeA ? x.data[i] : y.data[i]
    }
    return Autograd.record(op, output: out, inputs: [a, b]) { [sa = a.shape, sb = b.shape] g in
      let ga = try g.mul(pick)
      return [BroadcastKernel.sum(ga, to: sa), BroadcastKernel.sum(try g.sub(ga), to: sb)]
    }
  }
}
