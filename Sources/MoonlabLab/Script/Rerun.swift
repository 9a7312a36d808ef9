import Foundation
import MoonlabData
import MoonlabTensor

/// `moonlab rerun RUN_DIR`: the request that repeats a recorded run (its saved script,
/// seed, thread count, --set values, arguments and limits; a sweep trial runs as that
/// trial again), and the comparison of two metrics logs.
public enum Rerun {
  public static func request(runDir: URL, script: String?, out: String?) throws -> RunRequest {
    guard let config = try JSON.read(runDir.appendingPathComponent("config.json")) else {
      throw LabError("\(runDir.path) is not a run directory (no config.json)")
    }
    if config["sweep"] != nil {
      throw LabError(
        "\(runDir.path) is a sweep folder: rerun one of its trials (\(runDir.path)/<trial>) or run `moonlab sweep` again"
      )
    }
    var r = RunRequest(scriptPath: script ?? runDir.appendingPathComponent("script.lua").path)
    let name = config["name"]?.text ?? runDir.lastPathComponent
    r.name = name
    r.seed = LabSession.seed(from: config["seed"]) ?? 0
    r.threads = Int(config["threads"]?.double ?? 1)
    r.arguments = config["arguments"]?.items?.compactMap(\.text) ?? []
    r.config = (config["settings"]?.fields ?? []).compactMap { f in
      ConfigValue(json: f.value).map { (f.key, $0) }
    }
    r.sandbox = config["sandbox"] == .bool(true)
    r.memoryLimitBytes = Int(config["memory_limit_bytes"]?.double ?? 0)
    r.timeLimitSeconds = config["time_limit_seconds"]?.double ?? 0
    for entry in config["datasets"]?.items ?? [] {
      if let (key, origin) = DatasetRecord.pin(entry) { r.dataPins[key] = origin }
    }
    let dir =
      out.map { URL(fileURLWithPath: $0) }
      ?? RunRecord.defaultDir(name: name.replacingOccurrences(of: "/", with: "-") + "-rerun")
    if let trial = config["trial"], let id = trial["id"]?.text {
      var sweep = SweepOptions()
      sweep.trial = id
      sweep.trialDir = dir.path
      sweep.out = trial["sweep_dir"]?.text
      r.sweep = sweep
    } else {
      r.outDir = dir.path
    }
    return r
  }

  /// How a rerun's metrics compare with the original's.
  public enum Verdict: Equatable {
    case bitIdentical
    /// Every value is bit-identical except keys that measure time (these, in first-seen order).
    case timingOnly([String])
    /// Where they first differ: "line 3 (epoch 3): metric 'train_loss' is … in the
    /// original, … in the rerun".
    case differs(String)
  }

  /// Compares both metrics logs value by value, bit for bit. Both files are read strictly:
  /// a line that is not a JSON object is an error.
  public static func compare(_ a: URL, _ b: URL) throws -> Verdict {
    let x = try MetricsLog.readStrictly(a.appendingPathComponent("metrics.jsonl"))
    let y = try MetricsLog.readStrictly(b.appendingPathComponent("metrics.jsonl"))
    var timing: [String] = []
    for (i, (l, r)) in zip(x, y).enumerated() {
      let keys = (l.fields ?? []).map(\.key) + (r.fields ?? []).map(\.key).filter { l[$0] == nil }
      for key in keys where !same(l[key], r[key]) {
        if MetricsCharts.isTiming(key) {
          if !timing.contains(key) { timing.append(key) }
          continue
        }
        let at = ["epoch", "step"].compactMap { k in l[k].map { "\(k) \(ReportWriter.cell($0))" }
        }.first
        return .differs(
          "line \(i + 1)\(at.map { " (\($0))" } ?? ""): metric '\(key)' is \(show(l[key])) in the original, \(show(r[key])) in the rerun"
        )
      }
    }
    if x.count != y.count {
      return .differs("the original logged \(x.count) metric lines, the rerun \(y.count)")
    }
    return timing.isEmpty ? .bitIdentical : .timingOnly(timing)
  }

  /// nil when both metrics logs hold the same lines with bit-identical values (timing
  /// keys such as `seconds` aside), else where they first differ.
  public static func firstDifference(_ a: URL, _ b: URL) throws -> String? {
    if case .differs(let where_) = try compare(a, b) { return where_ }
    return nil
  }

  /// The first key whose value differs between two metrics lines, bit for bit, timing
  /// keys aside; nil when they agree.
  static func differingKey(_ l: JSON, _ r: JSON) -> String? {
    let keys = (l.fields ?? []).map(\.key) + (r.fields ?? []).map(\.key).filter { l[$0] == nil }
    return keys.first { !MetricsCharts.isTiming($0) && !same(l[$0], r[$0]) }
  }

  private static func same(_ a: JSON?, _ b: JSON?) -> Bool {
    if let p = a?.double, let q = b?.double {
      return p.bitPattern == q.bitPattern || (p.isNaN && q.isNaN)
    }
    return a == b
  }

  private static func show(_ v: JSON?) -> String { v.map { $0.serialized() } ?? "absent" }
}
