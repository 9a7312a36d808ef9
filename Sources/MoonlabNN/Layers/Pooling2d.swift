import MoonlabTensor

/// MaxPool2d and AvgPool2d: k×k windows, stride k by default, no padding, over
/// [N, C, H, W]; the N·C planes are split across threads.
public class Pool2d: Module {
  public let kernelSize, stride: Int

  init(kernelSize: Int, stride: Int?) throws {
    let s = stride ?? kernelSize
    guard kernelSize > 0, s > 0 else {
      throw TensorError("\(Self.self): kernel size and stride must be positive, got \(kernelSize) and \(s)")
    }
    self.kernelSize = kernelSize
    self.stride = s
  }

  public override var extraDescription: String {
    "kernel \(kernelSize)" + (stride != kernelSize ? ", stride \(stride)" : "")
  }

  func geometry(_ x: Tensor) throws -> ConvGeometry {
    guard x.rank == 4, x.shape[2] >= kernelSize, x.shape[3] >= kernelSize else {
      throw TensorError(
        "\(typeName): expected input [N,C,H,W] with H and W ≥ \(kernelSize), got \(describeShape(x.shape))")
    }
    return ConvGeometry(
      channels: 1, height: x.shape[2], width: x.shape[3], kernel: kernelSize, stride: stride, padding: 0)
  }
}

public final class MaxPool2d: Pool2d {
  public init(_ kernelSize: Int, stride: Int? = nil) throws { try super.init(kernelSize: kernelSize, stride: stride) }

  public override func forward(_ x: Tensor) throws -> Tensor {
    let geo = try geometry(x)
    let planes = x.shape[0] * x.shape[1]
    let y = Tensor(zeros: [x.shape[0], x.shape[1], geo.outHeight, geo.outWidth])
    let (px, py) = (x.data, y.data)
    Parallel.forChunks(planes, minChunk: 16) { Pooling.maxForward(geo, planes: $0, input: px, output: py) }
    return Autograd.record("MaxPool2d", output: y, inputs: [x]) { [x = x.detach()] g in
      let gx = Tensor(zeros: x.shape)
      let (px, pg, pgx) = (x.data, g.data, gx.data)
      Parallel.forChunks(planes, minChunk: 16) {
        Pooling.maxBackward(geo, planes: $0, input: px, gradOutput: pg, gradInput: pgx)
      }
      return [gx]
    }
  }
}

public final class AvgPool2d: Pool2d {
  public init(_ kernelSize: Int, stride: Int? = nil) throws { try super.init(kernelSize: kernelSize, stride: stride) }

  public override func forward(_ x: Tensor) throws -> Tensor {
    let geo = try geometry(x)
    let planes = x.shape[0] * x.shape[1]
    let y = Tensor(zeros: [x.shape[0], x.shape[1], geo.outHeight, geo.outWidth])
    let (px, py) = (x.data, y.data)
    Parallel.forChunks(planes, minChunk: 16) { Pooling.averageForward(geo, planes: $0, input: px, output: py) }
    let shape = x.shape
    return Autograd.record("AvgPool2d", output: y, inputs: [x]) { g in
      let gx = Tensor(zeros: shape)
      let (pg, pgx) = (g.data, gx.data)
      Parallel.forChunks(planes, minChunk: 16) {
        Pooling.averageBackward(geo, planes: $0, gradOutput: pg, gradInput: pgx)
      }
      return [gx]
    }
  }
}
