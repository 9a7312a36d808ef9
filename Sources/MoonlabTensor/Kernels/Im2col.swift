/// Geometry of a 2-D convolution or pooling window over one [C,H,W] image: kernel k×k,
/// stride, zero padding. Output size follows PyTorch: ⌊(H + 2·pad − k) / stride⌋ + 1.
public struct ConvGeometry: Equatable {
  public let channels, height, width, kernel, stride, padding: Int
  public let outHeight, outWidth: Int

  public init(channels: Int, height: Int, width: Int, kernel: Int, stride: Int, padding: Int) {
    self.channels = channels
    self.height = height
    self.width = width
    self.kernel = kernel
    self.stride = stride
    self.padding = padding
    outHeight = (height + 2 * padding - kernel) / stride + 1
    outWidth = (width + 2 * padding - kernel) / stride + 1
  }

  /// Rows of the im2col matrix: one per (channel, ki, kj), the weight's flattened order.
  public var patchSize: Int { channels * kernel * kernel }
  public var outPlane: Int { outHeight * outWidth }
  public var inPlane: Int { height * width }
}

/// im2col / col2im (Caffe's layout): the image [C,H,W] becomes a [C·k·k, Hout·Wout]
/// matrix whose column j is the receptive field of output pixel j, so a convolution is
/// one GEMM with the [Cout, C·k·k] weight. col2im is its adjoint (sums overlaps), which
/// turns the GEMM's column gradient back into the image gradient.
public enum Im2col {
  public static func im2col(
    _ g: ConvGeometry, image: UnsafePointer<Float>, columns: UnsafeMutablePointer<Float>
  ) {
    let (k, s, p, oh, ow) = (g.kernel, g.stride, g.padding, g.outHeight, g.outWidth)
    var row = columns
    for c in 0..<g.channels {
      let plane = image + c * g.inPlane
      for ki in 0..<k {
        for kj in 0..<k {
          for oy in 0..<oh {
            let y = oy * s - p + ki
            let dst = row + oy * ow
            if y < 0 || y >= g.height {
              dst.update(repeating: 0, count: ow)
              continue
            }
            let src = plane + y * g.width
            if s == 1 && p == 0 {
              // The common case (LeNet): a contiguous run of the input row.
              copyRow(src + kj, dst, ow)
            } else {
              for ox in 0..<ow {
                let x = ox * s - p + kj
                dst[ox] = x >= 0 && x < g.width ? src[x] : 0
              }
            }
          }
          row += oh * ow
        }
      }
    }
  }

  /// Copies a short row (LeNet: 28 or 10 floats) with inline vector moves: a memmove
  /// call per row cost more than the copy itself (one call per row, ~10⁶ rows a step).
  @inline(__always)
  static func copyRow(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ n: Int) {
    var i = 0
    while i + 8 <= n {
      let v = UnsafeRawPointer(src + i).loadUnaligned(as: SIMD8<Float>.self)
      UnsafeMutableRawPointer(dst + i).storeBytes(of: v, as: SIMD8<Float>.self)
      i += 8
    }
    while i < n {
      dst[i] = src[i]
      i += 1
    }
  }

  /// Adds every column entry back to the input pixel it was copied from (`image` is
  /// overwritten with the sum).
  public static func col2im(
    _ g: ConvGeometry, columns: UnsafePointer<Float>, image: UnsafeMutablePointer<Float>
  ) {
    let (k, s, p, oh, ow) = (g.kernel, g.stride, g.padding, g.outHeight, g.outWidth)
    image.update(repeating: 0, count: g.channels * g.inPlane)
    var row = columns
    for c in 0..<g.channels {
      let plane = image + c * g.inPlane
      for ki in 0..<k {
        for kj in 0..<k {
          for oy in 0..<oh {
            let y = oy * s - p + ki
            if y < 0 || y >= g.height { continue }
            let src = row + oy * ow
            let dst = plane + y * g.width
            if s == 1 && p == 0 {
              let d = dst + kj
              for ox in 0..<ow { d[ox] += src[ox] }
            } else {
              for ox in 0..<ow {
                let x = ox * s - p + kj
                if x >= 0 && x < g.width { dst[x] += src[ox] }
              }
            }
          }
          row += oh * ow
        }
      }
    }
  }
}

/// How a convolution lowers one image to GEMM columns. Stride-1 unpadded convolutions
/// whose images are not much wider than their outputs (LeNet's first layer: 32 vs 28) use
/// the row-padded layout: column p stands for input offset p in a channel plane, so output
/// pixel (oy, ox) is column oy·W + ox, and row (c, ki, kj) of the matrix is the contiguous
/// run plane_c[ki·W + kj ..< + span] — one long copy per row instead of one short copy
/// per output row. The W − Wout columns between output rows are junk: the GEMM results
/// there are dropped (`compact`) and the gradients fed in there are zero (`expand`).
/// Everything else uses the classic im2col layout above.
public struct ConvLowering {
  public let geometry: ConvGeometry
  public let rowPadded: Bool
  /// Columns of the lowered matrix: Hout·Wout, or (Hout − 1)·W + Wout row-padded.
  public let columns: Int

  public init(_ g: ConvGeometry) {
    geometry = g
    let span = (g.outHeight - 1) * g.width + g.outWidth
    // Junk columns cost GEMM work; above +50% the short copies are the cheaper evil
    // (LeNet: +14% for the first conv, +36% for the second; both measured faster padded).
    rowPadded = g.stride == 1 && g.padding == 0 && 2 * span <= 3 * g.outPlane
    columns = rowPadded ? span : g.outPlane
  }

  /// image [C, H, W] → columns [C·k·k, columns].
  public func lower(_ image: UnsafePointer<Float>, _ cols: UnsafeMutablePointer<Float>) {
    guard rowPadded else { return Im2col.im2col(geometry, image: image, columns: cols) }
    let g = geometry
    var row = cols
    for c in 0..<g.channels {
      for ki in 0..<g.kernel {
        for kj in 0..<g.kernel {
          row.update(from: image + c * g.inPlane + ki * g.width + kj, count: columns)
          row += columns
        }
      }
    }
  }

  /// The adjoint of `lower`: image = Σ of the column entries taken from each pixel.
  public func raise(_ cols: UnsafePointer<Float>, _ image: UnsafeMutablePointer<Float>) {
    guard rowPadded else { return Im2col.col2im(geometry, columns: cols, image: image) }
    let g = geometry
    image.update(repeating: 0, count: g.channels * g.inPlane)
    var row = cols
    for c in 0..<g.channels {
      for ki in 0..<g.kernel {
        for kj in 0..<g.kernel {
          let dst = image + c * g.inPlane + ki * g.width + kj
          for p in 0..<columns { dst[p] += row[p] }
          row += columns
        }
      }
    }
  }

  /// Row-padded GEMM output [rows, columns] → [rows, Hout·Wout], plus bias[row] if given.
  public func compact(
    _ src: UnsafePointer<Float>, rows: Int, bias: UnsafePointer<Float>?,
    _ dst: UnsafeMutablePointer<Float>
  ) {
    let g = geometry
    for r in 0..<rows {
      let b = bias?[r] ?? 0
      for oy in 0..<g.outHeight {
        let s = src + r * columns + oy * g.width
        let d = dst + r * g.outPlane + oy * g.outWidth
        for ox in 0..<g.outWidth { d[ox] = s[ox] + b }
      }
    }
  }

  /// [rows, Hout·Wout] → row-padded [rows, columns] with zeros in the junk columns.
  public func expand(_ src: UnsafePointer<Float>, rows: Int, _ dst: UnsafeMutablePointer<Float>) {
    let g = geometry
    dst.update(repeating: 0, count: rows * columns)
    for r in 0..<rows {
      for oy in 0..<g.outHeight {
        (dst + r * columns + oy * g.width).update(
          from: src + r * g.outPlane + oy * g.outWidth, count: g.outWidth)
      }
    }
  }
}
