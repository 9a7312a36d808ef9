import Foundation
import MoonlabTensor

/// Multiplies the lr by `gamma` every epoch, as `torch.optim.lr_scheduler.ExponentialLR`:
/// lr(t) = base · gamma^t.
public final class ExponentialLR: LRSchedule {
  public let gamma: Double

  public init(_ optimizer: Optimizer, gamma: Double) throws {
    try checkGamma(gamma, op: "ExponentialLR")
    self.gamma = gamma
    try super.init(optimizer)
  }

  public override func lr(at epoch: Int, base: Double) -> Double {
    base * pow(gamma, Double(epoch))
  }
}
