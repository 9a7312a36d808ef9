import CLua
import Foundation
import MoonlabData
import MoonlabLua
import MoonlabNN
import MoonlabTensor

/// The Lua side of lab.fit and lab.evaluate: reading the options, the epoch loop's
/// bookkeeping (stdout line, metrics.jsonl, checkpoints, report) and the history table.
enum FitLibrary {
  /// lab.evaluate(model, loader[, loss][, {topk=}]) → {loss=, samples=} and, for class
  /// scores, accuracy=, per_class_accuracy={…}, confusion= (a [C, C] tensor, rows = true
  /// class) and with `topk` also topk_accuracy=.
  static func evaluate(_ lua: Lua, _ session: LabSession) throws -> Int32 {
    let fn = "lab.evaluate"
    guard lua.anyObject(2) is Loader else {
      throw LuaError("bad argument #2 to '\(fn)' (Loader expected, got \(lua.typeName(2)))")
    }
    let loader = lua.absIndex(2)
    // A plain table as argument 3 is the options (losses are userdata).
    let optionsIndex: Int32 = lua.type(3) == LUA_TTABLE ? 3 : 4
    let lossIndex: Int32 = optionsIndex == 3 || lua.isNoneOrNil(3) ? 0 : 3
    try lua.checkOptions(optionsIndex, fn, allowed: ["topk", "distributed"])
    let topk = try lua.integerOption(optionsIndex, "topk", fn)
    if let topk, topk < 1 { throw LuaError("\(fn): option 'topk' must be ≥ 1, got \(topk)") }
    let fit = try Fit(lua, session: session, modelIndex: 1, lossIndex: lossIndex, fn: fn)
    fit.topk = topk ?? 1
    fit.parallel = try parallel(lua, fn, options: optionsIndex, loss: lossIndex)
    try fit.parallel?.syncBuffers(fit.model, .rank0)
    let t = try fit.evaluate(loader)
    lua.newTable()
    lua.push(t.meanLoss)
    lua.setField(-2, "loss")
    lua.push(t.samples)
    lua.setField(-2, "samples")
    guard let c = t.classes else { return 1 }
    lua.push(c.accuracy)
    lua.setField(-2, "accuracy")
    if topk != nil {
      lua.push(c.topkAccuracy)
      lua.setField(-2, "topk_accuracy")
    }
    lua.push(numbers: c.perClassAccuracy)
    lua.setField(-2, "per_class_accuracy")
    lua.push(try Tensor(shape: [c.classes, c.classes], values: c.confusion.map(Float.init)))
    lua.setField(-2, "confusion")
    return 1
  }

  static func fit(_ lua: Lua, _ session: LabSession) throws -> Int32 {
    let fn = "lab.fit"
    try lua.checkOptions(
      1, fn,
      allowed: FitControl.options.union([
        "model", "loss", "optimizer", "scheduler", "train", "val", "epochs", "checkpoint_every",
        "on_nan", "distributed", "bn_stats",
      ]), required: true)
    let record = try session.requireRecord(fn)
    func field(_ key: String, required: Bool = true) throws -> Int32 {
      lua.rawField(1, key)
      if required, lua.isNoneOrNil(-1) { throw LuaError("\(fn): option '\(key)' is required") }
      return lua.top
    }
    let modelIndex = try field("model")
    let lossIndex = try field("loss")
    let optIndex = try field("optimizer")
    let schedIndex = try field("scheduler", required: false)
    let trainIndex = try field("train")
    let valIndex = try field("val", required: false)
    guard let optimizer = lua.anyObject(optIndex) as? Optimizer else {
      throw LuaError(
        "\(fn): 'optimizer' must be an optimizer such as optim.SGD(…), got \(lua.typeName(optIndex))"
      )
    }
    let scheduler = lua.anyObject(schedIndex) as? LRSchedule
    let plateau = lua.anyObject(schedIndex) as? ReduceLROnPlateau
    if !lua.isNoneOrNil(schedIndex), scheduler == nil, plateau == nil {
      throw LuaError(
        "\(fn): 'scheduler' must be a schedule such as optim.MultiStepLR(…) or optim.ReduceLROnPlateau(…), got \(lua.typeName(schedIndex))"
      )
    }
    guard let train = lua.anyObject(trainIndex) as? Loader else {
      throw LuaError("\(fn): 'train' must be a data.Loader, got \(lua.typeName(trainIndex))")
    }
    let hasVal = !lua.isNoneOrNil(valIndex)
    if hasVal, !(lua.anyObject(valIndex) is Loader) {
      throw LuaError("\(fn): 'val' must be a data.Loader, got \(lua.typeName(valIndex))")
    }
    guard let epochs = try lua.integerOption(1, "epochs", fn), epochs >= 1 else {
      throw LuaError("\(fn): option 'epochs' (a number ≥ 1) is required")
    }
    let every = try lua.integerOption(1, "checkpoint_every", fn)
    if let every, every < 1 { throw LuaError("\(fn): option 'checkpoint_every' must be ≥ 1") }

    let onNaN = try lua.stringOption(1, "on_nan", fn) ?? "stop"
    guard let onNonFinite = Fit.NonFiniteLoss(rawValue: onNaN) else {
      throw LuaError(
        "\(fn): option 'on_nan' must be \(Fit.NonFiniteLoss.allCases.map { "'\($0.rawValue)'" }.joined(separator: ", ")), got '\(onNaN)'"
      )
    }

    var control = try FitControl(lua, fn)
    let fit = try Fit(lua, session: session, modelIndex: modelIndex, lossIndex: lossIndex, fn: fn)
    fit.onNonFinite = onNonFinite
    fit.parallel = try parallel(lua, fn, loss: lossIndex)
    let bnStats = try lua.stringOption(1, "bn_stats", fn) ?? "rank0"
    guard let bufferSync = DataParallel.BufferSync(rawValue: bnStats) else {
      throw LuaError(
        "\(fn): option 'bn_stats' must be 'rank0', 'mean' or 'sync', got '\(bnStats)'")
    }
    let syncedNorms = bufferSync == .sync ? fit.parallel?.synchronizeBatchNorm(fit.model) ?? [] : []
    defer { for n in syncedNorms { n.crossProcessSum = nil } }
    fit.accumulate = control.accumulate
    fit.onStep = control.onStep
    record.add(.section("Training"))
    record.add(.metrics(title: "Loss", keys: ["train_loss", "val_loss"], logy: false))
    record.add(.metrics(title: "Accuracy", keys: ["train_acc", "val_acc"], logy: false))
    record.add(.metrics(title: "Learning rate", keys: ["lr"], logy: false))

    var history: [String: [Double]] = [:]
    var rows: [[String]] = []
    // This fit's epoch lines, kept for its train states (docs/lab.md, "Resuming a run").
    var fitLines: [[JSON.Field]] = []
    func add(_ line: [JSON.Field]) {
      for f in line where f.key != "epoch" && f.key != "images_per_s" {
        history[f.key, default: []].append(f.value.double ?? .nan)
      }
      rows.append(line.dropLast().map { ReportWriter.cell($0.value) })
      fitLines.append(line)
    }
    record.fitCalls += 1
    let trained = Trained(
      model: fit.model, optimizer: optimizer, scheduler: scheduler, plateau: plateau, train: train,
      val: hasVal ? lua.anyObject(valIndex) as? Loader : nil, context: session.host.context)
    let linesBeforeFit = record.metrics.lines.count
    let firstEpoch = (record.metrics.lines.compactMap { $0["epoch"]?.double }.max() ?? 0) + 1
    var (e, finished) = (0, false)
    if let point = record.resumePoint, point.fit == record.fitCalls {
      record.resumePoint = nil
      try resume(
        from: point, trained, &control, fit, epochs: epochs, linesBeforeFit: linesBeforeFit)
      try record.metrics.keepRecorded(through: point.metricsLines)
      point.lines.forEach(add)
      (e, finished) = (point.fitEpoch, point.finished)
      if let stop = point.stop { record.add(.text("Stopped after epoch \(point.epoch): \(stop).")) }
      session.output.write(
        "lab.fit: resumed after epoch \(e)/\(epochs) from \(TrainState.folder)/\(TrainState.baseName(point.epoch)).json\n"
      )
    }
    while !finished, e < epochs {
      e += 1
      let epoch = Int(firstEpoch) + e - 1
      let lr = optimizer.lr
      let start = Date()
      fit.model.train()
      // Only rank 0 speaks for a data-parallel run.
      let progress =
        (fit.parallel?.world.rank ?? 0) == 0
        ? Progress(label: "epoch \(e)/\(epochs)", total: train.count) : nil
      let t = try fit.epoch(trainIndex, optimizer: optimizer, progress: progress, epoch: epoch)
      let trainSeconds = Date().timeIntervalSince(start)
      try fit.parallel?.syncBuffers(fit.model, bufferSync)
      let v = hasVal ? try fit.evaluate(valIndex) : nil
      try scheduler?.step()
      if let plateau { plateau.step(plateauMetric(plateau, train: t, val: v)) }
      let seconds = Date().timeIntervalSince(start)

      var line: [JSON.Field] = [
        .init("epoch", .number(Double(epoch))), .init("train_loss", .number(t.meanLoss)),
      ]
      if let a = t.accuracy { line.append(.init("train_acc", .number(a))) }
      if let v {
        line.append(.init("val_loss", .number(v.meanLoss)))
        if let a = v.accuracy { line.append(.init("val_acc", .number(a))) }
      }
      line += [
        .init("lr", .number(lr)), .init("seconds", .number(seconds)),
        .init("images_per_s", .number(trainSeconds > 0 ? Double(t.samples) / trainSeconds : 0)),
      ]
      // Only in metrics.jsonl: the history and the table keep one column set per epoch.
      let skipped = t.skipped > 0 ? [JSON.Field("skipped_batches", .number(Double(t.skipped)))] : []
      try record.metrics.append(.object(line + skipped))
      add(line)
      session.output.write(summary(e, epochs, t, v, lr: lr, seconds: seconds) + "\n")

      let checkpoint = every.map { e % $0 == 0 || e == epochs } ?? false
      if checkpoint {
        let path = record.dir.appendingPathComponent(
          String(format: "checkpoints/epoch-%03d.safetensors", epoch))
        try Checkpoint.save(fit.model, to: path.path)
      }
      if var best = control.keepBest {
        if best.update(try FitControl.value(best.metric, in: line, "keep_best"), epoch: epoch) {
          // Atomic (Checkpoint.save): a killed run keeps the previous best whole.
          try Checkpoint.save(
            fit.model, to: record.dir.appendingPathComponent("best.safetensors").path)
        }
        control.keepBest = best
      }
      try record.writeReport(.running)
      let stop = try stopReason(fit, &control, line, epoch: epoch)
      if let stop {
        session.output.write("lab.fit: stopped after epoch \(epoch): \(stop)\n")
        record.add(.text("Stopped after epoch \(epoch): \(stop)."))
      }
      // Taken after on_epoch_end, which may log or change the weights: the state is the
      // one the next epoch starts from.
      if checkpoint {
        try TrainState(
          fit: record.fitCalls, epoch: epoch, fitEpoch: e, epochs: epochs,
          finished: stop != nil || e == epochs, stop: stop,
          metricsLines: record.metrics.lines.count, linesBeforeFit: linesBeforeFit,
          lines: fitLines, optimizer: optimizer, schedule: trained.schedule,
          random: session.host.context.randomState, trainEpoch: train.epoch,
          valEpoch: trained.val?.epoch, steps: fit.steps, earlyStop: control.earlyStop?.position,
          keepBest: control.keepBest?.position, model: fit.model
        ).write(in: record.dir)
      }
      if stop != nil { break }
    }
    let columns =
      ["epoch", "train_loss"] + (history["train_acc"] != nil ? ["train_acc"] : [])
      + (history["val_loss"] != nil ? ["val_loss"] : [])
      + (history["val_acc"] != nil ? ["val_acc"] : []) + ["lr", "seconds"]
    record.add(.table(columns: columns, rows: rows))

    lua.newTable(hash: history.count + 1)
    for (key, values) in history {
      lua.push(numbers: values)
      lua.setField(-2, key)
    }
    if let best = control.keepBest ?? control.earlyStop, let value = best.best {
      lua.push(
        json: .object([
          .init("metric", .string(best.metric)), .init("epoch", .number(Double(best.bestEpoch))),
          .init("value", .number(value)),
        ]))
      lua.setField(-2, "best")
    }
    return 1
  }

  /// The run's data-parallel state when it runs under MPI and option `distributed` (true
  /// by default there) asks for it; nil otherwise (docs/scale-out.md, "Training across
  /// processes"). Ranks' shares are weighted as parts of a mean, so a summed loss is refused.
  static func parallel(_ lua: Lua, _ fn: String, options: Int32 = 1, loss: Int32) throws
    -> DataParallel?
  {
    let asked =
      lua.type(options) == LUA_TTABLE ? try lua.booleanOption(options, "distributed", fn) : nil
    guard asked ?? true, let parallel = try DataParallel.joined() else { return nil }
    if loss != 0, let l = lua.anyObject(loss) as? Loss,
      let reduction = Mirror(reflecting: l).descendant("reduction") as? Reduction,
      reduction != .mean
    {
      throw LuaError(
        "\(fn): data-parallel training needs a loss with reduction 'mean' (each rank's mean is weighted by its share of the batch), got '\(reduction.rawValue)'"
      )
    }
    return parallel
  }

  /// Why training stops after this epoch, if it does: a callback returned false or 'stop'
  /// (on_step during the epoch, on_epoch_end now), or early_stop's metric has not
  /// improved for `patience` epochs.
  static func stopReason(_ fit: Fit, _ control: inout FitControl, _ line: [JSON.Field], epoch: Int)
    throws -> String?
  {
    if let onEpochEnd = control.onEpochEnd,
      try fit.callback(
        onEpochEnd,
        {
          fit.lua.push(epoch)
          fit.lua.push(json: .object(line))
          return 2
        })
    {
      return "on_epoch_end asked to stop"
    }
    if fit.stopRequested { return "on_step asked to stop" }
    guard var e = control.earlyStop else { return nil }
    _ = e.update(try FitControl.value(e.metric, in: line, "early_stop"), epoch: epoch)
    control.earlyStop = e
    guard e.epochsWithout > 0, e.epochsWithout >= control.patience else { return nil }
    let best = e.best.map { SVGChart.number($0) } ?? "none"
    return
      "early_stop: \(e.metric) has not improved for \(e.epochsWithout) epochs (best \(best) at epoch \(e.bestEpoch))"
  }

  /// What ReduceLROnPlateau watches in lab.fit: the validation loss (mode 'min') or
  /// accuracy (mode 'max'), the training one without validation.
  static func plateauMetric(_ p: ReduceLROnPlateau, train: Fit.Totals, val: Fit.Totals?) -> Double {
    let totals = val ?? train
    return p.mode == .min ? totals.meanLoss : totals.accuracy ?? .nan
  }

  /// "epoch  3/10  train loss 1.2345 acc 45.12%  val loss 1.3012 acc 50.10%  lr 0.01  12.3 s"
  static func summary(
    _ e: Int, _ epochs: Int, _ t: Fit.Totals, _ v: Fit.Totals?, lr: Double, seconds: Double
  ) -> String {
    let width = String(epochs).count
    var s = "epoch " + String(repeating: " ", count: width - String(e).count) + "\(e)/\(epochs)"
    func part(_ name: String, _ totals: Fit.Totals) -> String {
      var p = "  \(name)" + String(format: " loss %.4f", totals.meanLoss)
      if let a = totals.accuracy { p += String(format: " acc %.2f%%", a * 100) }
      return p
    }
    s += part("train", t)
    if t.skipped > 0 { s += " (\(t.skipped) non-finite batches skipped)" }
    if let v { s += part("val", v) }
    return s + "  lr \(SVGChart.number(lr))" + String(format: "  %.1f s", seconds)
  }
}
