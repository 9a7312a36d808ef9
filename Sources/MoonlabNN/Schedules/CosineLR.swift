import Foundation
import MoonlabTensor

/// Cosine annealing from the base lr down to `minLR` over `tMax` epochs (Loshchilov &
/// Hutter, SGDR, https://arxiv.org/abs/1608.03983, without restarts), PyTorch's
/// `CosineAnnealingLR` closed form:
/// lr(t) = min_lr + (base − min_lr) · (1 + cos(π t / t_max)) / 2.
/// Past `tMax` the cosine continues (rises again), as in PyTorch.
public final class CosineLR: LRSchedule {
  public let tMax: Int
  public let minLR: Double

  public init(_ optimizer: Optimizer, tMax: Int, minLR: Double = 0) throws {
    guard tMax >= 1 else { throw TensorError("CosineLR: t_max \(tMax) must be ≥ 1") }
    guard minLR >= 0, minLR.isFinite else {
      throw TensorError("CosineLR: min_lr \(minLR) must be ≥ 0")
    }
    self.tMax = tMax
    self.minLR = minLR
    try super.init(optimizer)
  }

  public override func lr(at epoch: Int, base: Double) -> Double {
    minLR + (base - minLR) * (1 + cos(Double.pi * Double(epoch) / Double(tMax))) / 2
  }
}
