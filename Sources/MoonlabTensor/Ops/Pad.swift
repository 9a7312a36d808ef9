/// Padding, PyTorch's `torch.nn.functional.pad` (docs/tensor.md, "Padding").
extension Tensor {
  public enum PadMode: String, CaseIterable {
    /// Positions outside the input hold `value`.
    case constant
    /// The input mirrored about its edge, the edge itself not repeated (d c b | a b c d).
    case reflect
    /// The edge element repeated (a a a | a b c d).
    case replicate
  }

  /// Pads the last `pads.count / 2` dimensions: `pads` is (left, right) of the last
  /// dimension, then (top, bottom) of the one before, and so on, as PyTorch. A negative
  /// pad crops, in every mode (as PyTorch). Reflect pads must be smaller than the
  /// dimension; replicate pads need a non-empty one.
  ///
  /// Every output element reads one input element (or `value`), so the gradient adds each
  /// output gradient into the element it read: mirrored and repeated borders accumulate
  /// into the positions they copy.
  public func pad(_ pads: [Int], mode: PadMode = .constant, value: Float = 0) throws -> Tensor {
    let plan = try padPlan(pads, mode: mode)
    let outShape = plan.map(\.size)
    try Shape.validate(outShape, op: "pad")
    // Maps are built only for an output that exists, so their lengths are bounded by it.
    let empty = Shape.count(outShape) == 0
    let maps = plan.map { empty ? [] : Self.padMap($0.before, $0.size, $0.n, mode) }
    let out = Tensor(uninitialized: outShape)
    let (src, dst) = (data, out.data)
    Self.forEachPaddedRow(maps, shape) { o, s, last in
      guard let s else { return (dst + o).update(repeating: value, count: last.count) }
      for j in 0..<last.count { dst[o + j] = last[j] < 0 ? value : src[s + last[j]] }
    }
    let inShape = shape
    return Autograd.record("pad", output: out, inputs: [self]) { g in
      let gx = Tensor(zeros: inShape)
      let (gy, gs) = (g.data, gx.data)
      Self.forEachPaddedRow(maps, inShape) { o, s, last in
        guard let s else { return }
        for j in 0..<last.count where last[j] >= 0 { gs[s + last[j]] += gy[o + j] }
      }
      return [gx]
    }
  }

  /// Per dimension: its input size, the pad before it and the output size, checked.
  private func padPlan(_ pads: [Int], mode: PadMode) throws -> [(n: Int, before: Int, size: Int)] {
    guard pads.count % 2 == 0 else {
      throw TensorError("pad: pads must come in (before, after) pairs, got \(pads.count) numbers")
    }
    guard pads.count / 2 <= rank else {
      throw TensorError(
        "pad: \(pads.count) pads cover \(pads.count / 2) dimensions, but the input \(describeShape(shape)) has \(rank)"
      )
    }
    // The cap keeps the sizes below far from overflow; Shape.validate bounds the output.
    if let big = pads.first(where: { $0 > 1 << 40 || $0 < -(1 << 40) }) {
      throw TensorError("pad: pad \(big) is too large")
    }
    return try (0..<rank).map { d in
      let n = shape[d]
      let k = rank - 1 - d  // pads[2k], pads[2k+1] belong to dimension d
      guard 2 * k < pads.count else { return (n, 0, n) }
      let (before, after) = (pads[2 * k], pads[2 * k + 1])
      let size = n + before + after
      let which = "dimension \(d + 1) of size \(n) (pads \(before), \(after))"
      guard size >= 0 else {
        throw TensorError("pad: \(which) would have a negative size \(size)")
      }
      switch mode {
      case .constant: break
      case .reflect:
        guard before < n, after < n else {
          throw TensorError(
            "pad: reflect padding must be smaller than the dimension it pads: \(which)")
        }
      case .replicate:
        guard n > 0 || size == 0 else {
          throw TensorError("pad: replicate padding needs a non-empty dimension: \(which)")
        }
      }
      return (n, before, size)
    }
  }

  /// The input position each of a dimension's `size` output positions reads (−1: `value`).
  private static func padMap(_ before: Int, _ size: Int, _ n: Int, _ mode: PadMode) -> [Int] {
    (0..<size).map { o in
      let s = o - before
      if s >= 0 && s < n { return s }
      switch mode {
      case .constant: return -1
      case .replicate: return s < 0 ? 0 : n - 1
      // In range: s > −n on the left, and s ≤ n − 1 + after ≤ 2(n − 1) on the right.
      case .reflect: return s < 0 ? -s : 2 * (n - 1) - s
      }
    }
  }

  /// Calls `body(o, s, last)` for each output row (all dimensions but the last): `o` is the
  /// row's first output offset, `s` the offset of the input row it reads (nil when an outer
  /// dimension is padding, so the whole row is `value`), `last` the last dimension's map.
  /// `inShape` is the (row-major) input's shape.
  private static func forEachPaddedRow(
    _ maps: [[Int]], _ inShape: [Int], _ body: (Int, Int?, [Int]) -> Void
  ) {
    guard let last = maps.last else { return body(0, 0, [0]) }  // a scalar: one element
    let outer = maps.count - 1
    guard !maps.contains(where: \.isEmpty) else { return }
    let strides = Shape.strides(inShape)
    var index = [Int](repeating: 0, count: outer)
    var o = 0
    while true {
      var s = 0
      var inside = true
      for d in 0..<outer {
        let p = maps[d][index[d]]
        if p < 0 { inside = false }
        s += p * strides[d]
      }
      body(o, inside ? s : nil, last)
      o += last.count
      var d = outer - 1
      while d >= 0 {
        index[d] += 1
        if index[d] < maps[d].count { break }
        index[d] = 0
        d -= 1
      }
      if d < 0 { return }
    }
  }
}
