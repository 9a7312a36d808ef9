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
    enabled && g.isSquare && g.stride == 1 && g.padding == 0 && g.outWidth >= lanes
      && outChannels <= block
  }

  /// The kernels keep 12 eight-float accumulators in registers: they pay off in the AVX2/FMA
  /// build (16 eight-wide registers, fused multiply-adds). Built for baseline x86-64 they
  /// spill and the GEMM path wins (LeNet's second layer backward: 13 ms vs 5–7 ms), so the
  /// portable build doesn't use them.
  #if MOONLAB_FMA
    public static let enabled = true
  #else
    public static let enabled = false
  #endif

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
    let (b0, b1, b2, b3, b4, b5) = (
      initial(0), initial(1), initial(2), initial(3), initial(4), initial(5)
    )
    // Two output rows at a time: 12 independent accumulators hide the multiply-add
    // latency (6 could not: 1.3× slower). An odd last row is computed twice, identically.
    for y0 in stride(from: 0, to: g.outHeight, by: 2) {
      let y1 = min(y0 + 1, g.outHeight - 1)
      for tile in Swift.stride(from: 0, to: g.outWidth, by: lanes) {
        let x = min(tile, g.outWidth - lanes)  // the last tile may overlap its neighbour
        var (a0, a1, a2, a3, a4, a5) = (b0, b1, b2, b3, b4, b5)
        var (c0, c1, c2, c3, c4, c5) = (b0, b1, b2, b3, b4, b5)
        var w = packed
        for c in 0..<g.channels {
          for ki in 0..<k {
            let row0 = image + c * g.inPlane + (y0 + ki) * width + x
            let row1 = row0 + (y1 - y0) * width
            for kj in 0..<k {
              let (u, v) = (Vector8.load(row0 + kj), Vector8.load(row1 + kj))
              accumulate(u, v, SIMD8(repeating: w[0]), &a0, &c0)
              accumulate(u, v, SIMD8(repeating: w[1]), &a1, &c1)
              accumulate(u, v, SIMD8(repeating: w[2]), &a2, &c2)
              accumulate(u, v, SIMD8(repeating: w[3]), &a3, &c3)
              accumulate(u, v, SIMD8(repeating: w[4]), &a4, &c4)
              accumulate(u, v, SIMD8(repeating: w[5]), &a5, &c5)
              w += block
            }
          }
        }
        storeChannels(output + y0 * g.outWidth + x, plane, count, a0, a1, a2, a3, a4, a5)
        storeChannels(output + y1 * g.outWidth + x, plane, count, c0, c1, c2, c3, c4, c5)
      }
    }
  }

  /// Stores the first `count` of six channel vectors, `plane` floats apart.
  @inline(__always)
  static func storeChannels(
    _ out: UnsafeMutablePointer<Float>, _ plane: Int, _ count: Int, _ a0: SIMD8<Float>,
    _ a1: SIMD8<Float>, _ a2: SIMD8<Float>, _ a3: SIMD8<Float>, _ a4: SIMD8<Float>,
    _ a5: SIMD8<Float>
  ) {
    Vector8.store(a0, out)
    if count > 1 { Vector8.store(a1, out + plane) }
    if count > 2 { Vector8.store(a2, out + 2 * plane) }
    if count > 3 { Vector8.store(a3, out + 3 * plane) }
    if count > 4 { Vector8.store(a4, out + 4 * plane) }
    if count > 5 { Vector8.store(a5, out + 5 * plane) }
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
    // A last tile that overlaps its neighbour re-reads lanes already counted: weigh them 0.
    let overlap = (lanes - g.outWidth % lanes) % lanes
    let lastMask = SIMD8<Float>((0..<lanes).map { $0 < overlap ? 0 : 1 })
    // Channels past Cout read channel 0 again; their sums are never stored.
    func row(_ o: Int) -> UnsafePointer<Float> { gradOutput + (o < count ? o : 0) * plane }
    let (g0, g1, g2, g3, g4, g5) = (row(0), row(1), row(2), row(3), row(4), row(5))
    func tap(_ r: Int) -> UnsafePointer<Float> {
      image + (r / (k * k)) * g.inPlane + (r / k % k) * width + r % k
    }
    // Two taps at a time share the gradient loads and give 12 independent accumulators
    // (see `forward`). An odd last tap is paired with itself and stored once.
    for r0 in stride(from: 0, to: patch, by: 2) {
      let r1 = min(r0 + 1, patch - 1)
      let (tap0, tap1) = (tap(r0), tap(r1))
      var (a0, a1, a2, a3, a4, a5) = (
        SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>(),
        SIMD8<Float>()
      )
      var (c0, c1, c2, c3, c4, c5) = (a0, a1, a2, a3, a4, a5)
      for y in 0..<g.outHeight {
        for tile in Swift.stride(from: 0, to: g.outWidth, by: lanes) {
          let x = min(tile, g.outWidth - lanes)
          var (u, v) = (Vector8.load(tap0 + y * width + x), Vector8.load(tap1 + y * width + x))
          if x != tile {
            u *= lastMask
            v *= lastMask
          }
          let p = y * g.outWidth + x
          accumulate(u, v, Vector8.load(g0 + p), &a0, &c0)
          accumulate(u, v, Vector8.load(g1 + p), &a1, &c1)
          accumulate(u, v, Vector8.load(g2 + p), &a2, &c2)
          accumulate(u, v, Vector8.load(g3 + p), &a3, &c3)
          accumulate(u, v, Vector8.load(g4 + p), &a4, &c4)
          accumulate(u, v, Vector8.load(g5 + p), &a5, &c5)
        }
      }
      addSums(partial + r0, patch, count, a0, a1, a2, a3, a4, a5)
      if r1 != r0 { addSums(partial + r1, patch, count, c0, c1, c2, c3, c4, c5) }
    }
  }

  /// Adds the lane sums of the first `count` of six channel vectors, `stride` floats apart.
  @inline(__always)
  static func addSums(
    _ out: UnsafeMutablePointer<Float>, _ stride: Int, _ count: Int, _ a0: SIMD8<Float>,
    _ a1: SIMD8<Float>, _ a2: SIMD8<Float>, _ a3: SIMD8<Float>, _ a4: SIMD8<Float>,
    _ a5: SIMD8<Float>
  ) {
    out[0] += a0.sum()
    if count > 1 { out[stride] += a1.sum() }
    if count > 2 { out[2 * stride] += a2.sum() }
    if count > 3 { out[3 * stride] += a3.sum() }
    if count > 4 { out[4 * stride] += a4.sum() }
    if count > 5 { out[5 * stride] += a5.sum() }
  }

  /// The input gradient as a convolution (the adjoint of `forward`): the output gradient,
  /// zero-padded by k − 1 on every side, correlated with the weight flipped in space and
  /// with its channel axes swapped. This is its geometry: Cout input planes, Cin outputs
  /// of the input's size. `forward` handles it when Cin ≤ `block` (LeNet's second layer).
  public static func transposed(_ g: ConvGeometry, outChannels: Int) -> ConvGeometry {
    ConvGeometry(
      channels: outChannels, height: g.outHeight + 2 * (g.kernel - 1),
      width: g.outWidth + 2 * (g.kernel - 1), kernel: g.kernel, stride: 1, padding: 0)
  }

  /// weight [Cout, Cin, k, k] packed for `transposed`: tap (o, a, b) of output c holds
  /// w[o, c, k−1−a, k−1−b].
  public static func packTransposedWeights(
    _ weight: UnsafePointer<Float>, _ g: ConvGeometry, outChannels: Int,
    into packed: UnsafeMutablePointer<Float>
  ) {
    let (k, cin) = (g.kernel, g.channels)
    packed.update(repeating: 0, count: packedCount(patch: outChannels * k * k))
    for o in 0..<outChannels {
      for c in 0..<cin {
        for a in 0..<k {
          for b in 0..<k {
            let tap = (o * k + a) * k + b
            packed[tap * block + c] = weight[((o * cin + c) * k + k - 1 - a) * k + k - 1 - b]
          }
        }
      }
    }
  }

  /// gradInput = the input gradient of one image for gradOutput [Cout, Hout, Wout];
  /// `padded` is scratch of `transposed(g, outChannels:).channels · inPlane` floats.
  public static func inputGradient(
    _ g: ConvGeometry, outChannels: Int, gradOutput: UnsafePointer<Float>,
    packedTransposed: UnsafePointer<Float>, padded: UnsafeMutablePointer<Float>,
    gradInput: UnsafeMutablePointer<Float>
  ) {
    let t = transposed(g, outChannels: outChannels)
    let margin = g.kernel - 1
    padded.update(repeating: 0, count: outChannels * t.inPlane)
    for o in 0..<outChannels {
      for y in 0..<g.outHeight {
        (padded + o * t.inPlane + (y + margin) * t.width + margin).update(
          from: gradOutput + (o * g.outHeight + y) * g.outWidth, count: g.outWidth)
      }
    }
    forward(
      t, outChannels: g.channels, image: padded, packed: packedTransposed, bias: nil,
      output: gradInput)
  }

  /// a += u·h and c += v·h: one channel's multiply-adds for a pair of rows (forward) or
  /// of taps (weight gradient).
  @inline(__always)
  static func accumulate(
    _ u: SIMD8<Float>, _ v: SIMD8<Float>, _ h: SIMD8<Float>, _ a: inout SIMD8<Float>,
    _ c: inout SIMD8<Float>
  ) {
    a = mulAdd(u, h, a)
    c = mulAdd(v, h, c)
  }
}
