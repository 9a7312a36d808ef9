import MoonlabTensor

/// Scales the lr by a factor moving linearly from `startFactor` to `endFactor` over
/// `totalIters` epochs, then staying there — `torch.optim.lr_scheduler.LinearLR`:
/// lr(t) = base · (start + (end − start) · min(t, total) / total).
/// A linear warmup is LinearLR(start_factor = 0.01) in front of another schedule in a
/// SequentialLR (or Warmup, which multiplies instead of following).
public final class LinearLR: LRSchedule {
  public let startFactor, endFactor: Double
  public let totalIters: Int

  public init(
    _ optimizer: Optimizer, startFactor: Double = 1.0 / 3, endFactor: Double = 1,
    totalIters: Int = 5
  ) throws {
    guard startFactor > 0, startFactor <= 1 else {
      throw TensorError("LinearLR: start_factor \(startFactor) must be in (0, 1]")
    }
    guard endFactor >= 0, endFactor <= 1 else {
      throw TensorError("LinearLR: end_factor \(endFactor) must be in [0, 1]")
    }
    guard totalIters >= 1 else {
      throw TensorError("LinearLR: total_iters \(totalIters) must be ≥ 1")
    }
    self.startFactor = startFactor
    self.endFactor = endFactor
    self.totalIters = totalIters
    try super.init(optimizer)
  }

  public override func lr(at epoch: Int, base: Double) -> Double {
    base
      * (startFactor
        + (endFactor - startFactor) * Double(min(epoch, totalIters)) / Double(totalIters))
  }
}
