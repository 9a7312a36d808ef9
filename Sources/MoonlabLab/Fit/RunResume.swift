import Foundation
import MoonlabTensor

/// `moonlab resume RUN_DIR` and the resumption of a sweep's unfinished trials (docs/lab.md,
/// "Resuming a run"). The saved script runs again with the recorded seed, threads and
/// settings; the set-up before lab.fit rebuilds the same model, optimizer and loaders;
/// what it logs on the way is checked against the recorded lines; the lab.fit call that
/// took the newest checkpoint loads it and goes on from there, into the same directory.
public enum RunResume {
  /// The request that continues the run in `runDir`, or an error saying why it can't be.
  public static func request(runDir: URL) throws -> RunRequest {
    let fm = FileManager.default
    let config = runDir.appendingPathComponent("config.json")
    if !fm.fileExists(atPath: config.path),
      fm.fileExists(atPath: runDir.appendingPathComponent("sweep.json").path)
    {
      throw LabError(
        "\(runDir.path) is a sweep folder: run `moonlab sweep SCRIPT` again, which continues its unfinished trials from their checkpoints (or resume one trial: moonlab resume \(runDir.path)/<trial>)"
      )
    }
    guard let recorded = try JSON.read(config) else {
      throw LabError("\(runDir.path) is not a run directory (no config.json)")
    }
    if fm.fileExists(atPath: runDir.appendingPathComponent("DONE").path) {
      throw LabError("\(runDir.path) finished (DONE is there): there is nothing to resume")
    }
    if recorded["sweep"] != nil {
      throw LabError(
        "\(runDir.path) is a sweep folder whose sweep finished: there is nothing to resume")
    }
    guard fm.fileExists(atPath: runDir.appendingPathComponent("script.lua").path) else {
      throw LabError("\(runDir.path) has no script.lua to run again")
    }
    var r = try Rerun.request(runDir: runDir, script: nil, out: runDir.path)
    r.resume = true
    return r
  }

  /// Reopens the unfinished run in `dir` at its newest whole checkpoint, or from the
  /// start when it has none (nil instead with `onlyFromCheckpoint`); `note` says which.
  static func reopen(
    _ dir: URL, onlyFromCheckpoint: Bool = false, note: (String) -> Void
  ) throws -> RunRecord? {
    // Locked first: nothing is read, cut or removed while the run may still be going.
    let metrics = try MetricsLog(resuming: dir.appendingPathComponent("metrics.jsonl"))
    let point = TrainState.latest(in: dir, note: note)
    if point == nil, onlyFromCheckpoint { return nil }
    try metrics.cutBack(keeping: point?.metricsLines ?? 0)
    if let point {
      note(
        "resuming \(dir.path) after epoch \(point.epoch) (\(TrainState.folder)/\(TrainState.baseName(point.epoch)).json)"
      )
    } else {
      note(
        "\(dir.path) has no checkpoint to resume from (lab.fit's checkpoint_every writes them): running it again from the start"
      )
    }
    return try RunRecord(resuming: dir, from: point, metrics: metrics)
  }

  /// After the script: a resumed run must have reached the lab.fit call that took its
  /// checkpoint (and with it every recorded line), or its record would lack them.
  static func checkReached(_ record: RunRecord) throws {
    if let point = record.resumePoint {
      throw LabError(
        "resume: the script ended without reaching lab.fit call \(point.fit), which took the checkpoint of epoch \(point.epoch) (made \(record.fitCalls) call(s)): it is not the run that was recorded"
      )
    }
  }
}
