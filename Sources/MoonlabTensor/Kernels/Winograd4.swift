/// Winograd's F(4×4, 3×3) (Lavin & Gray 2016, points 0, ±1, ±2, ∞) for the same layers
/// as `Winograd`'s F(2×2, 3×3) (docs/nn.md, "Conv2d"): 4×4 output tiles from 6×6 input
/// tiles, 36 products per tile instead of 144 (F(2×2): 16 per 2×2 tile, 64 per 4×4), and
/// 36/16 = 2.25 transformed floats per input float instead of 4. `ConvPlan` picks one of
/// the two per layer shape (docs/nn.md, "Performance").
///
/// The same three passes and layout as `Winograd`: U = G w Gᵀ, V = Bᵀ d B, output Aᵀ M A;
/// the input gradient with the flipped, channel-swapped weight; dW = Gᵀ dU G with
/// dU_ξ = Z_ξ · V_ξᵀ and Z = A g Aᵀ. Matrices are [36][channels][rowStride], position
/// ξ = 6i + j for row i and column j of the tile.
///
/// Columns of 8 tiles are single 8-float loads: rows are split into 4 phase rows
/// (x mod 4), so column j of tiles tx…tx+7 is phase j mod 4 at tx + j / 4.
enum Winograd4 {
  static let positions = 36
  static let lanes = Winograd.lanes

  /// Whether `ConvPlan` runs this variant rather than F(2×2) on a Winograd layer, from
  /// `moonlab bench winograd_variants` (docs/nn.md, "Performance"): F(4×4) won at 31, 32, 16
  /// and 15 wide and at 7 wide with 256 channels (long GEMMs), lost at 8 wide with 64
  /// channels (the transforms dominate) and at 3×3 (a 6×6 tile for 9 outputs).
  static func preferred(_ g: ConvGeometry, outChannels: Int) -> Bool {
    g.width >= 12 || (g.width >= 5 && g.channels >= 128)
  }

  /// Tiles per image row and column: ⌈W/4⌉ and ⌈H/4⌉.
  static func tileColumns(_ g: ConvGeometry) -> Int { (g.width + 3) / 4 }
  static func tileRows(_ g: ConvGeometry) -> Int { (g.height + 3) / 4 }
  static func tilesPerImage(_ g: ConvGeometry) -> Int { tileRows(g) * tileColumns(g) }

  /// Length of a column array: one float per tile of an image, and slack for a vector
  /// past the last tile and a split row's spill (`transformInput`).
  static func columnLength(_ g: ConvGeometry) -> Int { tilesPerImage(g) + 2 * lanes }

  /// Per-thread row scratch: 36 column arrays (6 rows × 6 tile columns), a row of zeros
  /// and a zero-tailed copy of one plane (as `Winograd.rowScratch`).
  static func rowScratch(_ g: ConvGeometry) -> Int {
    36 * columnLength(g) + (g.height + 1) * Winograd.paddedWidth(g)
  }

  /// weight [Cout, Cin, 3, 3] → U [36][Cout][Cin]; `transposed`: the flipped,
  /// channel-swapped weight of the input gradient, U [36][Cin][Cout].
  static func transformWeights(
    _ weight: UnsafePointer<Float>, outChannels: Int, inChannels: Int, transposed: Bool,
    into u: UnsafeMutablePointer<Float>
  ) {
    let pairs = outChannels * inChannels
    for o in 0..<outChannels {
      for c in 0..<inChannels {
        let w = weight + (o * inChannels + c) * 9
        func row(_ a: Int) -> SIMD8<Float> {
          let tap = { (b: Int) in transposed ? w[(2 - a) * 3 + 2 - b] : w[a * 3 + b] }
          return firstLanes(
            g(SIMD8(repeating: tap(0)), SIMD8(repeating: tap(1)), SIMD8(repeating: tap(2))))
        }
        // s_a = G applied to row a of w (lane j: (w Gᵀ)[a][j]); U's row i = (G s)_i.
        let u6 = g(row(0), row(1), row(2))
        let index = transposed ? c * outChannels + o : o * inChannels + c
        func put(_ i: Int, _ ui: SIMD8<Float>) {
          for j in 0..<6 { u[(i * 6 + j) * pairs + index] = ui[j] }
        }
        put(0, u6.0)
        put(1, u6.1)
        put(2, u6.2)
        put(3, u6.3)
        put(4, u6.4)
        put(5, u6.5)
      }
    }
  }

  /// G (6×3) applied to (w0, w1, w2) lane by lane: w0/4, −(w0 + w1 + w2)/6,
  /// −(w0 − w1 + w2)/6, w0/24 + w1/12 + w2/6, w0/24 − w1/12 + w2/6, w2.
  static func g(_ w0: SIMD8<Float>, _ w1: SIMD8<Float>, _ w2: SIMD8<Float>) -> Six {
    (
      w0 / 4, -(w0 + w1 + w2) / 6, -(w0 - w1 + w2) / 6, w0 / 24 + w1 / 12 + w2 / 6,
      w0 / 24 - w1 / 12 + w2 / 6, w2
    )
  }

  typealias Four = (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>)

  /// Six vectors: one per row of a 6-row matrix.
  typealias Six = (
    SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>
  )

  /// Lane 0 of each of six vectors, in lanes 0…5.
  @inline(__always)
  static func firstLanes(_ v: Six) -> SIMD8<Float> {
    SIMD8(v.0[0], v.1[0], v.2[0], v.3[0], v.4[0], v.5[0], 0, 0)
  }

  /// dW[o, c] += Gᵀ dU[·, o, c] G for dU [36][Cout][Cin]; dW [Cout, Cin, 3, 3].
  static func addWeightGradient(
    _ du: UnsafePointer<Float>, outChannels: Int, inChannels: Int,
    into dw: UnsafeMutablePointer<Float>
  ) {
    let pairs = outChannels * inChannels
    for p in 0..<pairs {
      // r = Gᵀ dU (3×6), rows of dU as vectors over j; then dW's row a = r_a G.
      func row(_ i: Int) -> SIMD8<Float> {
        var v = SIMD8<Float>()
        for j in 0..<6 { v[j] = du[(i * 6 + j) * pairs + p] }
        return v
      }
      let (r0, r1, r2) = gT(row(0), row(1), row(2), row(3), row(4), row(5))
      func add(_ r: SIMD8<Float>, _ w: UnsafeMutablePointer<Float>) {
        let s = gT(
          SIMD8(repeating: r[0]), SIMD8(repeating: r[1]), SIMD8(repeating: r[2]),
          SIMD8(repeating: r[3]), SIMD8(repeating: r[4]), SIMD8(repeating: r[5]))
        w[0] += s.0[0]
        w[1] += s.1[0]
        w[2] += s.2[0]
      }
      add(r0, dw + p * 9)
      add(r1, dw + p * 9 + 3)
      add(r2, dw + p * 9 + 6)
    }
  }

  /// Gᵀ (3×6) applied to (d0 … d5) lane by lane: G's columns (1/4, −1/6, −1/6, 1/24,
  /// 1/24, 0), (0, −1/6, 1/6, 1/12, −1/12, 0), (0, −1/6, −1/6, 1/6, 1/6, 1).
  @inline(__always)
  static func gT(
    _ d0: SIMD8<Float>, _ d1: SIMD8<Float>, _ d2: SIMD8<Float>, _ d3: SIMD8<Float>,
    _ d4: SIMD8<Float>, _ d5: SIMD8<Float>
  ) -> (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>) {
    (
      d0 / 4 - (d1 + d2) / 6 + (d3 + d4) / 24, (d2 - d1) / 6 + (d3 - d4) / 12,
      (d3 + d4 - d1 - d2) / 6 + d5
    )
  }

  /// images [count][C][H][W] → V [36][C][rowStride]: V = Bᵀ d B of every 6×6 input tile
  /// (zero padding outside the image). `rows` is `rowScratch` floats.
  static func transformInput(
    _ g: ConvGeometry, channels: Int, images: UnsafePointer<Float>, count: Int,
    into v: UnsafeMutablePointer<Float>, rowStride: Int, rows: UnsafeMutablePointer<Float>
  ) {
    let (tw, th, tiles, length) = (tileColumns(g), tileRows(g), tilesPerImage(g), columnLength(g))
    // For each of the 6 rows t_i = (Bᵀ d)_i of every tile row: column arrays C_j[tile] =
    // t_i(4tx + j − 1), all tiles of the plane in a row so the second pass runs over whole
    // vectors even when a tile row has 1–4 tiles (the speedrun's 3, 7, 15). A split row
    // spills up to 3 floats into the next tile row's first slots, which that row rewrites
    // (C_0[0], the left padding, is zeroed again). As in `Winograd`, a whole plane is split
    // before any of it is read back (store forwarding).
    let channelStride = channels * rowStride
    let padded = Winograd.paddedWidth(g)
    let zeros = rows + 36 * length
    let copy = zeros + padded
    rows.update(repeating: 0, count: 36 * length + (g.height + 1) * padded)
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
            let y = 4 * ty - 1 + r
            return y >= 0 && y < g.height ? plane + y * padded : UnsafePointer(zeros)
          }
          let (p0, p1, p2) = (inputRow(0), inputRow(1), inputRow(2))
          let (p3, p4, p5) = (inputRow(3), inputRow(4), inputRow(5))
          let row = rows + ty * tw
          for i in 0..<6 { row[6 * i * length] = 0 }
          for x in stride(from: 0, to: padded, by: lanes) {
            let (d0, d1, d2) = (Vector8.load(p0 + x), Vector8.load(p1 + x), Vector8.load(p2 + x))
            let (d3, d4, d5) = (Vector8.load(p3 + x), Vector8.load(p4 + x), Vector8.load(p5 + x))
            let at = row + x / 4
            let first = x == 0
            splitColumns(4 * d0 - 5 * d2 + d4, at, length, first)
            splitColumns(d3 + d4 - 4 * (d1 + d2), at + 6 * length, length, first)
            splitColumns(4 * (d1 - d2) - d3 + d4, at + 12 * length, length, first)
            splitColumns(2 * (d3 - d1) - d2 + d4, at + 18 * length, length, first)
            splitColumns(2 * (d1 - d3) - d2 + d4, at + 24 * length, length, first)
            splitColumns(4 * d1 - 5 * d3 + d5, at + 30 * length, length, first)
          }
        }
        for i in 0..<6 {
          let column = rows + 6 * i * length
          let out = v + 6 * i * channelStride + c * rowStride + image * tiles
          for t in stride(from: 0, to: tiles, by: lanes) {
            let (c0, c1, c2) = (
              Vector8.load(column + t), Vector8.load(column + length + t),
              Vector8.load(column + 2 * length + t)
            )
            let (c3, c4, c5) = (
              Vector8.load(column + 3 * length + t), Vector8.load(column + 4 * length + t),
              Vector8.load(column + 5 * length + t)
            )
            Vector8.store(4 * c0 - 5 * c2 + c4, out + t)
            Vector8.store(c3 + c4 - 4 * (c1 + c2), out + channelStride + t)
            Vector8.store(4 * (c1 - c2) - c3 + c4, out + 2 * channelStride + t)
            Vector8.store(2 * (c3 - c1) - c2 + c4, out + 3 * channelStride + t)
            Vector8.store(2 * (c1 - c3) - c2 + c4, out + 4 * channelStride + t)
            Vector8.store(4 * c1 - 5 * c3 + c5, out + 5 * channelStride + t)
          }
        }
      }
    }
  }

  /// M [36][C][rowStride] → output [count][C][H][W] (+ bias[c]): each 4×4 tile is
  /// Aᵀ m A, the part outside the image dropped. `rows` is `rowScratch` floats.
  static func transformOutput(
    _ g: ConvGeometry, channels: Int, _ m: UnsafePointer<Float>, rowStride: Int, count: Int,
    bias: UnsafePointer<Float>?, into output: UnsafeMutablePointer<Float>,
    rows: UnsafeMutablePointer<Float>
  ) {
    let (tw, th, tiles, length) = (tileColumns(g), tileRows(g), tilesPerImage(g), columnLength(g))
    let channelStride = channels * rowStride
    // Y[r][s] of all tiles of a plane at rows + (4r + s)·length (whole vectors however
    // short the tile rows), then 16 floats (4 tiles) of a row's partial stretch at `tail`.
    let tail = rows + 16 * length
    for image in 0..<count {
      for c in 0..<channels {
        let b = SIMD8(repeating: bias?[c] ?? 0)
        let plane = output + (image * channels + c) * g.inPlane
        let src = m + c * rowStride + image * tiles
        for t in stride(from: 0, to: tiles, by: lanes) {
          @inline(__always) func at(_ i: Int, _ j: Int) -> SIMD8<Float> {
            Vector8.load(src + (i * 6 + j) * channelStride + t)
          }
          // Aᵀ along i for each column j (c_j = rows 0…3 of column j), then along j.
          @inline(__always) func column(_ j: Int) -> Four {
            aT(at(0, j), at(1, j), at(2, j), at(3, j), at(4, j), at(5, j))
          }
          let (c0, c1, c2) = (column(0), column(1), column(2))
          let (c3, c4, c5) = (column(3), column(4), column(5))
          @inline(__always) func put(_ y: Four, _ r: Int) {
            let row = rows + 4 * r * length + t
            Vector8.store(y.0 + b, row)
            Vector8.store(y.1 + b, row + length)
            Vector8.store(y.2 + b, row + 2 * length)
            Vector8.store(y.3 + b, row + 3 * length)
          }
          put(aT(c0.0, c1.0, c2.0, c3.0, c4.0, c5.0), 0)
          put(aT(c0.1, c1.1, c2.1, c3.1, c4.1, c5.1), 1)
          put(aT(c0.2, c1.2, c2.2, c3.2, c4.2, c5.2), 2)
          put(aT(c0.3, c1.3, c2.3, c3.3, c4.3, c5.3), 3)
        }
        for ty in 0..<th {
          for r in 0..<4 where 4 * ty + r < g.height {
            let phase = rows + 4 * r * length + ty * tw
            let out = plane + (4 * ty + r) * g.width
            // Four tiles (16 floats) per step: a 4×4 transpose of the phases.
            var tx = 0
            while 4 * tx < g.width {
              let (lo, hi) = interleave4(phase + tx, length)
              if 4 * tx + 16 <= g.width {
                Vector8.store(lo, out + 4 * tx)
                Vector8.store(hi, out + 4 * tx + 8)
              } else {
                Vector8.store(lo, tail)
                Vector8.store(hi, tail + 8)
                (out + 4 * tx).update(from: tail, count: g.width - 4 * tx)
              }
              tx += 4
            }
          }
        }
      }
    }
  }

  /// gradOutput [count][C][H][W] → Z [36][C][rowStride]: Z = A g Aᵀ of every 4×4 output
  /// tile (zero outside the image). `rows` is `rowScratch` floats. A vector of 8 tiles
  /// past an image's last lands in columns written later or in the row stride's slack.
  static func transformGradient(
    _ g: ConvGeometry, channels: Int, _ gradOutput: UnsafePointer<Float>, count: Int,
    into z: UnsafeMutablePointer<Float>, rowStride: Int, rows: UnsafeMutablePointer<Float>
  ) {
    let (tw, th, tiles, length) = (tileColumns(g), tileRows(g), tilesPerImage(g), columnLength(g))
    // h_i = (A g)_i over a tile row's 4 rows, as column arrays D_s[tile] = h_i(4tx + s)
    // over all tiles of the plane (as in `transformInput`); a row's spill past its last
    // tile is zeros (columns ≥ W) into slots the next row rewrites. Split a whole plane
    // first (store forwarding).
    let channelStride = channels * rowStride
    let padded = Winograd.paddedWidth(g)
    let zeros = rows + 24 * length
    let copy = zeros + padded
    rows.update(repeating: 0, count: 24 * length + (g.height + 1) * padded)
    for image in 0..<count {
      for c in 0..<channels {
        var plane = gradOutput + (image * channels + c) * g.inPlane
        if padded != g.width {
          for y in 0..<g.height {
            (copy + y * padded).update(from: plane + y * g.width, count: g.width)
          }
          plane = UnsafePointer(copy)
        }
        for ty in 0..<th {
          func gradRow(_ r: Int) -> UnsafePointer<Float> {
            let y = 4 * ty + r
            return y < g.height ? plane + y * padded : UnsafePointer(zeros)
          }
          let (p0, p1, p2, p3) = (gradRow(0), gradRow(1), gradRow(2), gradRow(3))
          let row = rows + ty * tw
          for x in stride(from: 0, to: padded, by: lanes) {
            let h = a(
              Vector8.load(p0 + x), Vector8.load(p1 + x), Vector8.load(p2 + x),
              Vector8.load(p3 + x))
            let at = row + x / 4
            splitPhases(h.0, at, length)
            splitPhases(h.1, at + 4 * length, length)
            splitPhases(h.2, at + 8 * length, length)
            splitPhases(h.3, at + 12 * length, length)
            splitPhases(h.4, at + 16 * length, length)
            splitPhases(h.5, at + 20 * length, length)
          }
        }
        for i in 0..<6 {
          let phase = rows + 4 * i * length
          let out = z + 6 * i * channelStride + c * rowStride + image * tiles
          for t in stride(from: 0, to: tiles, by: lanes) {
            let zi = a(
              Vector8.load(phase + t), Vector8.load(phase + length + t),
              Vector8.load(phase + 2 * length + t), Vector8.load(phase + 3 * length + t))
            Vector8.store(zi.0, out + t)
            Vector8.store(zi.1, out + channelStride + t)
            Vector8.store(zi.2, out + 2 * channelStride + t)
            Vector8.store(zi.3, out + 3 * channelStride + t)
            Vector8.store(zi.4, out + 4 * channelStride + t)
            Vector8.store(zi.5, out + 5 * channelStride + t)
          }
        }
      }
    }
  }

  /// Aᵀ (4×6) applied to (m0 … m5): m0 + m1 + m2 + m3 + m4, (m1 − m2) + 2 (m3 − m4),
  /// (m1 + m2) + 4 (m3 + m4), (m1 − m2) + 8 (m3 − m4) + m5.
  @inline(__always)
  static func aT(
    _ m0: SIMD8<Float>, _ m1: SIMD8<Float>, _ m2: SIMD8<Float>, _ m3: SIMD8<Float>,
    _ m4: SIMD8<Float>, _ m5: SIMD8<Float>
  ) -> Four {
    let (sum12, diff12, sum34, diff34) = (m1 + m2, m1 - m2, m3 + m4, m3 - m4)
    return (m0 + sum12 + sum34, diff12 + 2 * diff34, sum12 + 4 * sum34, diff12 + 8 * diff34 + m5)
  }

  /// A (6×4) applied to (g0 … g3): g0, Σ g, g0 − g1 + g2 − g3, g0 + 2g1 + 4g2 + 8g3,
  /// g0 − 2g1 + 4g2 − 8g3, g3.
  @inline(__always)
  static func a(_ g0: SIMD8<Float>, _ g1: SIMD8<Float>, _ g2: SIMD8<Float>, _ g3: SIMD8<Float>)
    -> Six
  {
    let (even1, odd1, even2, odd2) = (g0 + g2, g1 + g3, g0 + 4 * g2, 2 * g1 + 8 * g3)
    return (g0, even1 + odd1, even1 - odd1, even2 + odd2, even2 - odd2, g3)
  }

  /// The pairs of lanes (p, p + 4) of `v` as SIMD2: p = 0, 1, 2, 3.
  @inline(__always)
  static func lanePairs(_ v: SIMD8<Float>) -> (
    SIMD2<Float>, SIMD2<Float>, SIMD2<Float>, SIMD2<Float>
  ) {
    let (lo, hi) = (v.lowHalf, v.highHalf)
    let first = SIMD4(lo[0], hi[0], lo[1], hi[1])
    let second = SIMD4(lo[2], hi[2], lo[3], hi[3])
    return (first.lowHalf, first.highHalf, second.lowHalf, second.highHalf)
  }

  /// Columns 4k + p and 4k + 4 + p of `v` (k = the vector's first column / 4) to phase
  /// array p at `at` (array p is p·length further).
  @inline(__always)
  static func splitPhases(_ v: SIMD8<Float>, _ at: UnsafeMutablePointer<Float>, _ length: Int) {
    let (p0, p1, p2, p3) = lanePairs(v)
    store2(p0, at)
    store2(p1, at + length)
    store2(p2, at + 2 * length)
    store2(p3, at + 3 * length)
  }

  /// `transformInput`'s split of t(x … x + 7), x = 4k, into the column arrays C_j[tile] =
  /// t(4tx + j − 1) at `at` (C_j j·length further): C_1, C_2, C_3 at k, C_0 at k + 1,
  /// C_4 at k, C_5 at k − 1 (only its second at the row's start, `first`).
  @inline(__always)
  static func splitColumns(
    _ v: SIMD8<Float>, _ at: UnsafeMutablePointer<Float>, _ length: Int, _ first: Bool
  ) {
    let (p0, p1, p2, p3) = lanePairs(v)
    store2(p3, at + 1)
    store2(p0, at + length)
    store2(p1, at + 2 * length)
    store2(p2, at + 3 * length)
    store2(p3, at + 4 * length)
    if first { at[5 * length] = p0[1] } else { store2(p0, at + 5 * length - 1) }
  }

  /// Four tiles of one output row from its four phase rows (`span` apart): the 16 floats
  /// x = 4·tx … 4·tx + 15 as two vectors.
  @inline(__always)
  static func interleave4(_ phase: UnsafePointer<Float>, _ span: Int) -> (
    SIMD8<Float>, SIMD8<Float>
  ) {
    let (p0, p1) = (Winograd.load4(phase), Winograd.load4(phase + span))
    let (p2, p3) = (Winograd.load4(phase + 2 * span), Winograd.load4(phase + 3 * span))
    let (lo01, hi01) = (SIMD4(p0[0], p1[0], p0[1], p1[1]), SIMD4(p0[2], p1[2], p0[3], p1[3]))
    let (lo23, hi23) = (SIMD4(p2[0], p3[0], p2[1], p3[1]), SIMD4(p2[2], p3[2], p2[3], p3[3]))
    return (
      SIMD8(lo01[0], lo01[1], lo23[0], lo23[1], lo01[2], lo01[3], lo23[2], lo23[3]),
      SIMD8(hi01[0], hi01[1], hi23[0], hi23[1], hi01[2], hi01[3], hi23[2], hi23[3])
    )
  }

  @inline(__always)
  static func store2(_ v: SIMD2<Float>, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD2<Float>.self)
  }
}
