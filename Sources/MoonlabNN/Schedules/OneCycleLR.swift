import Foundation
import MoonlabTensor

/// The 1cycle policy (Smith & Topin 2017, https://arxiv.org/abs/1708.07120), stepped once
/// per batch — `torch.optim.lr_scheduler.OneCycleLR` without momentum cycling
/// (`cycle_momentum=False`). From initial = max_lr / div_factor up to max_lr over the
/// first pct_start of `totalSteps`, then down to initial / final_div_factor; with
/// `threePhase`, back to initial first and down to the minimum in a third phase. Each
/// phase anneals with a cosine, start + (end − start)·(1 − cos(π·pct))/2, or linearly.
/// The optimizer's own lr is not used (every group follows max_lr). Past `totalSteps`
/// the lr stays at its final value (PyTorch raises instead).
public final class OneCycleLR: LRSchedule {
  public enum Anneal: String, CaseIterable { case cos, linear }

  public let maxLR: Double
  public let totalSteps: Int
  public let anneal: Anneal
  /// (end step, start lr, end lr) of each phase.
  let phases: [(end: Double, from: Double, to: Double)]

  public init(
    _ optimizer: Optimizer, maxLR: Double, totalSteps: Int, pctStart: Double = 0.3,
    anneal: Anneal = .cos, divFactor: Double = 25, finalDivFactor: Double = 1e4,
    threePhase: Bool = false
  ) throws {
    guard maxLR > 0, maxLR.isFinite else {
      throw TensorError("OneCycleLR: max_lr \(maxLR) must be > 0")
    }
    guard totalSteps >= 1 else {
      throw TensorError("OneCycleLR: total_steps \(totalSteps) must be ≥ 1")
    }
    guard pctStart >= 0, pctStart <= 1 else {
      throw TensorError("OneCycleLR: pct_start \(pctStart) must be in [0, 1]")
    }
    guard divFactor > 0, finalDivFactor > 0 else {
      throw TensorError("OneCycleLR: div_factor and final_div_factor must be > 0")
    }
    let initial = maxLR / divFactor
    let minimum = initial / finalDivFactor
    let rise = pctStart * Double(totalSteps) - 1
    let last = Double(totalSteps - 1)
    phases =
      threePhase
      ? [
        (rise, initial, maxLR), (2 * pctStart * Double(totalSteps) - 2, maxLR, initial),
        (last, initial, minimum),
      ]
      : [(rise, initial, maxLR), (last, maxLR, minimum)]
    self.maxLR = maxLR
    self.totalSteps = totalSteps
    self.anneal = anneal
    try super.init(optimizer)
  }

  public override func lr(at epoch: Int, base: Double) -> Double {
    // PyTorch's phase search: the first phase whose end is ≥ the step (or the last).
    let t = Double(min(epoch, totalSteps - 1))
    var start = 0.0
    for (i, phase) in phases.enumerated() {
      if t <= phase.end || i == phases.count - 1 {
        let pct = phase.end > start ? (t - start) / (phase.end - start) : 1
        switch anneal {
        case .cos: return phase.to + (phase.from - phase.to) / 2 * (cos(Double.pi * pct) + 1)
        case .linear: return (phase.to - phase.from) * pct + phase.from
        }
      }
      start = phase.end
    }
    return phases[phases.count - 1].to
  }
}
