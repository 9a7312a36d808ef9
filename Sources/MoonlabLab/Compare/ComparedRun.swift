import Foundation

/// A run directory as `moonlab compare` reads it: config.json flattened, its status, and
/// the final and best value of each metric in metrics.jsonl.
struct ComparedRun {
  let dir: URL
  let config: [[String]]
  let status: String
  let lines: [JSON]

  init(_ dir: URL) throws {
    guard let config = try JSON.read(dir.appendingPathComponent("config.json")) else {
      throw LabError("\(dir.path) has no config.json")
    }
    self.dir = dir
    self.config = ReportWriter.provenanceRows(config)
    let done = FileManager.default.fileExists(atPath: dir.appendingPathComponent("DONE").path)
    status = done ? "finished" : config["status"]?.text ?? "unknown"
    lines = MetricsLog.read(dir.appendingPathComponent("metrics.jsonl"))
  }

  /// Numeric metric keys, first seen first, without the x axis and timings.
  var metricKeys: [String] {
    MetricsCharts.numericKeys(lines).filter { !MetricsCharts.isTiming($0) }
  }

  /// The last logged value of `key`.
  func final(_ key: String) -> Double? {
    lines.last { $0[key]?.double != nil }?[key]?.double
  }

  /// The best logged value of `key` and where (x key and value, "epoch 8"), for keys
  /// with a direction (`ComparedRun.higherIsBetter`); the first of equal values.
  func best(_ key: String) -> (value: Double, at: String)? {
    guard let higher = ComparedRun.higherIsBetter(key) else { return nil }
    let x = MetricsCharts.xKey(lines)
    var best: (value: Double, at: String)?
    for (i, line) in lines.enumerated() {
      guard let v = line[key]?.double, !v.isNaN else { continue }
      if let b = best, higher ? v <= b.value : v >= b.value { continue }
      let at =
        x.flatMap { k in line[k]?.double.map { "\(k) \(JSON.format($0))" } } ?? "line \(i + 1)"
      best = (v, at)
    }
    return best
  }

  /// Accuracies are better higher, losses and errors lower; other keys (a learning
  /// rate) have no best.
  static func higherIsBetter(_ key: String) -> Bool? {
    if key.contains("acc") { return true }
    if key.contains("loss") || key.contains("error") { return false }
    return nil
  }
}
