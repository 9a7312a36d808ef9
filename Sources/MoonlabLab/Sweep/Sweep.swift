import CLua
import Foundation
import MoonlabLua
import MoonlabTensor

/// lab.sweep{…}: works out the trials, then — as `moonlab sweep` asked — runs the
/// unfinished ones here or in worker processes (all or one shard), runs a single trial
/// (a worker), gathers results (--merge), writes an sbatch script (--emit-slurm) or
/// submits it and waits for it (--slurm).
/// Each trial is a run directory runs/SWEEP/<id>/ (under `moonlab run`: RUN/sweeps/SWEEP/<id>/)
/// whose DONE marks it finished; the
/// sweep folder gets sweep.json, results.csv, results.md and report.html/md.
struct Sweep {
  let lua: Lua
  let session: LabSession
  let spec: SweepSpec
  let options: SweepOptions
  let dir: URL

  init(_ lua: Lua, session: LabSession) throws {
    self.lua = lua
    self.session = session
    var spec = try SweepSpec(
      lua, defaultSeed: session.request.seed, defaultName: session.request.scriptName,
      settings: session.request.config.map { .init($0.key, $0.value.json) })
    options = session.request.sweep ?? SweepOptions()
    if let out = options.out {
      dir = URL(fileURLWithPath: out)
    } else if session.request.sweep == nil, let run = session.record {
      // Under `moonlab run` the sweep belongs to the run: its trials live in the run
      // directory, so every run (a `moonlab rerun` too) computes them afresh instead of
      // finding them done in a shared folder. `moonlab sweep` keeps a resumable one.
      dir = run.dir.appendingPathComponent("sweeps/\(spec.name)")
    } else {
      dir = URL(fileURLWithPath: "runs/\(spec.name)")
    }
    let folder = dir
    spec.trials = spec.trials.map { $0.recognisingLegacyFolder(in: folder) }
    self.spec = spec
  }

  func trialDir(_ t: Trial) -> URL { dir.appendingPathComponent(t.id) }
  func isDone(_ t: Trial) -> Bool {
    FileManager.default.fileExists(atPath: trialDir(t).appendingPathComponent("DONE").path)
  }

  /// Whether a trial's record was made by the script running now (its sha256).
  func ranThisScript(_ t: Trial) -> Bool {
    let config = FileManager.default.contents(
      atPath: trialDir(t).appendingPathComponent("config.json").path)
    let recorded = config.flatMap { try? JSON.parse(String(decoding: $0, as: UTF8.self)) }
    return recorded?["script"]?["sha256"]?.text == SHA256.hex(session.script)
  }

  /// The results table handed back to the script (sorted best first), or an empty one
  /// when the script is to stop here.
  func run() throws -> JSON {
    if let id = options.trial {
      guard let t = spec.trials.first(where: { $0.id == id }) else {
        throw LuaError("lab.sweep: sweep '\(spec.name)' has no trial '\(id)'")
      }
      let ok = runTrial(t, into: options.trialDir.map { URL(fileURLWithPath: $0) } ?? trialDir(t))
      return stop(success: ok, "trial \(id) failed")
    }
    if options.requireExisting, !FileManager.default.fileExists(atPath: dir.path) {
      throw LuaError("lab.sweep: --resume: \(dir.path) doesn't exist (nothing to resume)")
    }
    try Folder.create(dir)
    try AtomicFile.write(
      sweepJSON.serialized(pretty: true) + "\n", to: dir.appendingPathComponent("sweep.json"))
    if options.emitSlurm || options.slurm != nil {
      let file = try SlurmScript.write(self)
      guard let slurm = options.slurm else {
        print("sweep \(spec.name): \(spec.trials.count) trials; submit with: sbatch \(file.path)")
        return stop(success: true, "")
      }
      let todo = spec.trials.filter { !isDone($0) }.count
      if todo > 0 {
        let job = try SlurmJob.submit(file)
        print(
          "sweep \(spec.name): \(spec.trials.count) trials, \(spec.trials.count - todo) already done; submitted slurm job \(job) with \(SlurmScript.shards(self)) array tasks (logs: \(dir.path)/slurm-\(job)_TASK.out)"
        )
        guard slurm.wait else {
          print(
            "sweep \(spec.name): not waiting; once job \(job) has ended, gather the results with `moonlab sweep \(session.request.scriptPath) --out \(dir.path) --merge`"
          )
          return stop(success: true, "")
        }
        try SlurmJob.wait(job, sweep: self, pollSeconds: slurm.pollSeconds)
      }
    }
    if !options.merge && options.slurm == nil {
      var mine = spec.trials
      if let shard = options.shard { mine = mine.filter { $0.index % shard.count == shard.index } }
      let todo = mine.filter { !isDone($0) }
      let shardText = options.shard.map { " (shard \($0.index)/\($0.count))" } ?? ""
      print(
        "sweep \(spec.name)\(shardText): \(mine.count) trials, \(mine.count - todo.count) already done, running \(todo.count)"
      )
      let edited = mine.filter { isDone($0) && !ranThisScript($0) }
      if !edited.isEmpty {
        print(
          "note: \(edited.count) finished trial(s) ran another version of the script; their results are kept (delete \(dir.path)/<id> to run one again): \(edited.map(\.id).joined(separator: ", "))"
        )
      }
      if options.jobs > 1 {
        try TrialProcesses.run(todo, sweep: self)
      } else {
        for t in todo where Interrupts.pending == nil { _ = runTrial(t, into: trialDir(t)) }
      }
      if let signal = Interrupts.pending {
        throw LuaError(
          "lab.sweep: interrupted by \(signal == SIGINT ? "SIGINT (Ctrl-C)" : "SIGTERM"); finished trials are kept, run the sweep again to do the rest"
        )
      }
      let failed = mine.filter { !isDone($0) }
      if !failed.isEmpty {
        throw LuaError(
          "lab.sweep: \(failed.count) trial(s) failed: "
            + failed.map { "\($0.id) (\(trialDir($0).appendingPathComponent("report.html").path))" }
            .joined(separator: ", "))
      }
      if let shard = options.shard {
        // The rest of the script expects every result: it runs under --merge.
        print(
          "sweep \(spec.name): shard \(shard.index)/\(shard.count) done; gather with `moonlab sweep … --merge`"
        )
        return stop(success: true, "")
      }
    }
    let missing = spec.trials.filter { !isDone($0) }
    if !missing.isEmpty {
      throw LuaError(
        "lab.sweep --merge: \(missing.count) of \(spec.trials.count) trials are not finished: "
          + missing.map(\.id).joined(separator: ", "))
    }
    let results = try SweepResults(self, trials: spec.trials)
    try results.write()
    print("sweep \(spec.name): results in \(dir.appendingPathComponent("results.csv").path)")
    try record(results)
    return results.rows
  }

  /// What the script reports after the sweep: under `moonlab run`, its run record gets
  /// the results; under `moonlab sweep`, the sweep folder becomes the record (config.json,
  /// script.lua, metrics.jsonl, DONE), its report the results, the curves and whatever the
  /// script adds.
  private func record(_ results: SweepResults) throws {
    if let outer = session.record {
      outer.add(.section("Sweep \(spec.name)"))
      outer.add(.table(columns: results.columns, rows: results.displayRows))
      return
    }
    let extra: [JSON.Field] = [.init("sweep", .string(spec.name))]
    let record = try RunRecord(
      dir: dir, provenance: session.provenance(name: "sweep \(spec.name)", extra: extra),
      script: session.script,
      reuse: true)
    record.leading = results.reportBlocks
    session.record = record
  }

  /// Ends the script after lab.sweep (a worker's trial, an emitted sbatch file).
  private func stop(success: Bool, _ message: String) -> JSON {
    session.earlyExit = (success, message)
    return .null
  }

  var sweepJSON: JSON {
    .object([
      .init("name", .string(spec.name)), .init("seed", LabSession.seedJSON(spec.seed)),
      .init("metric", .string(spec.metric)), .init("mode", .string(spec.maximize ? "max" : "min")),
      .init("space", spec.space), .init("repeats", .number(Double(spec.repeats))),
      .init("settings", .object(spec.settings)),
      .init(
        "trials",
        .array(
          spec.trials.map {
            .object([
              .init("id", .string($0.id)), .init("seed", LabSession.seedJSON($0.seed)),
              .init("cfg", .object($0.cfg)), .init("replicate", .number(Double($0.replicate))),
            ])
          })),
    ])
  }

  /// Runs one trial in this process: its own run record and seed, run(cfg) under pcall,
  /// result.json, then DONE. A failure is reported and leaves no DONE.
  func runTrial(_ t: Trial, into trialDir: URL) -> Bool {
    let previous = session.record
    defer { session.record = previous }
    let record: RunRecord
    do {
      let extra: [JSON.Field] = [
        .init(
          "trial",
          .object([
            .init("sweep", .string(spec.name)), .init("id", .string(t.id)),
            .init("cfg", .object(t.cfg)),
            .init("sweep_dir", .string(dir.standardizedFileURL.path)),
          ])),
        .init("trial_seed", LabSession.seedJSON(t.seed)),
      ]
      if let resumed = try resumedTrial(t, trialDir) {
        record = resumed
      } else {
        // An unfinished earlier attempt without a checkpoint starts over.
        try? FileManager.default.removeItem(at: trialDir)
        record = try RunRecord(
          dir: trialDir, provenance: session.provenance(name: "\(spec.name)/\(t.id)", extra: extra),
          script: session.script, restart: true)
      }
    } catch {
      FileHandle.standardError.write(Data("moonlab: trial \(t.id): \(error)\n".utf8))
      return false
    }
    session.record = record
    session.host.context.reseed(t.seed)
    let replicate = spec.repeats > 1 ? " (replicate \(t.replicate + 1)/\(spec.repeats))" : ""
    session.output.write("trial \(t.id): \(t.label)\(replicate)\n")
    do {
      let result = try callRun(t)
      try RunResume.checkReached(record)
      record.add(.section("Result"))
      record.add(
        .table(
          columns: ["key", "value"],
          rows: (result.fields ?? []).map { [$0.key, ReportWriter.cell($0.value)] }))
      let saved = JSON.object([
        .init("id", .string(t.id)), .init("seed", LabSession.seedJSON(t.seed)),
        .init("cfg", .object(t.cfg)),
        .init("result", result),
      ])
      try AtomicFile.write(
        saved.serialized(pretty: true) + "\n", to: trialDir.appendingPathComponent("result.json"))
      try record.finish(.finished, config: session.labConfig())
      return true
    } catch {
      let message = ScriptRunner.explain(error, session.request)
      let status: RunStatus = Interrupts.pending != nil ? .interrupted(message) : .failed(message)
      FileHandle.standardError.write(
        Data("moonlab: trial \(t.id) \(status.name): \(message)\n".utf8))
      try? record.finish(status, config: session.labConfig())
      return false
    }
  }

  /// The trial's record reopened at its newest checkpoint, when an unfinished attempt of
  /// this script left one (docs/lab.md, "Resuming a run"); nil to start it over.
  private func resumedTrial(_ t: Trial, _ trialDir: URL) throws -> RunRecord? {
    let fm = FileManager.default
    let config = trialDir.appendingPathComponent("config.json")
    guard fm.fileExists(atPath: config.path),
      !fm.fileExists(atPath: trialDir.appendingPathComponent("DONE").path),
      (try? JSON.read(config))??["script"]?["sha256"]?.text == SHA256.hex(session.script),
      fm.fileExists(atPath: trialDir.appendingPathComponent(TrainState.folder).path)
    else { return nil }
    return try RunResume.reopen(trialDir, onlyFromCheckpoint: true) { line in
      session.output.write("trial \(t.id): \(line)\n")
    }
  }

  /// run(cfg) where cfg holds the trial's values plus `seed` and `trial` (its id).
  private func callRun(_ t: Trial) throws -> JSON {
    let top = lua.top
    defer { lua.setTop(top) }
    lua.rawField(1, "run")
    // cfg.replicate counts from 1; a sweep without repeats runs replicate 1 of each.
    lua.push(
      json: .object(
        t.cfg + [
          .init("seed", .number(Double(t.seed))), .init("trial", .string(t.id)),
          .init("replicate", .number(Double(t.replicate + 1))),
        ]))
    try session.host.call(arguments: 1, results: 1, on: lua)
    guard lua.type(-1) == LUA_TTABLE else {
      throw LuaError(
        "lab.sweep: run(cfg) must return a table like {\(spec.metric)=…}, got \(lua.typeName(-1))")
    }
    let result = try lua.objectJSON(-1, "lab.sweep result")
    guard result[spec.metric]?.double != nil else {
      throw LuaError(
        "lab.sweep: run(cfg)'s result has no number '\(spec.metric)' (the sweep's metric)")
    }
    return result
  }
}
