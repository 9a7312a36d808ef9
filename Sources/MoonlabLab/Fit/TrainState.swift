import Foundation
import MoonlabNN
import MoonlabTensor

/// What lab.fit needs to go on after a checkpoint exactly as if it had never stopped
/// (docs/lab.md, "Resuming a run"): the model, the optimizer, the schedule, every random
/// stream, the loaders' epochs, lab.fit's own counters and the epoch lines so far.
/// Saved as `train-state/epoch-NNN.safetensors` (model and optimizer tensors) plus
/// `train-state/epoch-NNN.json` (the rest; see TrainStateFiles.swift).
struct TrainState {
  /// Which lab.fit call of the run (1 for the first) took it.
  var fit: Int
  /// The run's epoch number (metrics.jsonl's `epoch`, the file names).
  var epoch: Int
  /// Epochs of this fit done, of `epochs`.
  var fitEpoch: Int
  var epochs: Int
  /// The fit ended with this epoch (its last one, or a stop with `stop` saying why).
  var finished: Bool
  var stop: String?
  /// metrics.jsonl's lines when it was taken, and before this fit began.
  var metricsLines: Int
  var linesBeforeFit: Int
  /// This fit's epoch lines (for its history and the report's table).
  var lines: [[JSON.Field]]
  var optimizerType: String
  var optimizer: OptimizerState
  var schedule: Schedule?
  var random: RandomState
  var trainEpoch: Int
  var valEpoch: Int?
  /// Optimizer steps so far (on_step's count).
  var steps: Int
  var earlyStop: BestMetric.Position?
  var keepBest: BestMetric.Position?
  /// The model's parameters and buffers by dotted name.
  var model: [(name: String, tensor: Tensor)]

  enum Schedule: Equatable {
    /// An epoch-indexed schedule (StepLR, CosineLR, …): its epoch is its whole state.
    case epochs(type: String, epoch: Int)
    case plateau(epoch: Int, best: Double, badSteps: Int, cooldownLeft: Int)
  }

  // MARK: JSON

  /// The JSON part (the tensors go to the safetensors file).
  var json: JSON {
    var fields: [JSON.Field] = [
      .init("format", .string("moonlab-train-state")), .init("version", .number(1)),
      .init("fit", .number(Double(fit))), .init("epoch", .number(Double(epoch))),
      .init("fit_epoch", .number(Double(fitEpoch))), .init("epochs", .number(Double(epochs))),
      .init("finished", .bool(finished)),
    ]
    if let stop { fields.append(.init("stop", .string(stop))) }
    fields += [
      .init("metrics_lines", .number(Double(metricsLines))),
      .init("metrics_lines_before_fit", .number(Double(linesBeforeFit))),
      .init(
        "optimizer",
        .object(
          [
            .init("type", .string(optimizerType)),
            .init("lrs", .array(optimizer.lrs.map(TrainState.exact))),
            .init(
              "initial_lrs", optimizer.initialLRs.map { .array($0.map(TrainState.exact)) } ?? .null),
            .init("steps", .array(optimizer.steps.map { .number(Double($0)) })),
          ])),
      .init("schedule", schedule.map(TrainState.json) ?? .null),
      .init(
        "random",
        .object([
          .init("seed", LabSession.seedJSON(random.seed)),
          .init("global", TrainState.words(random.global)),
          .init(
            "streams",
            .object(
              random.streams.keys.sorted().map {
                .init($0, TrainState.words(random.streams[$0] ?? []))
              })),
        ])),
      .init(
        "loaders",
        .object(
          [.init("train", .number(Double(trainEpoch)))]
            + (valEpoch.map { [.init("val", .number(Double($0)))] } ?? []))),
      .init("steps", .number(Double(steps))),
      .init("early_stop", earlyStop.map(TrainState.json) ?? .null),
      .init("keep_best", keepBest.map(TrainState.json) ?? .null),
      .init("lines", .array(lines.map { .object($0) })),
    ]
    return .object(fields)
  }

  /// Reads the JSON part back; `tensors` are the safetensors file's, `file` names the
  /// JSON file in errors.
  init(json: JSON, tensors: [(name: String, tensor: Tensor)], file: String) throws {
    let r = Reader(file: file)
    guard json["format"]?.text == "moonlab-train-state", json["version"]?.double == 1 else {
      throw r.fail("is not a version 1 moonlab train state")
    }
    fit = try r.count(json, "fit")
    epoch = try r.count(json, "epoch")
    fitEpoch = try r.count(json, "fit_epoch")
    epochs = try r.count(json, "epochs")
    guard case .bool(let f) = json["finished"] else { throw r.fail("'finished' is missing") }
    finished = f
    stop = json["stop"]?.text
    metricsLines = try r.count(json, "metrics_lines")
    linesBeforeFit = try r.count(json, "metrics_lines_before_fit")
    lines = try (json["lines"]?.items ?? []).map { line in
      // Epoch lines hold numbers only; a NaN was written as null.
      guard let fields = line.fields else { throw r.fail("'lines' holds a non-object") }
      return fields.map { .init($0.key, $0.value == .null ? .number(.nan) : $0.value) }
    }
    guard lines.count == fitEpoch, fitEpoch <= epochs, fit >= 1,
      linesBeforeFit + fitEpoch <= metricsLines
    else { throw r.fail("has inconsistent epoch counts") }

    guard let o = json["optimizer"] else { throw r.fail("'optimizer' is missing") }
    optimizerType = o["type"]?.text ?? ""
    let steps = try (o["steps"]?.items ?? []).map { try r.whole($0, "optimizer step count") }
    var buffers = [[Tensor]](repeating: [], count: steps.count)
    var model: [(name: String, tensor: Tensor)] = []
    for (name, t) in tensors {
      if name.hasPrefix("model.") {
        model.append((String(name.dropFirst(6)), t))
        continue
      }
      // optimizer.<parameter>.<buffer>, both counted from 0, in order.
      let parts = name.split(separator: ".")
      guard parts.count == 3, parts[0] == "optimizer", let i = Int(parts[1]), let k = Int(parts[2]),
        buffers.indices.contains(i), k == buffers[i].count
      else { throw r.fail("its tensors hold an unexpected '\(name)'") }
      buffers[i].append(t)
    }
    self.model = model
    optimizer = OptimizerState(
      lrs: try r.doubles(o["lrs"], "optimizer lrs"),
      initialLRs: o["initial_lrs"] == .null ? nil : try r.doubles(o["initial_lrs"], "initial lrs"),
      steps: steps, buffers: buffers)
    schedule = try json["schedule"].flatMap { $0 == .null ? nil : try TrainState.schedule($0, r) }

    guard let random = json["random"], let seed = LabSession.seed(from: random["seed"]) else {
      throw r.fail("'random' is missing")
    }
    var streams: [String: [UInt64]] = [:]
    for f in random["streams"]?.fields ?? [] { streams[f.key] = try r.words(f.value, f.key) }
    self.random = RandomState(
      seed: seed, global: try r.words(random["global"], "global"), streams: streams)
    guard let loaders = json["loaders"] else { throw r.fail("'loaders' is missing") }
    trainEpoch = try r.count(loaders, "train")
    valEpoch = loaders["val"] == nil ? nil : try r.count(loaders, "val")
    self.steps = try r.count(json, "steps")
    earlyStop = try json["early_stop"].flatMap {
      $0 == .null ? nil : try TrainState.position($0, r)
    }
    keepBest = try json["keep_best"].flatMap { $0 == .null ? nil : try TrainState.position($0, r) }
  }

  init(
    fit: Int, epoch: Int, fitEpoch: Int, epochs: Int, finished: Bool, stop: String?,
    metricsLines: Int, linesBeforeFit: Int, lines: [[JSON.Field]], optimizer: Optimizer,
    schedule: Schedule?, random: RandomState, trainEpoch: Int, valEpoch: Int?, steps: Int,
    earlyStop: BestMetric.Position?, keepBest: BestMetric.Position?, model: Module
  ) {
    (self.fit, self.epoch, self.fitEpoch, self.epochs) = (fit, epoch, fitEpoch, epochs)
    (self.finished, self.stop) = (finished, stop)
    (self.metricsLines, self.linesBeforeFit, self.lines) = (metricsLines, linesBeforeFit, lines)
    optimizerType = optimizer.typeName
    self.optimizer = optimizer.exportState()
    self.schedule = schedule
    self.random = random
    (self.trainEpoch, self.valEpoch, self.steps) = (trainEpoch, valEpoch, steps)
    (self.earlyStop, self.keepBest) = (earlyStop, keepBest)
    self.model = Checkpoint.state(of: model)
  }

  /// The safetensors part: the model as `model.<name>`, the optimizer's buffers as
  /// `optimizer.<parameter>.<buffer>`.
  var tensors: [(name: String, tensor: Tensor)] {
    model.map { ("model." + $0.name, $0.tensor) }
      + optimizer.buffers.enumerated().flatMap { i, buffers in
        buffers.enumerated().map { k, t in ("optimizer.\(i).\(k)", t) }
      }
  }

  // MARK: Coding helpers

  /// Doubles survive JSON's shortest round-trip form; ±∞ and NaN (a plateau's first
  /// best) are written as text, since strict JSON has no such numbers.
  static func exact(_ d: Double) -> JSON { d.isFinite ? .number(d) : .string(JSON.format(d)) }

  /// A random stream's four words as hexadecimal text (no JSON number holds 64 bits).
  static func words(_ w: [UInt64]) -> JSON { .array(w.map { .string(String($0, radix: 16)) }) }

  static func json(_ s: Schedule) -> JSON {
    switch s {
    case .epochs(let type, let epoch):
      return .object([.init("type", .string(type)), .init("epoch", .number(Double(epoch)))])
    case .plateau(let epoch, let best, let bad, let cooldown):
      return .object([
        .init("type", .string("ReduceLROnPlateau")), .init("epoch", .number(Double(epoch))),
        .init("best", exact(best)), .init("bad_steps", .number(Double(bad))),
        .init("cooldown_left", .number(Double(cooldown))),
      ])
    }
  }

  static func schedule(_ j: JSON, _ r: Reader) throws -> Schedule {
    guard let type = j["type"]?.text else { throw r.fail("the schedule has no type") }
    if type == "ReduceLROnPlateau" {
      return .plateau(
        epoch: try r.count(j, "epoch"), best: try r.double(j["best"], "best"),
        badSteps: try r.count(j, "bad_steps"), cooldownLeft: try r.count(j, "cooldown_left"))
    }
    return .epochs(type: type, epoch: try r.count(j, "epoch"))
  }

  static func json(_ p: BestMetric.Position) -> JSON {
    .object([
      .init("best", p.best.map(exact) ?? .null), .init("best_epoch", .number(Double(p.bestEpoch))),
      .init("epochs_without", .number(Double(p.epochsWithout))),
    ])
  }

  static func position(_ j: JSON, _ r: Reader) throws -> BestMetric.Position {
    BestMetric.Position(
      best: j["best"] == .null ? nil : try r.double(j["best"], "best"),
      bestEpoch: try r.count(j, "best_epoch"), epochsWithout: try r.count(j, "epochs_without"))
  }

  /// Typed reads of the JSON part; every failure names the file.
  struct Reader {
    let file: String
    func fail(_ why: String) -> LabError { LabError("\(file) \(why)") }

    func count(_ j: JSON?, _ key: String) throws -> Int { try whole(j?[key], "'\(key)'") }

    func whole(_ j: JSON?, _ what: String) throws -> Int {
      guard let d = j?.double, d >= 0, d < 1e15, d == d.rounded() else {
        throw fail("has no valid \(what) (a whole number ≥ 0)")
      }
      return Int(d)
    }

    func double(_ j: JSON?, _ what: String) throws -> Double {
      if let d = j?.double { return d }
      switch j?.text {
      case "NaN": return .nan
      case "Infinity": return .infinity
      case "-Infinity": return -.infinity
      default: throw fail("has no valid \(what)")
      }
    }

    func doubles(_ j: JSON?, _ what: String) throws -> [Double] {
      guard let items = j?.items else { throw fail("has no valid \(what)") }
      return try items.map { try double($0, what) }
    }

    func words(_ j: JSON?, _ what: String) throws -> [UInt64] {
      let w = (j?.items ?? []).compactMap { $0.text.flatMap { UInt64($0, radix: 16) } }
      guard w.count == 4, j?.items?.count == 4 else {
        throw fail("has no valid random stream '\(what)' (four hexadecimal words)")
      }
      return w
    }
  }
}
