import MoonlabTensor

/// Output index → input range [start, end) along one spatial axis.
struct AxisWindows {
  var start: [Int] = []
  var end: [Int] = []
  var count: Int { start.count }

  /// PyTorch's adaptive pooling bins: [⌊i·n/out⌋, ⌈(i+1)·n/out⌉).
  static func adaptive(_ n: Int, _ out: Int) -> AxisWindows {
    var w = AxisWindows()
    for i in 0..<out {
      w.start.append(i * n / out)
      w.end.append(((i + 1) * n + out - 1) / out)
    }
    return w
  }

  /// Nearest-neighbour sampling for scale s: output i reads input ⌊i/s⌋ (PyTorch's
  /// 'nearest'), a window of one.
  static func nearest(_ n: Int, scale: Double) -> AxisWindows {
    var w = AxisWindows()
    for i in 0..<Int((Double(n) * scale).rounded(.down)) {
      let src = min(Int((Double(i) * (1 / scale)).rounded(.down)), n - 1)
      w.start.append(src)
      w.end.append(src + 1)
    }
    return w
  }
}

/// y[n, c, i, j] = mean of x[n, c] over rows × cols windows (AdaptiveAvgPool2d, and
/// nearest Upsample with windows of one pixel); backward spreads g/area over each window.
func windowMean(_ name: String, _ x: Tensor, rows: AxisWindows, cols: AxisWindows) -> Tensor {
  let (planes, h, w) = (x.shape[0] * x.shape[1], x.shape[2], x.shape[3])
  let (oh, ow) = (rows.count, cols.count)
  let y = Tensor(uninitialized: [x.shape[0], x.shape[1], oh, ow])
  let (px, py) = (x.data, y.data)
  Parallel.forChunks(planes, minChunk: 16) { r in
    for p in r {
      let (src, dst) = (px + p * h * w, py + p * oh * ow)
      for i in 0..<oh {
        for j in 0..<ow {
          var sum: Float = 0
          for a in rows.start[i]..<rows.end[i] {
            for b in cols.start[j]..<cols.end[j] { sum += src[a * w + b] }
          }
          let area = (rows.end[i] - rows.start[i]) * (cols.end[j] - cols.start[j])
          dst[i * ow + j] = sum / Float(area)
        }
      }
    }
  }
  return Autograd.record(name, output: y, inputs: [x]) { [shape = x.shape] g in
    let gx = Tensor(zeros: shape)
    let (pg, pgx) = (g.data, gx.data)
    Parallel.forChunks(planes, minChunk: 16) { r in
      for p in r {
        let (src, dst) = (pg + p * oh * ow, pgx + p * h * w)
        for i in 0..<oh {
          for j in 0..<ow {
            let area = (rows.end[i] - rows.start[i]) * (cols.end[j] - cols.start[j])
            let share = src[i * ow + j] / Float(area)
            for a in rows.start[i]..<rows.end[i] {
              for b in cols.start[j]..<cols.end[j] { dst[a * w + b] += share }
            }
          }
        }
      }
    }
    return [gx]
  }
}

/// Average pooling to a fixed output size [oh, ow] whatever the input's (PyTorch's bins,
/// which overlap when the size doesn't divide).
public final class AdaptiveAvgPool2d: Module {
  public let outputSize: (height: Int, width: Int)

  public init(_ height: Int, _ width: Int) throws {
    guard height > 0, width > 0 else {
      throw TensorError("AdaptiveAvgPool2d: output size must be positive, got \(height)x\(width)")
    }
    // The windows are built per output row and column, even for an empty batch.
    try Shape.validate([height, width], op: "AdaptiveAvgPool2d")
    outputSize = (height, width)
  }

  public override var extraDescription: String { "\(outputSize.height)x\(outputSize.width)" }

  public override func forward(_ x: Tensor) throws -> Tensor {
    guard x.rank == 4, x.shape[2] > 0, x.shape[3] > 0 else {
      throw TensorError(
        "AdaptiveAvgPool2d: expected input [N,C,H,W] with H, W > 0, got \(describeShape(x.shape))")
    }
    try Shape.validate(
      [x.shape[0], x.shape[1], outputSize.height, outputSize.width], op: "AdaptiveAvgPool2d")
    return windowMean(
      "AdaptiveAvgPool2d", x, rows: .adaptive(x.shape[2], outputSize.height),
      cols: .adaptive(x.shape[3], outputSize.width))
  }
}

/// Nearest-neighbour upsampling of [N, C, H, W] by `scaleFactor` (PyTorch's
/// `Upsample(scale_factor=, mode='nearest')`): output ⌊H·s⌋ × ⌊W·s⌋.
public final class Upsample: Module {
  public let scaleFactor: Double

  public init(scaleFactor: Double) throws {
    guard scaleFactor > 0, scaleFactor.isFinite else {
      throw TensorError("Upsample: scale factor must be positive, got \(scaleFactor)")
    }
    self.scaleFactor = scaleFactor
  }

  public override var extraDescription: String { "scale \(scaleFactor), nearest" }

  public override func forward(_ x: Tensor) throws -> Tensor {
    guard x.rank == 4 else {
      throw TensorError("Upsample: expected input [N,C,H,W], got \(describeShape(x.shape))")
    }
    let (h, w) = (Double(x.shape[2]) * scaleFactor, Double(x.shape[3]) * scaleFactor)
    let plane = [Int(min(h, 1e15)), Int(min(w, 1e15))]
    // The plane on its own too: its windows are built even for an empty batch.
    try Shape.validate(plane, op: "Upsample")
    try Shape.validate([x.shape[0], x.shape[1]] + plane, op: "Upsample")
    return windowMean(
      "Upsample", x, rows: .nearest(x.shape[2], scale: scaleFactor),
      cols: .nearest(x.shape[3], scale: scaleFactor))
  }
}
