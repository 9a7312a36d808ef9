/// 2-D max and average pooling over `planes` independent [H,W] planes (N·C of them),
/// no padding, window and stride from `g` (its `channels` is ignored). Each kernel runs
/// on a range of planes so callers can split the batch with `Parallel.forChunks`.
public enum Pooling {
  /// Max over each window; ties and NaN go to the first element, as PyTorch's CPU kernel.
  /// `argmax` receives each maximum's place in its window, ky·k + kx, as a float (exact
  /// below 2²⁴, and k² never gets near that): it lives in a pooled tensor, so a training
  /// step allocates no fresh memory for it, and backward is a scatter.
  public static func maxForward(
    _ g: ConvGeometry, planes: Range<Int>, input: UnsafePointer<Float>,
    output: UnsafeMutablePointer<Float>, argmax places: UnsafeMutablePointer<Float>
  ) {
    for plane in planes {
      let src = input + plane * g.inPlane
      let dst = output + plane * g.outPlane
      let pos = places + plane * g.outPlane
      for oy in 0..<g.outHeight {
        for ox in 0..<g.outWidth {
          let o = oy * g.outWidth + ox
          if g.kernel == 2 && g.stride == 2 {
            (pos[o], dst[o]) = max2x2(g.width, src, oy, ox)
          } else {
            let best = argmax(g, src, oy, ox)
            dst[o] = src[windowOffset(g, oy, ox, best)]
            pos[o] = Float(best)
          }
        }
      }
    }
  }

  /// Each output's gradient goes to the input pixel `maxForward` picked (added up where
  /// overlapping windows picked the same pixel).
  public static func maxBackward(
    _ g: ConvGeometry, planes: Range<Int>, argmax places: UnsafePointer<Float>,
    gradOutput: UnsafePointer<Float>, gradInput: UnsafeMutablePointer<Float>
  ) {
    for plane in planes {
      let pos = places + plane * g.outPlane
      let gout = gradOutput + plane * g.outPlane
      let gin = gradInput + plane * g.inPlane
      gin.update(repeating: 0, count: g.inPlane)
      for oy in 0..<g.outHeight {
        for ox in 0..<g.outWidth {
          let o = oy * g.outWidth + ox
          gin[windowOffset(g, oy, ox, Int(pos[o]))] += gout[o]
        }
      }
    }
  }

  /// The plane offset of place `pos` (ky·k + kx) in output (oy, ox)'s window.
  @inline(__always)
  static func windowOffset(_ g: ConvGeometry, _ oy: Int, _ ox: Int, _ pos: Int) -> Int {
    // Shifts for the usual 2×2 windows: a division per output costs more than the scatter.
    let (ky, kx) = g.kernel == 2 ? (pos >> 1, pos & 1) : pos.quotientAndRemainder(dividingBy: g.kernel)
    return (oy * g.stride + ky) * g.width + ox * g.stride + kx
  }

  /// The place (ky·k + kx) of the window's first maximum, or of its first NaN.
  @inline(__always)
  static func argmax(_ g: ConvGeometry, _ src: UnsafePointer<Float>, _ oy: Int, _ ox: Int) -> Int {
    let corner = src + oy * g.stride * g.width + ox * g.stride
    var best = 0
    var bestValue = corner[0]
    for ky in 0..<g.kernel {
      for kx in 0..<g.kernel {
        let v = corner[ky * g.width + kx]
        if v > bestValue || v.isNaN {
          bestValue = v
          best = ky * g.kernel + kx
          if v.isNaN { return best }
        }
      }
    }
    return best
  }

  /// (`argmax`, maximum) of a 2×2 window at stride 2, same tie and NaN rules, unrolled and
  /// written with selects so the compiler emits conditional moves, not branches
  /// (data-dependent branches mispredict half the time).
  @inline(__always)
  static func max2x2(_ width: Int, _ src: UnsafePointer<Float>, _ oy: Int, _ ox: Int)
    -> (Float, Float)
  {
    let a = src + 2 * oy * width + 2 * ox
    let (va, vb, vc, vd) = (a[0], a[1], a[width], a[width + 1])
    if va.isNaN || vb.isNaN || vc.isNaN || vd.isNaN {
      return (va.isNaN ? 0 : vb.isNaN ? 1 : vc.isNaN ? 2 : 3, .nan)
    }
    let takeB = vb > va
    var best: Float = takeB ? 1 : 0
    var value = takeB ? vb : va
    let takeC = vc > value
    best = takeC ? 2 : best
    value = takeC ? vc : value
    let takeD = vd > value
    return (takeD ? 3 : best, takeD ? vd : value)
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
