/// Geometry of a 2-D convolution or pooling window over one [C,H,W] image: kernel k×k,
/// stride, zero padding. Output size follows PyTorch: ⌊(H + 2·pad − k) / stride⌋ + 1.
/// The rows may differ from the columns in kernel size and padding (`kernelHeight`,
/// `paddingHeight`; Conv1d is a 1×k kernel over a height-1 image, docs/nn.md "Conv1d");
/// `kernel` and `padding` are then the columns'.
public struct ConvGeometry: Equatable {
  public let channels, height, width, kernel, stride, padding: Int
  public let kernelHeight, paddingHeight: Int
  public let outHeight, outWidth: Int

  public init(
    channels: Int, height: Int, width: Int, kernel: Int, stride: Int, padding: Int,
    kernelHeight: Int? = nil, paddingHeight: Int? = nil
  ) {
    self.channels = channels
    self.height = height
    self.width = width
    self.kernel = kernel
    self.stride = stride
    self.padding = padding
    self.kernelHeight = kernelHeight ?? kernel
    self.paddingHeight = paddingHeight ?? padding
    outHeight = (height + 2 * self.paddingHeight - self.kernelHeight) / stride + 1
    outWidth = (width + 2 * padding - kernel) / stride + 1
  }

  /// Whether the kernel and padding are the same along rows and columns (the fast
  /// kernels, `DirectConv` and `Winograd`, take only those).
  public var isSquare: Bool { kernelHeight == kernel && paddingHeight == padding }

  /// Rows of the im2col matrix: one per (channel, ki, kj), the weight's flattened order.
  public var patchSize: Int { channels * kernelHeight * kernel }
  public var outPlane: Int { outHeight * outWidth }
  public var inPlane: Int { height * width }
}

/// im2col / col2im (Caffe's layout): the image [C,H,W] becomes a [C·k·k, Hout·Wout]
/// matrix whose column j is the receptive field of output pixel j, so a convolution is
/// one GEMM with the [Cout, C·k·k] weight. col2im is its adjoint (sums overlaps), which
/// turns the GEMM's column gradient back into the image gradient. Rows of the matrix are
/// `rowStride` floats apart, so several images can be lowered side by side into one
/// wider matrix (`ConvPlan`).
public enum Im2col {
  public static func im2col(
    _ g: ConvGeometry, image: UnsafePointer<Float>, columns: UnsafeMutablePointer<Float>,
    rowStride: Int
  ) {
    let (k, s, oh, ow) = (g.kernel, g.stride, g.outHeight, g.outWidth)
    var row = columns
    for c in 0..<g.channels {
      let plane = image + c * g.inPlane
      for ki in 0..<g.kernelHeight {
        for kj in 0..<k {
          // Output columns lo..<hi read inside the image; the rest read padding.
          let (lo, hi) = g.insideColumns(kj)
          for oy in 0..<oh {
            let y = oy * s - g.paddingHeight + ki
            let dst = row + oy * ow
            guard y >= 0 && y < g.height, lo < hi else {
              dst.update(repeating: 0, count: ow)
              continue
            }
            dst.update(repeating: 0, count: lo)
            (dst + hi).update(repeating: 0, count: ow - hi)
            let src = plane + y * g.width + lo * s - g.padding + kj
            if s == 1 {
              copyRow(src, dst + lo, hi - lo)
            } else {
              for ox in 0..<hi - lo { dst[lo + ox] = src[ox * s] }
            }
          }
          row += rowStride
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

  /// dst[i] += src[i] for a short row, with inline vector operations (see `copyRow`).
  @inline(__always)
  static func addRow(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ n: Int) {
    var i = 0
    while i + 8 <= n {
      let v = UnsafeRawPointer(src + i).loadUnaligned(as: SIMD8<Float>.self)
      let d = UnsafeRawPointer(dst + i).loadUnaligned(as: SIMD8<Float>.self)
      UnsafeMutableRawPointer(dst + i).storeBytes(of: d + v, as: SIMD8<Float>.self)
      i += 8
    }
    while i < n {
      dst[i] += src[i]
      i += 1
    }
  }

  /// Adds every column entry back to the input pixel it was copied from (`image` is
  /// overwritten with the sum).
  public static func col2im(
    _ g: ConvGeometry, columns: UnsafePointer<Float>, rowStride: Int,
    image: UnsafeMutablePointer<Float>
  ) {
    let (k, s, oh, ow) = (g.kernel, g.stride, g.outHeight, g.outWidth)
    image.update(repeating: 0, count: g.channels * g.inPlane)
    var row = columns
    for c in 0..<g.channels {
      let plane = image + c * g.inPlane
      for ki in 0..<g.kernelHeight {
        for kj in 0..<k {
          let (lo, hi) = g.insideColumns(kj)
          for oy in 0..<oh where lo < hi {
            let y = oy * s - g.paddingHeight + ki
            if y < 0 || y >= g.height { continue }
            let src = row + oy * ow + lo
            let dst = plane + y * g.width + lo * s - g.padding + kj
            if s == 1 {
              addRow(src, dst, hi - lo)
            } else {
              for ox in 0..<hi - lo { dst[ox * s] += src[ox] }
            }
          }
          row += rowStride
        }
      }
    }
  }
}

extension ConvGeometry {
  /// The output columns lo..<hi whose tap kj reads inside the image (x = ox·s − p + kj in
  /// 0..<W); the others read zero padding.
  func insideColumns(_ kj: Int) -> (Int, Int) {
    let (before, last) = (padding - kj, width - 1 + padding - kj)
    let lo = before <= 0 ? 0 : min(outWidth, (before + stride - 1) / stride)
    let hi = last < 0 ? 0 : min(outWidth, last / stride + 1)
    return (lo, max(lo, hi))
  }
}
