/// 2-D max and average pooling over `planes` independent [H,W] planes (N·C of them),
/// no padding, window and stride from `g` (its `channels` is ignored). Each kernel runs
/// on a range of planes so callers can split the batch with `Parallel.forChunks`.
public enum Pooling {
  /// Max over each window; ties and NaN go to the first element, as PyTorch's CPU kernel.
  /// `argmax` receives each maximum's offset in its [H,W] plane, so backward is a scatter.
  public static func maxForward(
    _ g: ConvGeometry, planes: Range<Int>, input: UnsafePointer<Float>,
    output: UnsafeMutablePointer<Float>, argmax indices: UnsafeMutablePointer<Int32>
  ) {
    for plane in planes {
      let src = input + plane * g.inPlane
      let dst = output + plane * g.outPlane
      let idx = indices + plane * g.outPlane
      if g.kernel == 2 && g.stride == 2 {
        for oy in 0..<g.outHeight {
          for ox in 0..<g.outWidth {
            let (best, value) = argmax2x2(g.width, src, oy, ox)
            dst[oy * g.outWidth + ox] = value
            idx[oy * g.outWidth + ox] = Int32(truncatingIfNeeded: best)
          }
        }
        continue
      }
      for oy in 0..<g.outHeight {
        for ox in 0..<g.outWidth {
          let best = argmax(g, src, oy, ox)
          dst[oy * g.outWidth + ox] = src[best]
          idx[oy * g.outWidth + ox] = Int32(truncatingIfNeeded: best)
        }
      }
    }
  }

  /// Each output's gradient goes to the input pixel `maxForward` picked (added up where
  /// overlapping windows picked the same pixel).
  public static func maxBackward(
    _ g: ConvGeometry, planes: Range<Int>, argmax indices: UnsafePointer<Int32>,
    gradOutput: UnsafePointer<Float>, gradInput: UnsafeMutablePointer<Float>
  ) {
    for plane in planes {
      let idx = indices + plane * g.outPlane
      let gout = gradOutput + plane * g.outPlane
      let gin = gradInput + plane * g.inPlane
      gin.update(repeating: 0, count: g.inPlane)
      for o in 0..<g.outPlane { gin[Int(idx[o])] += gout[o] }
    }
  }

  @inline(__always)
  static func argmax(_ g: ConvGeometry, _ src: UnsafePointer<Float>, _ oy: Int, _ ox: Int) -> Int {
    let y0 = oy * g.stride
    let x0 = ox * g.stride
    var best = y0 * g.width + x0
    var bestValue = src[best]
    for ky in 0..<g.kernel {
      let row = (y0 + ky) * g.width + x0
      for kx in 0..<g.kernel {
        let v = src[row + kx]
        if v > bestValue || v.isNaN {
          bestValue = v
          best = row + kx
          if v.isNaN { return best }
        }
      }
    }
    return best
  }

  /// `argmax` for a 2×2 window at stride 2, with the maximum, same tie and NaN rules,
  /// unrolled and written with selects so the compiler emits conditional moves, not
  /// branches (data-dependent branches mispredict half the time).
  @inline(__always)
  static func argmax2x2(_ width: Int, _ src: UnsafePointer<Float>, _ oy: Int, _ ox: Int)
    -> (Int, Float)
  {
    let a = 2 * oy * width + 2 * ox
    let b = a + 1
    let c = a + width
    let d = c + 1
    let va = src[a]
    let vb = src[b]
    let vc = src[c]
    let vd = src[d]
    if va.isNaN || vb.isNaN || vc.isNaN || vd.isNaN {
      let first = va.isNaN ? a : vb.isNaN ? b : vc.isNaN ? c : d
      return (first, .nan)
    }
    let takeB = vb > va
    var best = takeB ? b : a
    var value = takeB ? vb : va
    let takeC = vc > value
    best = takeC ? c : best
    value = takeC ? vc : value
    let takeD = vd > value
    return (takeD ? d : best, takeD ? vd : value)
  }

  public static func averageForward(
    _ g: ConvGeometry, planes: Range<Int>, input: UnsafePointer<Float>,
    output: UnsafeMutablePointer<Float>
  ) {
    let scale = 1 / Float(g.kernel * g.kernel)
    for plane in planes {
      let src = input + plane * g.inPlane
      let dst = output + plane * g.outPlane
      for oy in 0..<g.outHeight {
        for ox in 0..<g.outWidth {
          var sum: Float = 0
          for ky in 0..<g.kernel {
            let row = src + (oy * g.stride + ky) * g.width + ox * g.stride
            for kx in 0..<g.kernel { sum += row[kx] }
          }
          dst[oy * g.outWidth + ox] = sum * scale
        }
      }
    }
  }

  /// Each input pixel gets 1/k² of the gradient of every window that contains it.
  public static func averageBackward(
    _ g: ConvGeometry, planes: Range<Int>, gradOutput: UnsafePointer<Float>,
    gradInput: UnsafeMutablePointer<Float>
  ) {
    let scale = 1 / Float(g.kernel * g.kernel)
    for plane in planes {
      let gout = gradOutput + plane * g.outPlane
      let gin = gradInput + plane * g.inPlane
      gin.update(repeating: 0, count: g.inPlane)
      for oy in 0..<g.outHeight {
        for ox in 0..<g.outWidth {
          let v = gout[oy * g.outWidth + ox] * scale
          for ky in 0..<g.kernel {
            let row = gin + (oy * g.stride + ky) * g.width + ox * g.stride
            for kx in 0..<g.kernel { row[kx] += v }
          }
        }
      }
    }
  }
}
