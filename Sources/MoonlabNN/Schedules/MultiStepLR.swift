import Foundation
import MoonlabTensor

/// Multiplies the lr by `gamma` at each milestone epoch (a milestone listed twice counts
/// twice), as `torch.optim.lr_scheduler.MultiStepLR`:
/// lr(t) = base · gamma^(number of milestones ≤ t).
public final class MultiStepLR: LRSchedule {
  public let milestones: [Int]
  public let gamma: Double

  public init(_ optimizer: Optimizer, milestones: [Int], gamma: Double = 0.1) throws {
    if let bad = milestones.first(where: { $0 < 0 }) {
      throw TensorError("MultiStepLR: milestone \(bad) is negative")
    }
    try checkGamma(gamma, op: "MultiStepLR")
    self.milestones = milestones.sorted()
    self.gamma = gamma
    try super.init(optimizer)
  }

  public override func lr(at epoch: Int, base: Double) -> Double {
    base * pow(gamma, Double(milestones.prefix { $0 <= epoch }.count))
  }
}

func checkGamma(_ gamma: Double, op: String) throws {
  guard gamma > 0, gamma.isFinite else { throw TensorError("\(op): gamma \(gamma) must be > 0") }
}
