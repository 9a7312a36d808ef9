import MoonlabTensor

/// Runs schedules one after another, switching at the milestone epochs —
/// `torch.optim.lr_scheduler.SequentialLR`: schedule i runs from milestone i − 1 (epoch 0
/// for the first) with its own epoch count restarted there:
/// lr(t) = schedules[i].lr(t − milestones[i−1]).
///
///     let warm = try LinearLR(opt, startFactor: 0.01, totalIters: 5)
///     let cosine = try CosineLR(opt, tMax: 85)
///     let sched = try SequentialLR(opt, schedules: [warm, cosine], milestones: [5])
///
/// Step the SequentialLR, not the schedules inside it.
public final class SequentialLR: LRSchedule {
  public let schedules: [LRSchedule]
  public let milestones: [Int]

  public init(_ optimizer: Optimizer, schedules: [LRSchedule], milestones: [Int]) throws {
    guard !schedules.isEmpty else {
      throw TensorError("SequentialLR: the list of schedules is empty")
    }
    guard milestones.count == schedules.count - 1 else {
      throw TensorError(
        "SequentialLR: \(schedules.count) schedules need \(schedules.count - 1) milestones, got \(milestones.count)"
      )
    }
    for (i, m) in milestones.enumerated() where m < 1 || (i > 0 && m <= milestones[i - 1]) {
      throw TensorError("SequentialLR: milestones must be increasing epochs ≥ 1, got \(milestones)")
    }
    for (i, s) in schedules.enumerated() where s.optimizer !== optimizer {
      throw TensorError("SequentialLR: schedule \(i + 1) belongs to another optimizer")
    }
    self.schedules = schedules
    self.milestones = milestones
    try super.init(optimizer)
  }

  /// The schedule running at `epoch` and its own epoch count there.
  private func running(at epoch: Int) -> (LRSchedule, Int) {
    let i = milestones.prefix { $0 <= epoch }.count
    return (schedules[i], epoch - (i == 0 ? 0 : milestones[i - 1]))
  }

  public override func prepare(epoch: Int) throws {
    let (s, t) = running(at: epoch)
    try s.prepare(epoch: t)
  }

  public override func lr(at epoch: Int, base: Double) -> Double {
    let (s, t) = running(at: epoch)
    return s.lr(at: t, base: base)
  }
}
