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
  /// Adds per-channel sums over the processes of a data-parallel run, in the same order on
  /// every process, so that training normalises with the whole global batch's statistics
  /// (PyTorch's SyncBatchNorm; lab.fit{bn_stats = 'sync'}, docs/scale-out.md). nil: this
  /// process's batch only.
  public var crossProcessSum: ((inout [Double]) throws -> Void)?

  init(features numFeatures: Int, momentum: Float, eps: Float) throws {
    guard numFeatures > 0, eps > 0, momentum >= 0, momentum <= 1 else {
      throw TensorError(
        "\(Self.self): need num_features > 0, eps > 0 and momentum in [0, 1], got \(numFeatures), \(eps), \(momentum)"
      )
    }
    try Shape.validate([5, numFeatures], op: "\(Self.self)")  // its five tensors, before allocating
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

  /// Throws unless `x` is an input this layer takes.
  func check(_ x: Tensor) throws {
    guard accepts(x.shape), x.shape[1] == numFeatures else {
      throw TensorError(
        "\(typeName): expected input \(expectedInput), got \(describeShape(x.shape))")
    }
  }

  public override func forward(_ x: Tensor) throws -> Tensor {
    try forward(x, adding: nil, relu: false)
  }

  /// BatchNorm, then `+ residual` (same shape as x) if given, then ReLU if `relu`, as one
  /// pass and one tape node ("BatchNorm2d+add+ReLU"). Outputs, running statistics and
  /// gradients are bit-identical to running the BatchNorm, add and ReLU ops one by one
  /// (docs/nn.md, "Fused BatchNorm"); `Sequential` and `Residual` call this.
  public func forward(_ x: Tensor, adding residual: Tensor?, relu: Bool) throws -> Tensor {
    try check(x)
    if let residual, residual.shape != x.shape {
      throw TensorError(
        "\(typeName): the added tensor \(describeShape(residual.shape)) differs from the input \(describeShape(x.shape))"
      )
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
    let mean = Tensor(uninitialized: [channels])
    let invstd = Tensor(uninitialized: [channels])
    let variance = Tensor(uninitialized: [channels])
    let (pm, pi, pv) = (mean.data, invstd.data, variance.data)
    if !useBatch {
      for c in 0..<channels {
        pm[c] = runningMean.data[c]
        pi[c] = 1 / (runningVar.data[c] + eps).squareRoot()
      }
    }
    let y = Tensor(uninitialized: x.shape)
    let (px, py, pw, pb, pr) = (x.data, y.data, weight.data, bias.data, residual?.data)
    let eps = eps
    // The values per channel behind the batch statistics: every rank's under sync.
    let sync = useBatch ? crossProcessSum : nil
    var count = m
    if let sync {
      count = try synchronizedStatistics(kernel, x: px, minChannels: minChannels, sync, pm, pv, pi)
    }
    // Statistics and normalisation one channel at a time: the channel's values (512 KB at
    // batch 128, 32×32) are still in L2 for the second and third pass over them.
    Parallel.forChunks(channels, minChunk: minChannels) { range in
      for c in range {
        if useBatch, sync == nil {
          kernel.statistics(c..<c + 1, x: px, mean: pm, variance: pv)
          pi[c] = 1 / (pv[c] + eps).squareRoot()
        }
        kernel.normalize(
          c..<c + 1, x: px, mean: pm, invstd: pi, gamma: pw, beta: pb,
          residual: pr.map { UnsafePointer($0) }, relu: relu, y: py)
      }
    }
    if useBatch {
      let unbias = Float(count) / Float(count - 1)
      for c in 0..<channels {
        runningMean.data[c] = (1 - momentum) * runningMean.data[c] + momentum * pm[c]
        runningVar.data[c] = (1 - momentum) * runningVar.data[c] + momentum * pv[c] * unbias
      }
      numBatchesTracked.data[0] += 1
      for buffer in [runningMean, runningVar, numBatchesTracked] { buffer.markWritten() }
    }
    let name = typeName + (residual != nil ? "+add" : "") + (relu ? "+ReLU" : "")
    let inputs = [x, weight, bias] + (residual.map { [$0] } ?? [])
    // ReLU's backward needs only where the output is positive: keep y (a view without
    // this node, so the closure doesn't retain its own output's node).
    return Autograd.record(name, output: y, inputs: inputs) {
      [
        x = x.detach(), y = relu ? y.detach() : nil, needX = x.requiresGrad,
        hasResidual = residual != nil, needResidual = residual?.requiresGrad ?? false, weight
      ] g in
      let gx = needX ? Tensor(uninitialized: x.shape) : nil
      // Without ReLU the residual's gradient is g itself, as the add op's is.
      let gr = needResidual ? (y != nil ? Tensor(uninitialized: x.shape) : g) : nil
      let gw = Tensor(uninitialized: [channels])
      let gb = Tensor(uninitialized: [channels])
      let (px, py, pw, pg) = (x.data, y?.data, weight.data, g.data)
      let (pgx, pgr, pgw, pgb) = (gx?.data, gr?.data, gw.data, gb.data)
      let (py0, pgr0) = (py.map { UnsafePointer($0) }, y != nil ? pgr : nil)
      guard let sync else {
        Parallel.forChunks(channels, minChunk: minChannels) {
          kernel.backward(
            $0, batchStatistics: useBatch, x: px, mean: mean.data, invstd: invstd.data,
            gamma: pw, gradOutput: pg, reluOutput: py0, gradInput: pgx, gradResidual: pgr0,
            gradGamma: pgw, gradBeta: pgb)
        }
        return [gx, gw, gb] + (hasResidual ? [gr] : [])
      }
      // SyncBatchNorm: dγ and dβ stay this rank's (the gradient sum adds the ranks'); dx
      // needs Σg and Σg·(x − mean) over every rank's values.
      var sums = [Double](repeating: 0, count: 2 * channels)
      sums.withUnsafeMutableBufferPointer { s in
        Parallel.forChunks(channels, minChunk: minChannels) { range in
          for c in range {
            (s[2 * c], s[2 * c + 1]) = kernel.gradientSums(
              c, x: px, mean: mean.data[c], gradOutput: pg, reluOutput: py0, gradResidual: pgr0)
            pgw[c] = Float(s[2 * c + 1] * Double(invstd.data[c]))
            pgb[c] = Float(s[2 * c])
          }
        }
      }
      try sync(&sums)
      if let pgx {
        Parallel.forChunks(channels, minChunk: minChannels) { range in
          for c in range {
            kernel.inputGradient(
              c, batchStatistics: true, sums: (sums[2 * c], sums[2 * c + 1]), count: count,
              x: px, mean: mean.data[c], invstd: invstd.data[c], gamma: pw[c], gradOutput: pg,
              reluOutput: py0, gradResidual: pgr0, gradInput: pgx)
          }
        }
      }
      return [gx, gw, gb] + (hasResidual ? [gr] : [])
    }
  }
}

extension BatchNorm {
  /// Batch mean, variance and 1/√(var + eps) over every rank's values (`sync` adds the
  /// ranks' per-channel sums): Σx, then Σ(x − mean)², as `BatchNormKernel.statistics`
  /// takes them over one batch. Returns how many values per channel that was.
  func synchronizedStatistics(
    _ kernel: BatchNormKernel, x: UnsafePointer<Float>, minChannels: Int,
    _ sync: (inout [Double]) throws -> Void, _ mean: UnsafeMutablePointer<Float>,
    _ variance: UnsafeMutablePointer<Float>, _ invstd: UnsafeMutablePointer<Float>
  ) throws -> Int {
    let channels = numFeatures
    var sums = [Double](repeating: 0, count: channels + 1)
    sums.withUnsafeMutableBufferPointer { s in
      Parallel.forChunks(channels, minChunk: minChannels) { range in
        for c in range { s[c] = kernel.sum(c, x: x) }
      }
    }
    sums[channels] = Double(kernel.perChannel)
    try sync(&sums)
    let count = sums[channels]
    for c in 0..<channels { mean[c] = Float(sums[c] / count) }
    var squares = [Double](repeating: 0, count: channels)
    squares.withUnsafeMutableBufferPointer { s in
      Parallel.forChunks(channels, minChunk: minChannels) { range in
        for c in range { s[c] = kernel.squaredDeviations(c, x: x, from: mean[c]) }
      }
    }
    try sync(&squares)
    for c in 0..<channels {
      variance[c] = Float(squares[c] / count)
      invstd[c] = 1 / (variance[c] + eps).squareRoot()
    }
    return Int(count)
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
