import CLua
import Foundation
import MoonlabData
import MoonlabLua
import MoonlabNN
import MoonlabTensor

/// lab.fit{model=, loss=, optimizer=, scheduler=, train=, val=, epochs=,
/// checkpoint_every=, on_nan=} and lab.evaluate(model, loader[, loss]).
///
/// The loop is Swift: epochs, zero_grad/backward/step, the schedule, eval mode and
/// no-grad for validation, metrics, checkpoints, progress and the report. Batches come
/// from `loader:batches()` and each batch goes through `model(x)` and `loss(out, y)` as
/// a script would call them, so data.Lambda transforms, Lua-defined layers and the
/// 1-based labels behave exactly as in a hand-written loop.
final class Fit {
  let session: LabSession
  let lua: Lua
  let model: Module
  /// lab.fit or lab.evaluate, for messages.
  let fn: String
  /// Stack slots (absolute) of the Lua helpers and loaders.
  private let batchesFn: Int32, stepFn: Int32

  static let helpers = """
    local model, loss = ...
    loss = loss or nn.CrossEntropyLoss()
    local function batches(loader) return loader:batches() end
    local function step(x, y) local out = model(x) return out, loss(out, y) end
    return batches, step
    """

  /// Loads the helpers for the model at `modelIndex` and the loss at `lossIndex` (0 =
  /// cross-entropy) and leaves them on the stack.
  init(_ lua: Lua, session: LabSession, modelIndex: Int32, lossIndex: Int32, fn: String) throws {
    self.lua = lua
    self.session = session
    guard let m = lua.anyObject(modelIndex) as? Module else {
      throw LuaError("\(fn): 'model' must be a Module, got \(lua.typeName(modelIndex))")
    }
    if lossIndex != 0, !(lua.anyObject(lossIndex) is Loss) {
      throw LuaError(
        "\(fn): 'loss' must be a loss such as nn.CrossEntropyLoss(), got \(lua.typeName(lossIndex))"
      )
    }
    model = m
    self.fn = fn
    try session.host.load(Data(Fit.helpers.utf8), chunkname: "=lab.fit", on: lua)
    lua.pushValue(modelIndex)
    if lossIndex != 0 { lua.pushValue(lossIndex) } else { lua.pushNil() }
    try session.host.call(arguments: 2, results: 2, on: lua)
    batchesFn = lua.top - 1
    stepFn = lua.top
  }

  /// What a training step does with a loss that is NaN or infinite (`on_nan`): stop the
  /// run with an error before the step (the default), skip the batch, or train on it.
  enum NonFiniteLoss: String, CaseIterable {
    case stop, skip, `continue`
  }
  var onNonFinite = NonFiniteLoss.stop

  /// Top-k accuracy's k (lab.evaluate's `topk`; 1 otherwise).
  var topk = 1
  /// lab.fit's `accumulate`: batches whose gradients are summed (each loss's gradient
  /// ÷ accumulate) before one optimizer step.
  var accumulate = 1
  /// Stack slot of lab.fit's `on_step(step, loss)`, if given.
  var onStep: Int32?
  /// Optimizer steps taken over the whole fit (on_step's `step`).
  var steps = 0
  /// Set when a callback asked to stop: the epoch ends after the current step.
  var stopRequested = false
  /// Data-parallel training over MPI ranks (lab.fit's `distributed`); nil in one process.
  var parallel: DataParallel?

  /// Loss sums and class counts over an epoch's batches (skipped ones not counted).
  struct Totals {
    var loss = 0.0, samples = 0, skipped = 0
    /// nil while the outputs weren't class scores.
    var classes: ClassTally?
    var meanLoss: Double { samples > 0 ? loss / Double(samples) : .nan }
    var accuracy: Double? { classes.map(\.accuracy) }
  }

  /// One pass over the loader at `loaderIndex`; training (epoch `epoch`) steps the optimizer.
  func epoch(_ loaderIndex: Int32, optimizer: Optimizer?, progress: Progress?, epoch: Int = 0)
    throws -> Totals
  {
    let base = lua.top
    defer { lua.setTop(base) }
    let iterator = try batches(loaderIndex)
    var totals = Totals()
    var done = 0
    // Batches (and their summed loss) whose gradients wait for the next step.
    var pending = 0
    var pendingLoss = 0.0
    func takeStep(_ optimizer: Optimizer) throws {
      try parallel?.sumGradients(optimizer.parameters)
      try optimizer.step()
      steps += 1
      let meanLoss = pendingLoss / Double(pending)
      (pending, pendingLoss) = (0, 0)
      if let onStep,
        try callback(
          onStep,
          {
            lua.push(steps)
            lua.push(meanLoss)
            return 2
          })
      {
        stopRequested = true
      }
    }
    while true {
      guard try nextBatch(iterator) else { break }
      done += 1
      let share = try parallel?.narrowBatch(lua, batch: done, fn)
      if pending == 0 { optimizer?.zeroGrad() }
      let (y, out, loss) = try forward()
      let local = try loss.item()
      let value = try share.map { try parallel!.meanLoss(local, $0, batch: done, fn) } ?? Double(local)
      if optimizer != nil, !value.isFinite {
        switch onNonFinite {
        case .stop:
          throw LuaError(
            "lab.fit: the loss is \(JSON.format(value)) at batch \(done) of epoch \(epoch); stopped before that step, so the weights are those before it (on_nan = 'skip' drops such batches, 'continue' trains on)"
          )
        case .skip:
          totals.skipped += 1
          progress?.update(batches: done, samples: totals.samples, loss: totals.meanLoss)
          continue
        case .continue: break
        }
      }
      if let optimizer {
        // This rank's share of the global batch's mean, and of the accumulated steps'.
        let seed = (share?.weight ?? 1) / Float(accumulate)
        try loss.backward(seed != 1 ? Tensor(scalar: seed) : nil)
        pending += 1
        pendingLoss += value
        if pending == accumulate { try takeStep(optimizer) }
      }
      let n = share?.total ?? (out.rank > 0 ? out.shape[0] : 1)
      totals.loss += value * Double(n)
      totals.samples += n
      if let labels = ClassTally.labels(out, y) {
        if totals.classes == nil { totals.classes = ClassTally(classes: out.shape[1], k: topk) }
        guard let before = totals.classes?.classes, before == out.shape[1] else {
          throw LuaError(
            "lab.fit: the model output \(describeShape(out.shape)) at batch \(done) has \(out.shape[1]) class scores, earlier batches \(totals.classes?.classes ?? 0)"
          )
        }
        totals.classes?.add(out, labels: labels)
      }
      progress?.update(batches: done, samples: totals.samples, loss: totals.meanLoss)
      if stopRequested { break }
    }
    // An epoch's last batches, fewer than `accumulate`, still make a step.
    if let optimizer, pending > 0, !stopRequested { try takeStep(optimizer) }
    if let parallel { totals.classes = try parallel.merge(totals.classes) }
    progress?.finish()
    return totals
  }

  /// Pushes `loader:batches()` of the loader at `loaderIndex`; returns its slot.
  func batches(_ loaderIndex: Int32) throws -> Int32 {
    lua.pushValue(batchesFn)
    lua.pushValue(loaderIndex)
    try session.host.call(arguments: 1, results: 1, on: lua)
    return lua.top
  }

  /// Leaves the iterator's next (x, y) on top of it; false at the end of the loader.
  func nextBatch(_ iterator: Int32) throws -> Bool {
    lua.setTop(iterator)
    lua.pushValue(iterator)
    try session.host.call(arguments: 0, results: 2, on: lua)
    return !lua.isNoneOrNil(-2)
  }

  /// `model(x)` and `loss(out, y)` on the batch nextBatch left (x, y stay below them).
  func forward() throws -> (y: Tensor, out: Tensor, loss: Tensor) {
    let y = try lua.tensor(-1, "lab.fit batch y")
    lua.pushValue(stepFn)
    lua.pushValue(-3)
    lua.pushValue(-3)
    try session.host.call(arguments: 2, results: 2, on: lua)
    return (y, try lua.tensor(-2, "lab.fit model output"), try lua.tensor(-1, "lab.fit loss"))
  }

  /// Validation: eval mode and no tape, then the module's mode as it was.
  func evaluate(_ loaderIndex: Int32) throws -> Totals {
    let wasTraining = model.training
    model.eval()
    defer { model.train(wasTraining) }
    return try Autograd.noGrad { try epoch(loaderIndex, optimizer: nil, progress: nil) }
  }
}
