import MoonlabTensor

/// Base of every learning-rate schedule: a closed-form `lr(at: epoch, base:)` from each
/// parameter group's learning rate when the first schedule was made (PyTorch's
/// `initial_lr`). As in PyTorch, making a schedule sets the optimizer's lr for epoch 0,
/// and each `step()` (one per epoch, or per batch — the caller decides) moves to the next
/// epoch and sets its lr, group by group.
///
///     let sched = try MultiStepLR(opt, milestones: [30, 60], gamma: 0.1)
///     for epoch in 0..<90 { train(); try sched.step() }
open class LRSchedule {
  public let optimizer: Optimizer
  /// Each group's lr when the optimizer's first schedule was made (PyTorch's `base_lrs`).
  public let baseLRs: [Double]
  /// How many times `step()` ran (PyTorch's `last_epoch`).
  public private(set) var epoch = 0

  open var typeName: String { String(describing: type(of: self)) }

  /// The first group's base lr.
  public var baseLR: Double { baseLRs[0] }

  /// Subclasses set their own fields first, then call this, which applies epoch 0's lr.
  public init(_ optimizer: Optimizer) throws {
    self.optimizer = optimizer
    baseLRs = optimizer.initialLRs ?? optimizer.groupLRs
    try apply()
    optimizer.initialLRs = baseLRs
  }

  /// The learning rate for `epoch` (0 = before the first `step()`) of a group whose base
  /// lr is `base`.
  open func lr(at epoch: Int, base: Double) -> Double { base }

  /// Runs before `lr(at: epoch, …)` is read for a new epoch: where a schedule's factor
  /// comes from code that can fail (LambdaLR's Lua function), it is computed here, so
  /// `lr(at:base:)` stays a plain lookup. Schedules wrapping others pass it on.
  open func prepare(epoch: Int) throws {}

  /// The first group's lr for the current epoch (PyTorch's `get_last_lr()[0]`).
  public var currentLR: Double { lr(at: epoch, base: baseLR) }

  public func step() throws {
    try prepare(epoch: epoch + 1)
    epoch += 1
    setLRs()
  }

  /// Continues from a checkpoint taken after `epoch` steps (docs/lab.md, "Resuming a
  /// run"): the schedule's whole state, since each lr is a function of the epoch.
  public func restore(epoch: Int) throws {
    guard epoch >= 0 else {
      throw TensorError("\(typeName): epoch \(epoch) to resume at must be ≥ 0")
    }
    try prepare(epoch: epoch)
    self.epoch = epoch
    setLRs()
  }

  func apply() throws {
    try prepare(epoch: epoch)
    setLRs()
  }

  private func setLRs() {
    optimizer.groupLRs = baseLRs.map { lr(at: epoch, base: $0) }
  }
}
