import MoonlabTensor

/// PyTorch's `torch.optim.lr_scheduler.LambdaLR`: lr(t) = base · factor(t), with
/// `factor` a function of the epoch (a Lua function from `optim.LambdaLR`). It is called
/// for epoch 0 when the schedule is made and once per `step()`; an error it throws, or a
/// factor that is not a finite number ≥ 0, fails that call (docs/optim.md).
///
///     let sched = try LambdaLR(opt) { t in Double(min(t + 1, 5)) / 5 }
public final class LambdaLR: LRSchedule {
  public let factor: (Int) throws -> Double
  /// factor(t) for each epoch prepared so far (read by `lr(at:base:)`, which can't fail).
  private var factors: [Int: Double] = [:]

  public init(_ optimizer: Optimizer, factor: @escaping (Int) throws -> Double) throws {
    self.factor = factor
    try super.init(optimizer)
  }

  public override func prepare(epoch: Int) throws {
    let f = try factor(epoch)
    guard f.isFinite, f >= 0 else {
      throw TensorError(
        "LambdaLR: the lr factor for epoch \(epoch) is \(f); it must be a finite number ≥ 0")
    }
    factors[epoch] = f
  }

  public override func lr(at epoch: Int, base: Double) -> Double {
    // Every epoch is prepared before it is read (LRSchedule.step/restore, the wrappers).
    factors[epoch].map { base * $0 } ?? .nan
  }
}
