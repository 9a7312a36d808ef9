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

  typealias Kernel = (ConvGeometry, Range<Int>, UnsafePointer<Float>, UnsafeMutablePointer<Float>)
    -> Void
  /// (geometry, planes, input, gradOutput, gradInput)
  typealias BackwardKernel = (
    ConvGeometry, Range<Int>, UnsafePointer<Float>, UnsafePointer<Float>,
    UnsafeMutablePointer<Float>
  ) -> Void

  /// One node: `kernel` over plane chunks forward, `backwardKernel` in backward.
  func pool(_ x: Tensor, _ kernel: @escaping Kernel, _ backwardKernel: @escaping BackwardKernel)
    throws -> Tensor
  {
    guard x.rank == 4, x.shape[2] >= kernelSize, x.shape[3] >= kernelSize else {
      throw TensorError(
        "\(typeName): expected input [N,C,H,W] with H and W ≥ \(kernelSize), got \(describeShape(x.shape))"
      )
    }
    let geo = ConvGeometry(
      channels: 1, height: x.shape[2], width: x.shape[3], kernel: kernelSize, stride: stride,
      padding: 0)
    let planes = x.shape[0] * x.shape[1]
    let y = Tensor(uninitialized: [x.shape[0], x.shape[1], geo.outHeight, geo.outWidth])
    let (px, py) = (x.data, y.data)
    Parallel.forChunks(planes, minChunk: 16) { kernel(geo, $0, px, py) }
    return Autograd.record(typeName, output: y, inputs: [x]) { [x = x.detach()] g in
      let gx = Tensor(uninitialized: x.shape)
      let (px, pg, pgx) = (x.data, g.data, gx.data)
      Parallel.forChunks(planes, minChunk: 16) { backwardKernel(geo, $0, px, pg, pgx) }
      return [gx]
    }
  }
}

public final class MaxPool2d: Pool2d {
  public init(_ kernelSize: Int, stride: Int? = nil) throws {
    try super.init(kernelSize: kernelSize, stride: stride)
  }

  public override func forward(_ x: Tensor) throws -> Tensor {
    try pool(
      x, { Pooling.maxForward($0, planes: $1, input: $2, output: $3) },
      { Pooling.maxBackward($0, planes: $1, input: $2, gradOutput: $3, gradInput: $4) })
  }
}

public final class AvgPool2d: Pool2d {
  public init(_ kernelSize: Int, stride: Int? = nil) throws {
    try super.init(kernelSize: kernelSize, stride: stride)
  }

  public override func forward(_ x: Tensor) throws -> Tensor {
    try pool(
      x, { Pooling.averageForward($0, planes: $1, input: $2, output: $3) },
      { Pooling.averageBackward($0, planes: $1, gradOutput: $3, gradInput: $4) })
  }
}
