import Foundation

/// The configuration rows `moonlab compare` shows: config.json (and a sweep's sweep.json)
/// flattened to "key → value", only the keys whose values differ between the inputs
/// unless `all` (docs/lab.md, "Comparing runs").
enum ConfigDiff {
  /// Keys that differ between any two runs by nature (when and how a run was started),
  /// not by what it computes; `--all` shows them.
  static func isIncidental(_ key: String) -> Bool {
    let last = key.split(separator: ".").last.map(String.init) ?? key
    return ["argv", "cwd", "started", "finished", "status", "error"].contains(key)
      || MetricsCharts.isTiming(last)
  }

  /// Rows of `[key] + one value per input` ("" where an input lacks the key), keys in
  /// first-seen order.
  static func rows(_ configs: [[[String]]], all: Bool) -> [[String]] {
    var keys: [String] = []
    var values: [[String: String]] = []
    for config in configs {
      var map: [String: String] = [:]
      for row in config where row.count == 2 {
        if map[row[0]] == nil, !keys.contains(row[0]) { keys.append(row[0]) }
        map[row[0]] = row[1]
      }
      values.append(map)
    }
    return keys.compactMap { key in
      let cells = values.map { $0[key] ?? "" }
      if all { return [key] + cells }
      guard !isIncidental(key), Set(cells).count > 1, !repeatsConfig(key, values) else {
        return nil
      }
      return [key] + cells
    }
  }

  /// `settings.K` (a `--set` value; `sweep.settings.K` in sweep.json) is shown by
  /// `config.K` (lab.config at the end, which starts from the settings) whenever the two
  /// agree in every input.
  private static func repeatsConfig(_ key: String, _ values: [[String: String]]) -> Bool {
    guard let prefix = ["settings.", "sweep.settings."].first(where: key.hasPrefix) else {
      return false
    }
    let twin = "config." + key.dropFirst(prefix.count)
    return values.allSatisfy { $0[key] == $0[twin] }
  }
}
