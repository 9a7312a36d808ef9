import Foundation
import MoonlabTensor

/// Multiplies the lr by `gamma` every `stepSize` epochs, as
/// `torch.optim.lr_scheduler.StepLR`: lr(t) = base · gamma^⌊t / stepSize⌋.
public final class StepLR: LRSchedule {
  public let stepSize: Int
  public let gamma: Double

  public init(_ optimizer: Optimizer, stepSize: Int, gamma: Double = 0.1) throws {
    guard stepSize >= 1 else { throw TensorError("StepLR: step_size \(stepSize) must be ≥ 1") }
    try checkGamma(gamma, op: "StepLR")
    self.stepSize = stepSize
    self.gamma = gamma
    try super.init(optimizer)
  }

  public override func lr(at epoch: Int, base: Double) -> Double {
    base * pow(gamma, Double(epoch / stepSize))
  }
}
