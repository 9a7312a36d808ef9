import MoonlabTensor

/// Multiplies the lr by `factor` when a metric has stopped improving for more than
/// `patience` steps — PyTorch's `ReduceLROnPlateau`, step by step:
///
///     better = mode min: m < best·(1 − threshold)  (threshold_mode 'abs': m < best − threshold)
///              mode max: m > best·(1 + threshold)  ('abs': m > best + threshold)
///     better ? (best = m, bad = 0) : bad += 1
///     in cooldown: cooldown −= 1, bad = 0
///     bad > patience: each group's lr = max(lr·factor, min_lr) unless that moves it by ≤ eps;
///                     cooldown = cooldown steps, bad = 0
///
/// Unlike the closed-form schedules (LRSchedule) it depends on the metric's history, so
/// it is stepped with the metric and never sets the lr when it is made.
public final class ReduceLROnPlateau {
  public enum Mode: String, CaseIterable { case min, max }
  public enum ThresholdMode: String, CaseIterable { case rel, abs }

  public let optimizer: Optimizer
  public let mode: Mode
  public let factor, threshold, minLR, eps: Double
  public let thresholdMode: ThresholdMode
  public let patience, cooldown: Int
  /// The best metric so far (±∞ before the first step).
  public private(set) var best: Double
  /// Steps since the last improvement (PyTorch's `num_bad_epochs`).
  public private(set) var badSteps = 0
  public private(set) var cooldownLeft = 0
  /// How many times `step(_:)` ran (PyTorch's `last_epoch`).
  public private(set) var epoch = 0

  public init(
    _ optimizer: Optimizer, mode: Mode = .min, factor: Double = 0.1, patience: Int = 10,
    threshold: Double = 1e-4, thresholdMode: ThresholdMode = .rel, cooldown: Int = 0,
    minLR: Double = 0, eps: Double = 1e-8
  ) throws {
    let op = "ReduceLROnPlateau"
    guard factor >= 0, factor < 1 else {
      throw TensorError("\(op): factor \(factor) must be in [0, 1)")
    }
    guard patience >= 0 else { throw TensorError("\(op): patience \(patience) must be ≥ 0") }
    guard cooldown >= 0 else { throw TensorError("\(op): cooldown \(cooldown) must be ≥ 0") }
    guard threshold >= 0, threshold.isFinite else {
      throw TensorError("\(op): threshold \(threshold) must be ≥ 0")
    }
    guard minLR >= 0, minLR.isFinite else {
      throw TensorError("\(op): min_lr \(minLR) must be ≥ 0")
    }
    guard eps >= 0, eps.isFinite else { throw TensorError("\(op): eps \(eps) must be ≥ 0") }
    self.optimizer = optimizer
    self.mode = mode
    self.factor = factor
    self.patience = patience
    self.threshold = threshold
    self.thresholdMode = thresholdMode
    self.cooldown = cooldown
    self.minLR = minLR
    self.eps = eps
    best = mode == .min ? .infinity : -.infinity
  }

  func isBetter(_ m: Double) -> Bool {
    switch (mode, thresholdMode) {
    case (.min, .rel): return m < best * (1 - threshold)
    case (.min, .abs): return m < best - threshold
    case (.max, .rel): return m > best * (1 + threshold)
    case (.max, .abs): return m > best + threshold
    }
  }

  /// Continues from a checkpoint (docs/lab.md, "Resuming a run"): the counters `step`
  /// keeps. The lrs it lowered are the optimizer's, restored with the optimizer.
  public func restore(epoch: Int, best: Double, badSteps: Int, cooldownLeft: Int) throws {
    guard epoch >= 0, badSteps >= 0, cooldownLeft >= 0, !best.isNaN else {
      throw TensorError(
        "ReduceLROnPlateau: invalid state to resume (epoch \(epoch), best \(best), bad steps \(badSteps), cooldown \(cooldownLeft))"
      )
    }
    self.epoch = epoch
    self.best = best
    self.badSteps = badSteps
    self.cooldownLeft = cooldownLeft
  }

  public func step(_ metric: Double) {
    epoch += 1
    if isBetter(metric) {
      best = metric
      badSteps = 0
    } else {
      badSteps += 1
    }
    if cooldownLeft > 0 {
      cooldownLeft -= 1
      badSteps = 0
    }
    if badSteps > patience {
      optimizer.groupLRs = optimizer.groupLRs.map { lr in
        let reduced = max(lr * factor, minLR)
        return lr - reduced > eps ? reduced : lr
      }
      cooldownLeft = cooldown
      badSteps = 0
    }
  }
}
