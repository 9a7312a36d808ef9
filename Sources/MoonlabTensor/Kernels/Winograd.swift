/// Winograd's F(2×2, 3×3) for stride-1, padding-1 3×3 convolutions (docs/nn.md, "Conv2d").
///
/// The output is cut into 2×2 tiles, each computed from a 4×4 input tile: with the input
/// tile transformed (V = Bᵀ d B, 16 numbers) and the weight transformed (U = G w Gᵀ), the
/// 16 products U ⊙ V summed over input channels give the tile as Aᵀ M A. Summed over
/// channels, each of the 16 positions ξ is a matrix product M_ξ[Cout, tiles] =
/// U_ξ[Cout, Cin] · V_ξ[Cin, tiles]: 16·Cin multiply-adds per tile and output channel
/// instead of 36, and one GEMM per position over all tiles of a group of images.
///
/// The input gradient is the same convolution of the output gradient with the weight
/// flipped and its channel axes swapped (`transformWeights(transposed:)`). The weight
/// gradient is dW = Gᵀ dU G with dU_ξ[Cout, Cin] = Z_ξ · V_ξᵀ, Z = A g Aᵀ the transformed
/// output-gradient tiles: again 16 GEMMs, here with the tiles as the long inner dimension.
///
/// Transformed matrices are [16][channels][rowStride], tiles of image i of a group at
/// columns i·tilesPerImage…; `rowStride` leaves `lanes` floats of slack after the last
/// tile because the transforms store whole 8-wide vectors.
public enum Winograd {
  static let positions = 16
  static let lanes = 8

  /// Stride 1, padding 1, a 3×3 kernel: the output has the input's size.
  public static func applies(_ g: ConvGeometry) -> Bool {
    g.isSquare && g.kernel == 3 && g.stride == 1 && g.padding == 1
  }

  /// Tiles per image row and column: ⌈W/2⌉ and ⌈H/2⌉.
  static func tileColumns(_ g: ConvGeometry) -> Int { (g.width + 1) / 2 }
  static func tileRows(_ g: ConvGeometry) -> Int { (g.height + 1) / 2 }
  public static func tilesPerImage(_ g: ConvGeometry) -> Int { tileRows(g) * tileColumns(g) }

  /// A row rounded up to whole vectors: kernels copy rows of other widths into zero-tailed
  /// scratch rows so every column runs the vector path (odd CIFAR widths 31, 15, 7, 3 left
  /// a scalar tail that cost more than the vector body).
  static func paddedWidth(_ g: ConvGeometry) -> Int { (g.width + lanes - 1) / lanes * lanes }

  /// Floats of per-thread row scratch the transforms need: 8 deinterleaved rows per tile
  /// row, a row of zeros (the padding above and below the image), and a zero-tailed copy
  /// of one plane.
  static func rowScratch(_ g: ConvGeometry) -> Int {
    8 * (tileColumns(g) + 1 + lanes) * tileRows(g) + (g.height + 1) * paddedWidth(g)
  }

  /// weight [Cout, Cin, 3, 3] → U [16][Cout][Cin] (U_ξ = (G w Gᵀ)_ξ); `transposed`: the
  /// flipped, channel-swapped weight of the input gradient, U [16][Cin][Cout].
  static func transformWeights(
    _ weight: UnsafePointer<Float>, outChannels: Int, inChannels: Int, transposed: Bool,
    into u: UnsafeMutablePointer<Float>
  ) {
    let pairs = outChannels * inChannels
    for o in 0..<outChannels {
      for c in 0..<inChannels {
        let w = weight + (o * inChannels + c) * 9
        // t = G w (4×3), then U = t Gᵀ (4×4); flipped: w[2−a][2−b].
        var t = (SIMD4<Float>(), SIMD4<Float>(), SIMD4<Float>())  // columns of t
        for b in 0..<3 {
          let col = transposed ? 2 - b : b
          func tap(_ a: Int) -> Float { w[(transposed ? 2 - a : a) * 3 + col] }
          let (w0, w1, w2) = (tap(0), tap(1), tap(2))
          let column = SIMD4(w0, (w0 + w1 + w2) / 2, (w0 - w1 + w2) / 2, w2)
          if b == 0 { t.0 = column } else if b == 1 { t.1 = column } else { t.2 = column }
        }
        let rows = (t.0, (t.0 + t.1 + t.2) / 2, (t.0 - t.1 + t.2) / 2, t.2)  // U's columns
        let index = transposed ? c * outChannels + o : o * inChannels + c
        for i in 0..<4 {
          u[(i * 4 + 0) * pairs + index] = rows.0[i]
          u[(i * 4 + 1) * pairs + index] = rows.1[i]
          u[(i * 4 + 2) * pairs + index] = rows.2[i]
          u[(i * 4 + 3) * pairs + index] = rows.3[i]
        }
      }
    }
  }

  /// dW[o, c] += Gᵀ dU[·, o, c] G for dU [16][Cout][Cin]; dW [Cout, Cin, 3, 3].
  static func addWeightGradient(
    _ du: UnsafePointer<Float>, outChannels: Int, inChannels: Int,
    into dw: UnsafeMutablePointer<Float>
  ) {
    let pairs = outChannels * inChannels
    for p in 0..<pairs {
      // r = Gᵀ dU (3×4) by columns j, then dW = r G (3×3).
      func row(_ i: Int) -> SIMD4<Float> {
        SIMD4(
          du[(i * 4) * pairs + p], du[(i * 4 + 1) * pairs + p], du[(i * 4 + 2) * pairs + p],
          du[(i * 4 + 3) * pairs + p])
      }
      let (d0, d1, d2, d3) = (row(0), row(1), row(2), row(3))
      let r0 = d0 + (d1 + d2) / 2
      let r1 = (d1 - d2) / 2
      let r2 = (d1 + d2) / 2 + d3
      func add(_ r: SIMD4<Float>, _ w: UnsafeMutablePointer<Float>) {
        w[0] += r[0] + (r[1] + r[2]) / 2
        w[1] += (r[1] - r[2]) / 2
        w[2] += (r[1] + r[2]) / 2 + r[3]
      }
      add(r0, dw + p * 9)
      add(r1, dw + p * 9 + 3)
      add(r2, dw + p * 9 + 6)
    }
  }

  /// images [count][C][H][W] → V [16][C][rowStride]: V = Bᵀ d B of every 4×4 input tile
  /// (zero padding outside the image). `rows` is `rowScratch` floats.
  static func transformInput(
    _ g: ConvGeometry, channels: Int, images: UnsafePointer<Float>, count: Int,
    into v: UnsafeMutablePointer<Float>, rowStride: Int, rows: UnsafeMutablePointer<Float>
  ) {
    let (tw, th, tiles) = (tileColumns(g), tileRows(g), tilesPerImage(g))
    let span = tw + 1 + lanes
    // For tile row ty: even[ty][i][m] = t_i(2m), odd[ty][i][m] = t_i(2m − 1) for the four
    // rows t = Bᵀ d. A whole plane's rows are split before any is read back: reading a
    // row right after its 4-float stores stalled on store forwarding (20% of the time).
    let rowSet = 8 * span
    let channelStride = channels * rowStride  // between positions ξ
    let padded = paddedWidth(g)
    let zeros = rows + th * rowSet
    let copy = zeros + padded
    // The split writes even[0..<padded/2] and odd[1...padded/2]; the rest stays zero, and
    // so do the copy's tails.
    rows.update(repeating: 0, count: th * rowSet + (g.height + 1) * padded)
    for image in 0..<count {
      for c in 0..<channels {
        var plane = images + (image * channels + c) * g.inPlane
        if padded != g.width {
          for y in 0..<g.height {
            (copy + y * padded).update(from: plane + y * g.width, count: g.width)
          }
          plane = UnsafePointer(copy)
        }
        for ty in 0..<th {
          func inputRow(_ r: Int) -> UnsafePointer<Float> {
            let y = 2 * ty - 1 + r
            return y >= 0 && y < g.height ? plane + y * padded : UnsafePointer(zeros)
          }
          let (p0, p1, p2, p3) = (inputRow(0), inputRow(1), inputRow(2), inputRow(3))
          let (even, odd) = (rows + ty * rowSet, rows + ty * rowSet + 4 * span)
          // t = Bᵀ d: d0 − d2, d1 + d2, d2 − d1, d1 − d3; 8 columns at a time.
          for x in stride(from: 0, to: padded, by: lanes) {
            let (d0, d1, d2, d3) = (
              Vector8.load(p0 + x), Vector8.load(p1 + x), Vector8.load(p2 + x), Vector8.load(p3 + x)
            )
            let (e, o) = (even + x / 2, odd + x / 2 + 1)
            split(d0 - d2, e, o)
            split(d1 + d2, e + span, o + span)
            split(d2 - d1, e + 2 * span, o + 2 * span)
            split(d1 - d3, e + 3 * span, o + 3 * span)
          }
        }
        // V[i][·] from row t_i: O[tx] − O[tx+1], E[tx] + O[tx+1], O[tx+1] − E[tx],
        // E[tx] − E[tx+1].
        for ty in 0..<th {
          let (even, odd) = (rows + ty * rowSet, rows + ty * rowSet + 4 * span)
          let column = image * tiles + ty * tw
          for i in 0..<4 {
            let (e, o) = (even + i * span, odd + i * span)
            let out = v + i * 4 * channelStride + c * rowStride + column
            for tx in stride(from: 0, to: tw, by: lanes) {
              let (e0, e1, o0, o1) = (
                Vector8.load(e + tx), Vector8.load(e + tx + 1), Vector8.load(o + tx),
                Vector8.load(o + tx + 1)
              )
              Vector8.store(o0 - o1, out + tx)
              Vector8.store(e0 + o1, out + channelStride + tx)
              Vector8.store(o1 - e0, out + 2 * channelStride + tx)
              Vector8.store(e0 - e1, out + 3 * channelStride + tx)
            }
          }
        }
      }
    }
  }

  /// M [16][C][rowStride] → output [count][C][H][W] (+ bias[c]): each 2×2 tile is Aᵀ m A,
  /// the half outside an odd-sized image dropped. `rows` is `rowScratch` floats.
  static func transformOutput(
    _ g: ConvGeometry, channels: Int, _ m: UnsafePointer<Float>, rowStride: Int, count: Int,
    bias: UnsafePointer<Float>?, into output: UnsafeMutablePointer<Float>,
    rows: UnsafeMutablePointer<Float>
  ) {
    let (tw, th, tiles) = (tileColumns(g), tileRows(g), tilesPerImage(g))
    let span = tw + 1 + lanes
    let channelStride = channels * rowStride
    for image in 0..<count {
      for c in 0..<channels {
        let b = bias?[c] ?? 0
        let plane = output + (image * channels + c) * g.inPlane
        for ty in 0..<th {
          let column = image * tiles + ty * tw
          let src = m + c * rowStride + column
          for tx in stride(from: 0, to: tw, by: lanes) {
            // s_j = m0j + m1j + m2j, d_j = m1j − m2j − m3j, then the same along j.
            @inline(__always) func at(_ i: Int, _ j: Int) -> SIMD8<Float> {
              Vector8.load(src + (i * 4 + j) * channelStride + tx)
            }
            @inline(__always) func columnSums(_ j: Int) -> (SIMD8<Float>, SIMD8<Float>) {
              let (m0, m1, m2, m3) = (at(0, j), at(1, j), at(2, j), at(3, j))
              return (m0 + m1 + m2, m1 - m2 - m3)
            }
            let (s0, d0) = columnSums(0)
            let (s1, d1) = columnSums(1)
            let (s2, d2) = columnSums(2)
            let (s3, d3) = columnSums(3)
            Vector8.store(s0 + s1 + s2, rows + tx)
            Vector8.store(s1 - s2 - s3, rows + span + tx)
            Vector8.store(d0 + d1 + d2, rows + 2 * span + tx)
            Vector8.store(d1 - d2 - d3, rows + 3 * span + tx)
          }
          for r in 0..<2 where 2 * ty + r < g.height {
            let (left, right) = (rows + 2 * r * span, rows + (2 * r + 1) * span)
            let out = plane + (2 * ty + r) * g.width
            // Interleave the two columns of each tile: 4 tiles per 8-float store while the
            // row has room, pairs after.
            var tx = 0
            while 2 * tx + lanes <= g.width {
              let (l, rt) = (load4(left + tx), load4(right + tx))
              let pairs = SIMD8(l[0], rt[0], l[1], rt[1], l[2], rt[2], l[3], rt[3])
              Vector8.store(pairs + b, out + 2 * tx)
              tx += 4
            }
            while tx < g.width / 2 {
              out[2 * tx] = left[tx] + b
              out[2 * tx + 1] = right[tx] + b
              tx += 1
            }
            if g.width & 1 == 1 { out[g.width - 1] = left[tw - 1] + b }
          }
        }
      }
    }
  }

  /// gradOutput [count][C][H][W] → Z [16][C][rowStride]: Z = A g Aᵀ of every 2×2 output
  /// tile (zero outside an odd-sized image). `rows` is `rowScratch` floats. A padded row
  /// yields up to 3 tiles past the row's last; they land in columns written later (the
  /// next tile row or image) or in the row stride's slack.
  static func transformGradient(
    _ g: ConvGeometry, channels: Int, _ gradOutput: UnsafePointer<Float>, count: Int,
    into z: UnsafeMutablePointer<Float>, rowStride: Int, rows: UnsafeMutablePointer<Float>
  ) {
    let (tw, th, tiles) = (tileColumns(g), tileRows(g), tilesPerImage(g))
    let channelStride = channels * rowStride
    let padded = paddedWidth(g)
    // Zero-tailed copies of the two rows of a tile row, and a row of zeros.
    let (topCopy, bottomCopy, zeros) = (rows, rows + padded, rows + 2 * padded)
    rows.update(repeating: 0, count: 3 * padded)
    for image in 0..<count {
      for c in 0..<channels {
        let plane = gradOutput + (image * channels + c) * g.inPlane
        for ty in 0..<th {
          var top = plane + 2 * ty * g.width
          let hasBottom = 2 * ty + 1 < g.height
          var bottom = hasBottom ? top + g.width : UnsafePointer(zeros)
          if padded != g.width {
            topCopy.update(from: top, count: g.width)
            top = UnsafePointer(topCopy)
            if hasBottom {
              bottomCopy.update(from: bottom, count: g.width)
              bottom = UnsafePointer(bottomCopy)
            }
          }
          let out = z + c * rowStride + image * tiles + ty * tw
          // Four tiles at a time: the even and odd columns of 8. h_i = (A g)_i: g0, g0 + g1,
          // g0 − g1, −g1 over the two rows; Z_i = h_i Aᵀ.
          for x in stride(from: 0, to: padded, by: lanes) {
            let (t, b) = (Vector8.load(top + x), Vector8.load(bottom + x))
            let (g00, g01, g10, g11) = (t.evenHalf, t.oddHalf, b.evenHalf, b.oddHalf)
            let row = out + x / 2
            putTiles(g00, g01, row, channelStride)
            putTiles(g00 + g10, g01 + g11, row + 4 * channelStride, channelStride)
            putTiles(g00 - g10, g01 - g11, row + 8 * channelStride, channelStride)
            putTiles(-g10, -g11, row + 12 * channelStride, channelStride)
          }
        }
      }
    }
  }

  /// Z_i· = h_i Aᵀ of four tiles from the columns h_i = (a, b): a, a + b, a − b, −b at
  /// positions 4i … 4i + 3 (`row` is position 4i's, the next are `stride` apart).
  @inline(__always)
  static func putTiles(
    _ a: SIMD4<Float>, _ b: SIMD4<Float>, _ row: UnsafeMutablePointer<Float>, _ stride: Int
  ) {
    func put(_ v: SIMD4<Float>, _ p: UnsafeMutablePointer<Float>) {
      UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD4<Float>.self)
    }
    put(a, row)
    put(a + b, row + stride)
    put(a - b, row + 2 * stride)
    put(-b, row + 3 * stride)
  }

  @inline(__always)
  static func load4(_ p: UnsafePointer<Float>) -> SIMD4<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD4<Float>.self)
  }

  /// Stores the even lanes of `v` at `even`, the odd ones at `odd`.
  @inline(__always)
  static func split(
    _ v: SIMD8<Float>, _ even: UnsafeMutablePointer<Float>, _ odd: UnsafeMutablePointer<Float>
  ) {
    UnsafeMutableRawPointer(even).storeBytes(of: v.evenHalf, as: SIMD4<Float>.self)
    UnsafeMutableRawPointer(odd).storeBytes(of: v.oddHalf, as: SIMD4<Float>.self)
  }
}
