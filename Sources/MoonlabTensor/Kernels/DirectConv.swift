/// Stride-1, unpadded convolution computed from the image itself: no im2col copy, no GEMM.
///
/// With few output channels (LeNet's first layer: 6) each im2col element feeds only Cout
/// multiply-adds, so a GEMM spends more time copying (our im2col, then OpenBLAS's packing)
/// than multiplying: 21 GFLOP/s on 2 cores for that layer. Here a tile of 8 output pixels
/// × `block` output channels stays in registers while the C·k·k taps stream from the
/// image, which is small enough to stay in L1.
///
/// Output rows are covered by 8-wide tiles; when the width is not a multiple of 8 the last
/// tile overlaps its neighbour. Forward recomputes the overlap with the same summation
/// order (the same bits); the weight gradient masks the overlapped lanes out.
public enum DirectConv {
  /// Output channels per register block: 6 accumulators of 8 floats.
  public static let block = 6
  static let lanes = 8

  /// Whether this kernel is the faster way: stride 1, no padding, rows ≥ 8 wide, and at
  /// most one register block of output channels. With more channels each lowered element
  /// feeds enough multiply-adds for OpenBLAS's packing to pay off (LeNet's second layer,
  /// 6 → 16 channels: the GEMM path is faster, forward and backward).
  public static func applies(_ g: ConvGeometry, outChannels: Int) -> Bool {
    g.stride == 1 && g.padding == 0 && g.outWidth >= lanes && outChannels <= block
  }

  /// Floats `packWeights` writes.
  public static func packedCount(patch: Int) -> Int { patch * block }

  /// weight [Cout, patch] → [patch][block], so a tap's weights are adjacent (channels
  /// past Cout are zero).
  public static func packWeights(
    _ weight: UnsafePointer<Float>, outChannels: Int, patch: Int,
    into packed: UnsafeMutablePointer<Float>
  ) {
    packed.update(repeating: 0, count: packedCount(patch: patch))
    for o in 0..<outChannels {
      for r in 0..<patch { packed[r * block + o] = weight[o * patch + r] }
    }
  }

  /// out[o, y, x] = bias[o] + Σ_{c,ki,kj} w[o, c, ki, kj] · image[c, y + ki, x + kj] for one
  /// image; `packed` comes from `packWeights`.
  public static func forward(
    _ g: ConvGeometry, outChannels: Int, image: UnsafePointer<Float>,
    packed: UnsafePointer<Float>, bias: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>
  ) {
    let (k, width, plane, count) = (g.kernel, g.width, g.outPlane, outChannels)
    func initial(_ o: Int) -> SIMD8<Float> { SIMD8(repeating: o < count ? bias?[o] ?? 0 : 0) }
    let (b0, b1, b2, b3, b4, b5) = (initial(0), initial(1), initial(2), initial(3), initial(4), initial(5))
    let starts = tileStarts(g.outWidth)
    for y in 0..<g.outHeight {
      for x in starts {
        var (a0, a1, a2, a3, a4, a5) = (b0, b1, b2, b3, b4, b5)
        var w = packed
        for c in 0..<g.channels {
          for ki in 0..<k {
            let row = image + c * g.inPlane + (y + ki) * width + x
            for kj in 0..<k {
              let v = load(row + kj)
              a0 = mulAdd(v, w[0], a0)
              a1 = mulAdd(v, w[1], a1)
              a2 = mulAdd(v, w[2], a2)
              a3 = mulAdd(v, w[3], a3)
              a4 = mulAdd(v, w[4], a4)
              a5 = mulAdd(v, w[5], a5)
              w += block
            }
          }
        }
        let out = output + y * g.outWidth + x
        store(a0, out)
        if count > 1 { store(a1, out + plane) }
        if count > 2 { store(a2, out + 2 * plane) }
        if count > 3 { store(a3, out + 3 * plane) }
        if count > 4 { store(a4, out + 4 * plane) }
        if count > 5 { store(a5, out + 5 * plane) }
      }
    }
  }

  /// partial[o, r] += Σ_{y,x} gradOutput[o, y, x] · image[c, y + ki, x + kj] for one image,
  /// r = (c, ki, kj): the weight gradient, laid out like the weight.
  public static func weightGradient(
    _ g: ConvGeometry, outChannels: Int, image: UnsafePointer<Float>,
    gradOutput: UnsafePointer<Float>, partial: UnsafeMutablePointer<Float>
  ) {
    let (k, width, plane, patch, count) = (
      g.kernel, g.width, g.outPlane, g.patchSize, outChannels
    )
    let starts = tileStarts(g.outWidth)
    // The last tile re-reads lanes an earlier tile already counted: weigh them by 0.
    let overlap = starts.count * lanes - g.outWidth
    let lastMask = SIMD8<Float>((0..<lanes).map { $0 < overlap ? 0 : 1 })
    // Channels past Cout read channel 0 again; their sums are never stored.
    func row(_ o: Int) -> UnsafePointer<Float> { gradOutput + (o < count ? o : 0) * plane }
    let (g0, g1, g2, g3, g4, g5) = (row(0), row(1), row(2), row(3), row(4), row(5))
    for c in 0..<g.channels {
      for ki in 0..<k {
        for kj in 0..<k {
          var (a0, a1, a2, a3, a4, a5) = (
            SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>(),
            SIMD8<Float>()
          )
          let tap = image + c * g.inPlane + ki * width + kj
          for y in 0..<g.outHeight {
            for (t, x) in starts.enumerated() {
              let v = t == starts.count - 1 ? load(tap + y * width + x) * lastMask : load(tap + y * width + x)
              let p = y * g.outWidth + x
              a0 = mulAdd(v, load(g0 + p), a0)
              a1 = mulAdd(v, load(g1 + p), a1)
              a2 = mulAdd(v, load(g2 + p), a2)
              a3 = mulAdd(v, load(g3 + p), a3)
              a4 = mulAdd(v, load(g4 + p), a4)
              a5 = mulAdd(v, load(g5 + p), a5)
            }
          }
          let dw = partial + (c * k + ki) * k + kj
          dw[0] += a0.sum()
          if count > 1 { dw[patch] += a1.sum() }
          if count > 2 { dw[2 * patch] += a2.sum() }
          if count > 3 { dw[3 * patch] += a3.sum() }
          if count > 4 { dw[4 * patch] += a4.sum() }
          if count > 5 { dw[5 * patch] += a5.sum() }
        }
      }
    }
  }

  /// Starts of the 8-wide tiles covering 0..<width (width ≥ 8): 0, 8, … and, when 8 does
  /// not divide the width, a last tile ending at the row's end.
  static func tileStarts(_ width: Int) -> [Int] {
    var starts = Array(stride(from: 0, through: width - lanes, by: lanes))
    if width % lanes != 0 { starts.append(width - lanes) }
    return starts
  }

  /// a·b + c: one fused instruction where the build targets FMA (Package.swift), else a
  /// multiply and an add (Float.addingProduct would become a libm call per lane there).
  @inline(__always)
  static func mulAdd(_ a: SIMD8<Float>, _ b: Float, _ c: SIMD8<Float>) -> SIMD8<Float> {
    mulAdd(a, SIMD8(repeating: b), c)
  }

  @inline(__always)
  static func mulAdd(_ a: SIMD8<Float>, _ b: SIMD8<Float>, _ c: SIMD8<Float>) -> SIMD8<Float> {
    #if MOONLAB_FMA
      c.addingProduct(a, b)
    #else
      c + a * b
    #endif
  }

  @inline(__always)
  static func load(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
  }

  @inline(__always)
  static func store(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Float>.self)
  }
}
