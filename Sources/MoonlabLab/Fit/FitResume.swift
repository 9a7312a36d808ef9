import Foundation
import MoonlabData
import MoonlabLua
import MoonlabNN
import MoonlabTensor

/// lab.fit continuing a resumed run: the objects a train state is taken from and put
/// back into (docs/lab.md, "Resuming a run").
extension FitLibrary {
  /// What one lab.fit trains with, besides its Lua callbacks.
  struct Trained {
    let model: Module
    let optimizer: Optimizer
    let scheduler: LRSchedule?
    let plateau: ReduceLROnPlateau?
    let train: Loader
    let val: Loader?
    let context: RunContext

    var schedule: TrainState.Schedule? {
      if let plateau {
        return .plateau(
          epoch: plateau.epoch, best: plateau.best, badSteps: plateau.badSteps,
          cooldownLeft: plateau.cooldownLeft)
      }
      return scheduler.map { .epochs(type: $0.typeName, epoch: $0.epoch) }
    }
  }

  /// Puts the state of checkpoint `s` back into this fit's objects. The resumed script
  /// rebuilt them by running the same code; what doesn't match (another optimizer, a
  /// schedule fewer, other epochs) means it is not the same fit, and nothing goes on.
  static func resume(
    from s: TrainState, _ t: Trained, _ control: inout FitControl, _ fit: Fit, epochs: Int,
    linesBeforeFit: Int
  ) throws {
    let file = "\(TrainState.folder)/\(TrainState.baseName(s.epoch)).json"
    func mismatch(_ what: String) -> LuaError {
      LuaError("lab.fit: can't resume from \(file): \(what), so this is not the fit that took it")
    }
    if s.epochs != epochs {
      throw mismatch("it was taken by a fit of \(s.epochs) epochs, this one has \(epochs)")
    }
    if s.linesBeforeFit != linesBeforeFit {
      throw mismatch(
        "the run had logged \(s.linesBeforeFit) metrics line(s) before this fit, the script now \(linesBeforeFit)"
      )
    }
    if s.optimizerType != t.optimizer.typeName {
      throw mismatch(
        "it holds a \(s.optimizerType) optimizer, this fit has \(t.optimizer.typeName)")
    }
    let kind: (TrainState.Schedule?) -> String = { schedule in
      switch schedule {
      case .epochs(let type, _)?: return type
      case .plateau?: return "ReduceLROnPlateau"
      case nil: return "no scheduler"
      }
    }
    if kind(s.schedule) != kind(t.schedule) {
      throw mismatch("it holds \(kind(s.schedule)), this fit has \(kind(t.schedule))")
    }
    if (s.valEpoch == nil) != (t.val == nil) {
      throw mismatch(
        s.valEpoch == nil
          ? "it has no val loader, this fit has" : "it has a val loader, this fit hasn't")
    }
    if (s.earlyStop == nil) != (control.earlyStop == nil)
      || (s.keepBest == nil) != (control.keepBest == nil)
    {
      throw mismatch("its early_stop/keep_best options differ")
    }
    do {
      try Checkpoint.load(into: t.model, tensors: s.model, source: file)
      switch s.schedule {
      case .epochs(_, let epoch)?: try t.scheduler?.restore(epoch: epoch)
      case .plateau(let epoch, let best, let bad, let cooldown)?:
        try t.plateau?.restore(epoch: epoch, best: best, badSteps: bad, cooldownLeft: cooldown)
      case nil: break
      }
      // After the schedule: the optimizer's lrs are the saved ones, whoever set them.
      try t.optimizer.importState(s.optimizer)
      try t.context.restoreRandom(s.random)
      try t.train.restore(epoch: s.trainEpoch)
      if let v = s.valEpoch { try t.val?.restore(epoch: v) }
    } catch let e as LuaError {
      throw e
    } catch {
      throw LuaError("lab.fit: can't resume from \(file): \(error)")
    }
    if let p = s.earlyStop { control.earlyStop?.restore(p) }
    if let p = s.keepBest { control.keepBest?.restore(p) }
    fit.steps = s.steps
  }
}
