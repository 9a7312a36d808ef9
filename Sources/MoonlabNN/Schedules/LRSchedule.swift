import MoonlabTensor

/// Base of every learning-rate schedule: a closed-form `lr(at: epoch)` from the
/// optimizer's learning rate when the schedule was made. As in PyTorch, making a
/// schedule sets the optimizer's lr for epoch 0, and each `step()` (one per epoch, or
/// per batch — the caller decides) moves to the next epoch and sets its lr.
///
///     let sched = try MultiStepLR(opt, milestones: [30, 60], gamma: 0.1)
///     for epoch in 0..<90 { train(); sched.step() }
open class LRSchedule {
  public let optimizer: Optimizer
  /// The optimizer's lr when the schedule was made (PyTorch's `base_lrs`).
  public let baseLR: Double
  /// How many times `step()` ran (PyTorch's `last_epoch`).
  public private(set) var epoch = 0

  open var typeName: String { String(describing: type(of: self)) }

  /// Subclasses set their own fields first, then call this, which applies epoch 0's lr.
  public init(_ optimizer: Optimizer, baseLR: Double? = nil) {
    self.optimizer = optimizer
    self.baseLR = baseLR ?? optimizer.lr
    optimizer.lr = lr(at: 0)
  }

  /// The learning rate for `epoch` (0 = before the first `step()`).
  open func lr(at epoch: Int) -> Double { baseLR }

  /// The lr for the current epoch (PyTorch's `get_last_lr()`).
  public var currentLR: Double { lr(at: epoch) }

  public func step() {
    epoch += 1
    optimizer.lr = lr(at: epoch)
  }
}
