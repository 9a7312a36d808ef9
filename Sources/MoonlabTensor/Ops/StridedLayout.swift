/// A strided window on elements: sizes, element strides (0 along an expanded dimension,
/// negative along a flipped one) and the offset of its first element. Relative to a
/// tensor's row-major `data` it says what a slicing or view op (`narrow`, `select`,
/// `index`, `transpose`, `permute`, `expand`, `flip`) picks; relative to a storage it is
/// a tensor's `memoryLayout` (docs/tensor.md, "Indexing, views and copies"). Walking a
/// window is one loop nest for reading it (`gather`), writing into it (`assign`,
/// `scatter`) and adding a gradient back through it (`accumulate`).
public struct StridedLayout {
  public var shape: [Int]
  public var strides: [Int]
  public var offset: Int

  /// The whole of a contiguous tensor of `shape`.
  public init(_ shape: [Int]) {
    self.shape = shape
    strides = Shape.strides(shape)
    offset = 0
  }

  public init(shape: [Int], strides: [Int], offset: Int) {
    self.shape = shape
    self.strides = strides
    self.offset = offset
  }

  public var count: Int { Shape.count(shape) }

  /// Whether the window is one row-major block (sizes 1 don't matter).
  public var isContiguous: Bool {
    var expected = 1
    for d in stride(from: shape.count - 1, through: 0, by: -1) where shape[d] != 1 {
      if strides[d] != expected { return false }
      expected *= shape[d]
    }
    return true
  }

  /// `length` positions from `start` along `dim` (0-based, already checked).
  mutating func narrow(_ dim: Int, _ start: Int, _ length: Int) {
    offset += start * strides[dim]
    shape[dim] = length
  }

  /// Position `index` along `dim`, dropping that dimension (already checked).
  mutating func select(_ dim: Int, _ index: Int) {
    offset += index * strides[dim]
    shape.remove(at: dim)
    strides.remove(at: dim)
  }

  /// Positions and ranges, one per leading dimension (already checked).
  mutating func index(_ items: [Tensor.Index]) {
    var d = 0  // the dimension the next item applies to
    for item in items {
      switch item {
      case .at(let i): select(d, i)
      case .range(let r):
        narrow(d, r.lowerBound, r.count)
        d += 1
      case .all: d += 1
      }
    }
  }

  /// Dimensions `a` and `b` swapped.
  mutating func swap(_ a: Int, _ b: Int) {
    shape.swapAt(a, b)
    strides.swapAt(a, b)
  }

  /// Dimension i becomes dimension `order[i]` (a permutation, already checked).
  mutating func permute(_ order: [Int]) {
    (shape, strides) = (order.map { shape[$0] }, order.map { strides[$0] })
  }

  /// Repeated to `sizes` (already checked against the shape): new leading dimensions and
  /// size-1 dimensions that grow get stride 0.
  mutating func expand(_ sizes: [Int]) {
    let lead = sizes.count - shape.count
    strides = sizes.indices.map { d in
      d < lead || shape[d - lead] != sizes[d] ? 0 : strides[d - lead]
    }
    shape = sizes
  }

  /// The order along `dim` reversed.
  mutating func flip(_ dim: Int) {
    offset += Swift.max(shape[dim] - 1, 0) * strides[dim]
    strides[dim] = -strides[dim]
  }

  /// Calls `body(a, b, n, sa, sb)` for each run along the last dimension of `shape`: the
  /// offsets of its first element under strides `sa` and `sb`, its length `n`, and the two
  /// innermost strides. The last dimension runs inside `body`, so the loops there are plain
  /// pointer loops; the rest advance like an odometer.
  static func forEachRow(
    _ shape: [Int], _ sa: [Int], _ sb: [Int], _ body: (Int, Int, Int, Int, Int) -> Void
  ) {
    guard Shape.count(shape) > 0 else { return }
    let rank = shape.count
    guard rank > 0 else { return body(0, 0, 1, 0, 0) }
    let inner = shape[rank - 1]
    var index = [Int](repeating: 0, count: rank)
    var a = 0
    var b = 0
    while true {
      body(a, b, inner, sa[rank - 1], sb[rank - 1])
      var d = rank - 2
      while d >= 0 {
        index[d] += 1
        a += sa[d]
        b += sb[d]
        if index[d] < shape[d] { break }
        a -= sa[d] * shape[d]
        b -= sb[d] * shape[d]
        index[d] = 0
        d -= 1
      }
      if d < 0 { return }
    }
  }

  /// The window's elements of `source`, row-major, into `out` (of `count` elements).
  func gather(_ source: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>) {
    let src = source + offset
    StridedLayout.forEachRow(shape, strides, Shape.strides(shape)) { a, o, n, sa, _ in
      for j in 0..<n { out[o + j] = src[a + j * sa] }
    }
  }

  /// Writes `values` (row-major, `count` of them) into the window of `target`.
  func scatter(_ values: UnsafePointer<Float>, into target: UnsafeMutablePointer<Float>) {
    let dst = target + offset
    StridedLayout.forEachRow(shape, strides, Shape.strides(shape)) { a, o, n, sa, _ in
      for j in 0..<n { dst[a + j * sa] = values[o + j] }
    }
  }

  /// Adds `g` (row-major, of the window's shape) into the window of `target`: the
  /// gradient of reading the window. Elements an expanded window reads twice get both.
  func accumulate(_ g: UnsafePointer<Float>, into target: UnsafeMutablePointer<Float>) {
    let dst = target + offset
    StridedLayout.forEachRow(shape, strides, Shape.strides(shape)) { a, o, n, sa, _ in
      for j in 0..<n { dst[a + j * sa] += g[o + j] }
    }
  }

  /// Writes `value`, broadcast to the window's shape, into the window of `target`.
  func assign(_ value: Tensor, into target: UnsafeMutablePointer<Float>) {
    let dst = target + offset
    let src = value.data
    let vs = Shape.broadcastStrides(value.shape, to: shape)
    StridedLayout.forEachRow(shape, strides, vs) { a, b, n, sa, sb in
      for j in 0..<n { dst[a + j * sa] = src[b + j * sb] }
    }
  }
}
