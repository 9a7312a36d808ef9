import Foundation

/// Charts drawn from metrics.jsonl lines: which key is the x axis, which keys go
/// together, and which keys are wall-clock timings (left out of comparisons).
enum MetricsCharts {
  /// "epoch" when every line has it, else "step", else the line number.
  static func xKey(_ lines: [JSON]) -> String? {
    for key in ["epoch", "step"] where lines.allSatisfy({ $0[key]?.double != nil }) { return key }
    return nil
  }

  /// Keys that measure time, which differ from run to run by nature.
  static func isTiming(_ key: String) -> Bool {
    key == "seconds" || key == "time" || key == "elapsed" || key.hasSuffix("_seconds")
      || key.hasSuffix("_per_s")
  }

  /// The numeric keys in first-seen order, without the x axis keys.
  static func numericKeys(_ lines: [JSON]) -> [String] {
    var seen: [String] = []
    for line in lines {
      for f in line.fields ?? [] where f.value.double != nil && f.key != "epoch" && f.key != "step"
      {
        if !seen.contains(f.key) { seen.append(f.key) }
      }
    }
    return seen
  }

  /// Losses together, accuracies together, then every other key on its own.
  static func standardGroups(_ lines: [JSON]) -> [(title: String, keys: [String])] {
    let keys = numericKeys(lines)
    let loss = keys.filter { $0.contains("loss") }
    let acc = keys.filter { $0.contains("acc") && !$0.contains("loss") }
    var groups: [(String, [String])] = []
    if !loss.isEmpty { groups.append(("Loss", loss)) }
    if !acc.isEmpty { groups.append(("Accuracy", acc)) }
    for k in keys where !loss.contains(k) && !acc.contains(k) { groups.append((k, [k])) }
    return groups
  }

  static func points(_ lines: [JSON], key: String, x: String?) -> (x: [Double], y: [Double]) {
    var xs: [Double] = []
    var ys: [Double] = []
    for (i, line) in lines.enumerated() {
      guard let y = line[key]?.double else { continue }
      xs.append(x.flatMap { line[$0]?.double } ?? Double(i + 1))
      ys.append(y)
    }
    return (xs, ys)
  }

  static func plot(_ lines: [JSON], title: String, keys: [String], logy: Bool) -> Plot {
    let x = xKey(lines)
    var p = Plot()
    p.title = title
    p.xlabel = x ?? "line"
    p.logy = logy
    p.series = keys.map { key in
      let (xs, ys) = points(lines, key: key, x: x)
      return Plot.Series(name: key, x: xs, y: ys)
    }
    return p
  }
}
