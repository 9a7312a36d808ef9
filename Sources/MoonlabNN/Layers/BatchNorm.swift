import MoonlabTensor

/// Batch normalization (Ioffe & Szegedy 2015) over the channels of [N, C] / [N, C, L]
/// (BatchNorm1d) or [N, C, H, W] (BatchNorm2d) inputs, with PyTorch's conventions:
/// train mode normalizes with the batch mean and biased variance and updates
///   running = (1 − momentum)·running + momentum·batch_stat,
/// using the unbiased variance for running_var; eval mode uses the running statistics.
/// γ (`weight`) starts at 1, β (`bias`) at 0; `num_batches_tracked` counts updates so
/// checkpoints carry PyTorch's state_dict names.
public class BatchNorm: Module {
  public let numFeatures: Int
  public let momentum, eps: Float
  public let weight, bias, runningMean, runningVar, numBatchesTracked: Tensor

  init(features numFeatures: Int, momentum: Float, eps: Float) throws {
    guard numFeatures > 0, eps > 0, momentum >= 0, momentum <= 1 else {
      throw TensorError(
        "\(Self.self): need num_features > 0, eps > 0 and momentum in [0, 1], got \(numFeatures), \(eps), \(momentum)"
      )
    }
    self.numFeatures = numFeatures
    self.momentum = momentum
    self.eps = eps
    weight = Tensor(zeros: [numFeatures])
    bias = Tensor(zeros: [numFeatures])
    runningMean = Tensor(zeros: [numFeatures])
    runningVar = Tensor(zeros: [numFeatures])
    numBatchesTracked = Tensor(zeros: [])
    super.init()
    Init.constant(weight, 1)
    Init.constant(runningVar, 1)
    param("weight", weight)
    param("bias", bias)
    buffer("running_mean", runningMean)
    buffer("running_var", runningVar)
    buffer("num_batches_tracked", numBatchesTracked)
  }

  public override var extraDescription: String {
    "\(numFeatures), momentum \(momentum), eps \(eps)"
  }

  /// Whether `shape` is an input this variant accepts.
  func accepts(_ shape: [Int]) -> Bool { false }
  var expectedInput: String { "" }

  public override func forward(_ x: Tensor) throws -> Tensor {
    guard accepts(x.shape), x.shape[1] == numFeatures else {
      throw TensorError(
        "\(typeName): expected input \(expectedInput), got \(describeShape(x.shape))")
    }
    let (batch, channels) = (x.shape[0], numFeatures)
    let kernel = BatchNormKernel(
      batch: batch, channels: channels, length: x.count / max(1, batch * channels))
    let m = kernel.perChannel
    // Channels per chunk so a chunk has ~64K values: waking a thread costs more than
    // normalising a small batch (see `batchChunks`).
    let minChannels = max(1, (1 << 16) / max(1, m))
    let useBatch = training
    if useBatch, m <= 1 {
      throw TensorError(
        "\(typeName): expected more than 1 value per channel when training, got input \(describeShape(x.shape))"
      )
    }
    let mean = Tensor(zeros: [channels])
    let invstd = Tensor(zeros: [channels])
    let (pm, pi) = (mean.data, invstd.data)
    if useBatch {
      let variance = Tensor(zeros: [channels])
      let pv = variance.data
      Parallel.forChunks(channels, minChunk: minChannels) {
        kernel.statistics($0, x: x.data, mean: pm, variance: pv)
      }
      let unbias = Float(m) / Float(m - 1)
      for c in 0..<channels {
        pi[c] = 1 / (pv[c] + eps).squareRoot()
        runningMean.data[c] = (1 - momentum) * runningMean.data[c] + momentum * pm[c]
        runningVar.data[c] = (1 - momentum) * runningVar.data[c] + momentum * pv[c] * unbias
      }
      numBatchesTracked.data[0] += 1
    } else {
      for c in 0..<channels {
        pm[c] = runningMean.data[c]
        pi[c] = 1 / (runningVar.data[c] + eps).squareRoot()
      }
    }
    let y = Tensor(uninitialized: x.shape)
    let (px, py, pw, pb) = (x.data, y.data, weight.data, bias.data)
    Parallel.forChunks(channels, minChunk: minChannels) {
      kernel.normalize($0, x: px, mean: pm, invstd: pi, gamma: pw, beta: pb, y: py)
    }
    return Autograd.record(typeName, output: y, inputs: [x, weight, bias]) {
      [x = x.detach(), needX = x.requiresGrad, weight] g in
      let gx = needX ? Tensor(uninitialized: x.shape) : nil
      let gw = Tensor(zeros: [channels])
      let gb = Tensor(zeros: [channels])
      let (px, pw, pg, pgx, pgw, pgb) = (x.data, weight.data, g.data, gx?.data, gw.data, gb.data)
      Parallel.forChunks(channels, minChunk: minChannels) {
        kernel.backward(
          $0, batchStatistics: useBatch, x: px, mean: mean.data, invstd: invstd.data, gamma: pw,
          gradOutput: pg,
          gradInput: pgx, gradGamma: pgw, gradBeta: pgb)
      }
      return [gx, gw, gb]
    }
  }
}

/// BatchNorm over [N, C] or [N, C, L].
public final class BatchNorm1d: BatchNorm {
  public init(_ numFeatures: Int, momentum: Float = 0.1, eps: Float = 1e-5) throws {
    try super.init(features: numFeatures, momentum: momentum, eps: eps)
  }
  override func accepts(_ shape: [Int]) -> Bool { shape.count == 2 || shape.count == 3 }
  override var expectedInput: String { "[N,\(numFeatures)] or [N,\(numFeatures),L]" }
}

/// BatchNorm over [N, C, H, W].
public final class BatchNorm2d: BatchNorm {
  public init(_ numFeatures: Int, momentum: Float = 0.1, eps: Float = 1e-5) throws {
    try super.init(features: numFeatures, momentum: momentum, eps: eps)
  }
  override func accepts(_ shape: [Int]) -> Bool { shape.count == 4 }
  override var expectedInput: String { "[N,\(numFeatures),H,W]" }
}
