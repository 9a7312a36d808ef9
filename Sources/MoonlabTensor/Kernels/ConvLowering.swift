/// How a convolution lowers one image to GEMM columns: a [C·k·k, columns] block whose rows
/// are `rowStride` floats apart, so `ConvPlan` can put several images side by side.
///
/// - `identity`: a 1×1 stride-1 unpadded layer's image already is its column matrix.
/// - `rowPadded`: stride-1 unpadded convolutions whose images are not much wider than their
///   outputs (LeNet's first layer: 32 vs 28). Column p stands for input offset p in a
///   channel plane, so output pixel (oy, ox) is column oy·W + ox, and row (c, ki, kj) of
///   the matrix is the contiguous run plane_c[ki·W + kj ..< + span] — one long copy per row
///   instead of one short copy per output row. The W − Wout columns between output rows
///   are junk: the GEMM results there are dropped (`compact`) and the gradients fed in
///   there are zero (`expand`).
/// - `im2col`: everything else, the classic layout of `Im2col`.
public struct ConvLowering {
  public enum Kind: Equatable { case identity, rowPadded, im2col }

  public let geometry: ConvGeometry
  public let kind: Kind
  /// Columns of one image's block: Hout·Wout, or (Hout − 1)·W + Wout row-padded.
  public let columns: Int

  public init(_ g: ConvGeometry) {
    geometry = g
    let span = (g.outHeight - 1) * g.width + g.outWidth
    // Junk columns cost GEMM work; above +50% the short copies are the cheaper evil
    // (LeNet: +14% for the first conv, +36% for the second; both measured faster padded).
    if g.kernel == 1 && g.kernelHeight == 1 && g.stride == 1 && g.padding == 0
      && g.paddingHeight == 0
    {
      kind = .identity
    } else if g.stride == 1 && g.padding == 0 && g.paddingHeight == 0 && 2 * span <= 3 * g.outPlane
    {
      kind = .rowPadded
    } else {
      kind = .im2col
    }
    columns = kind == .rowPadded ? span : g.outPlane
  }

  /// image [C, H, W] → the block [C·k·k, columns] at `cols`, rows `rowStride` apart.
  public func lower(
    _ image: UnsafePointer<Float>, _ cols: UnsafeMutablePointer<Float>, rowStride: Int
  ) {
    let g = geometry
    switch kind {
    case .im2col: Im2col.im2col(g, image: image, columns: cols, rowStride: rowStride)
    case .identity:
      for c in 0..<g.channels {
        (cols + c * rowStride).update(from: image + c * g.inPlane, count: columns)
      }
    case .rowPadded:
      var row = cols
      for c in 0..<g.channels {
        for ki in 0..<g.kernelHeight {
          for kj in 0..<g.kernel {
            row.update(from: image + c * g.inPlane + ki * g.width + kj, count: columns)
            row += rowStride
          }
        }
      }
    }
  }

  /// The adjoint of `lower`: image = Σ of the column entries taken from each pixel.
  public func raise(
    _ cols: UnsafePointer<Float>, rowStride: Int, _ image: UnsafeMutablePointer<Float>
  ) {
    let g = geometry
    switch kind {
    case .im2col: Im2col.col2im(g, columns: cols, rowStride: rowStride, image: image)
    case .identity:
      for c in 0..<g.channels {
        (image + c * g.inPlane).update(from: cols + c * rowStride, count: columns)
      }
    case .rowPadded:
      image.update(repeating: 0, count: g.channels * g.inPlane)
      var row = cols
      for c in 0..<g.channels {
        for ki in 0..<g.kernelHeight {
          for kj in 0..<g.kernel {
            Im2col.addRow(row, image + c * g.inPlane + ki * g.width + kj, columns)
            row += rowStride
          }
        }
      }
    }
  }

  /// GEMM output [rows, columns] (rows `rowStride` apart) → [rows, Hout·Wout], plus
  /// bias[row] if given.
  public func compact(
    _ src: UnsafePointer<Float>, rowStride: Int, rows: Int, bias: UnsafePointer<Float>?,
    _ dst: UnsafeMutablePointer<Float>
  ) {
    let g = geometry
    let (lineStride, lines, width) =
      kind == .rowPadded ? (g.width, g.outHeight, g.outWidth) : (g.outPlane, 1, g.outPlane)
    for r in 0..<rows {
      let b = bias?[r] ?? 0
      for line in 0..<lines {
        let s = src + r * rowStride + line * lineStride
        let d = dst + r * g.outPlane + line * width
        for x in 0..<width { d[x] = s[x] + b }
      }
    }
  }

  /// [rows, Hout·Wout] → [rows, columns] (rows `rowStride` apart), zeros in junk columns.
  public func expand(
    _ src: UnsafePointer<Float>, rows: Int, _ dst: UnsafeMutablePointer<Float>, rowStride: Int
  ) {
    let g = geometry
    for r in 0..<rows {
      let row = dst + r * rowStride
      guard kind == .rowPadded else {
        row.update(from: src + r * g.outPlane, count: columns)
        continue
      }
      row.update(repeating: 0, count: columns)
      for oy in 0..<g.outHeight {
        (row + oy * g.width).update(
          from: src + r * g.outPlane + oy * g.outWidth, count: g.outWidth)
      }
    }
  }
}
