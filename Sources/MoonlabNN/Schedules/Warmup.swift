import MoonlabTensor

/// Linear warmup in front of another schedule: its lr scaled by
///
///     lr(t) = inner.lr(t) · min(1, (t + 1) / steps)
///
/// so the first step runs at 1/steps of the lr, and from epoch steps − 1 on the inner
/// schedule runs unchanged. In PyTorch this is `LinearLR(start_factor=1/steps,
/// end_factor=1, total_iters=steps-1)` multiplied with the inner schedule (e.g. both in a
/// `ChainedScheduler` for MultiStepLR/StepLR; scripts/fixtures_optim.py shows both
/// compositions). Step the Warmup, not the inner schedule: it reads the inner schedule's
/// closed form at its own epoch count.
public final class Warmup: LRSchedule {
  public let inner: LRSchedule
  public let steps: Int

  public init(_ inner: LRSchedule, steps: Int) throws {
    guard steps >= 1 else { throw TensorError("Warmup: steps \(steps) must be ≥ 1") }
    self.inner = inner
    self.steps = steps
    try super.init(inner.optimizer)
  }

  public override func prepare(epoch: Int) throws { try inner.prepare(epoch: epoch) }

  public override func lr(at epoch: Int, base: Double) -> Double {
    inner.lr(at: epoch, base: base) * min(1, Double(epoch + 1) / Double(steps))
  }
}
