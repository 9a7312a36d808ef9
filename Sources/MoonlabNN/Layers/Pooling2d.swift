import MoonlabTensor

/// MaxPool2d and AvgPool2d: k×k windows, stride k by default, no padding, over
/// [N, C, H, W]; the N·C planes are split across threads.
public class Pool2d: Module {
  public let kernelSize, stride: Int

  init(kernelSize: Int, stride: Int?) throws {
    let s = stride ?? kernelSize
    guard kernelSize > 0, s > 0 else {
      throw TensorError(
        "\(Self.self): kernel size and stride must be positive, got \(kernelSize) and \(s)")
    }
    self.kernelSize = kernelSize
    self.stride = s
  }

  public override var extraDescription: String {
    "kernel \(kernelSize)" + (stride != kernelSize ? ", stride \(stride)" : "")
  }

  /// The window geometry for `x` (channels 1: planes are pooled one by one) and the
  /// output tensor, after checking the input.
  func prepare(_ x: Tensor) throws -> (ConvGeometry, planes: Int, output: Tensor) {
    guard x.rank == 4, x.shape[2] >= kernelSize, x.shape[3] >= kernelSize else {
      throw TensorError(
        "\(typeName): expected input [N,C,H,W] with H and W ≥ \(kernelSize), got \(describeShape(x.shape))"
      )
    }
    let geo = ConvGeometry(
      channels: 1, height: x.shape[2], width: x.shape[3], kernel: kernelSize, stride: stride,
      padding: 0)
    let y = Tensor(uninitialized: [x.shape[0], x.shape[1], geo.outHeight, geo.outWidth])
    return (geo, x.shape[0] * x.shape[1], y)
  }
}

/// Keeps each window's argmax from forward (one float per output: a quarter of the input
/// for 2×2 windows, and no reference to the input), so backward is a single scatter.
public final class MaxPool2d: Pool2d {
  public init(_ kernelSize: Int, stride: Int? = nil) throws {
    try super.init(kernelSize: kernelSize, stride: stride)
  }

  public override func forward(_ x: Tensor) throws -> Tensor {
    let (geo, planes, y) = try prepare(x)
    let argmax = Tensor(uninitialized: y.shape)
    let (px, py, pa) = (x.data, y.data, argmax.data)
    Parallel.forChunks(planes, minChunk: 16) {
      Pooling.maxForward(geo, planes: $0, input: px, output: py, argmax: pa)
    }
    return Autograd.record(typeName, output: y, inputs: [x]) { [shape = x.shape] g in
      let gx = Tensor(uninitialized: shape)
      let (pg, pgx, pa) = (g.data, gx.data, argmax.data)
      Parallel.forChunks(planes, minChunk: 16) {
        Pooling.maxBackward(geo, planes: $0, argmax: pa, gradOutput: pg, gradInput: pgx)
      }
      return [gx]
    }
  }
}

public final class AvgPool2d: Pool2d {
  public init(_ kernelSize: Int, stride: Int? = nil) throws {
    try super.init(kernelSize: kernelSize, stride: stride)
  }

  public override func forward(_ x: Tensor) throws -> Tensor {
    let (geo, planes, y) = try prepare(x)
    let (px, py) = (x.data, y.data)
    Parallel.forChunks(planes, minChunk: 16) {
      Pooling.averageForward(geo, planes: $0, input: px, output: py)
    }
    return Autograd.record(typeName, output: y, inputs: [x]) { [shape = x.shape] g in
      let gx = Tensor(uninitialized: shape)
      let (pg, pgx) = (g.data, gx.data)
      Parallel.forChunks(planes, minChunk: 16) {
        Pooling.averageBackward(geo, planes: $0, gradOutput: pg, gradInput: pgx)
      }
      return [gx]
    }
  }
}
