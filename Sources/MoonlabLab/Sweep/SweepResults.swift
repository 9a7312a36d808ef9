import Foundation
import MoonlabTensor

/// The finished trials' results (result.json in each trial folder), sorted by the sweep's
/// metric, best first (ties in trial order), as results.csv, results.md, the sweep report
/// and the table lab.sweep returns. With `repeats`, one row per configuration: mean ± std
/// over its replicates, sorted by the mean. Needs only the sweep folder and sweep.json's
/// facts, so `moonlab report SWEEP_DIR` and `moonlab compare` can redo it.
struct SweepResults {
  let dir: URL
  let name: String
  let metric: String
  let maximize: Bool
  /// sweep.json without its trial list, for the report's provenance table.
  let provenance: JSON
  let entries: [(trial: Trial, result: JSON)]
  /// Trials in the sweep, finished or not.
  let total: Int
  /// Replicates per configuration (lab.sweep{repeats=}); above 1 the tables aggregate.
  let repeats: Int
  /// The configurations, best mean first (ties in trial order).
  let configurations: [ConfigurationResults]

  init(_ sweep: Sweep, trials: [Trial]) throws {
    try self.init(
      dir: sweep.dir, name: sweep.spec.name, metric: sweep.spec.metric,
      maximize: sweep.spec.maximize, repeats: sweep.spec.repeats,
      provenance: sweep.sweepJSON, trials: trials)
  }

  /// From a sweep folder's sweep.json.
  init(folder: URL) throws {
    let url = folder.appendingPathComponent("sweep.json")
    guard let j = try JSON.read(url) else { throw LabError("\(folder.path) has no sweep.json") }
    let seed = LabSession.seed(from: j["seed"]) ?? 0
    let settings = j["settings"]?.fields ?? []
    let trials = (j["trials"]?.items ?? []).enumerated().map {
      Trial(
        index: $0.offset, cfg: $0.element["cfg"]?.fields ?? [],
        replicate: $0.element["replicate"]?.double.flatMap { Int(exactly: $0) } ?? 0,
        sweepSeed: seed, settings: settings
      ).recognisingLegacyFolder(in: folder)
    }
    try self.init(
      dir: folder, name: j["name"]?.text ?? folder.lastPathComponent,
      metric: j["metric"]?.text ?? "", maximize: j["mode"]?.text != "min",
      repeats: j["repeats"]?.double.flatMap { Int(exactly: $0) } ?? 1, provenance: j,
      trials: trials)
  }

  init(
    dir: URL, name: String, metric: String, maximize: Bool, repeats: Int, provenance: JSON,
    trials: [Trial]
  ) throws {
    self.dir = dir
    self.name = name
    self.metric = metric
    self.maximize = maximize
    self.repeats = repeats
    self.provenance = .object((provenance.fields ?? []).filter { $0.key != "trials" })
    total = trials.count
    let found = try trials.filter {
      FileManager.default.fileExists(atPath: dir.appendingPathComponent("\($0.id)/DONE").path)
    }
    .map { t -> (trial: Trial, result: JSON) in
      let url = dir.appendingPathComponent("\(t.id)/result.json")
      guard let result = try JSON.read(url)?["result"] else {
        throw LabError("sweep \(name): \(url.path) is missing or has no result")
      }
      return (t, result)
    }
    func key(_ e: (trial: Trial, result: JSON)) -> Double {
      SweepResults.rankKey(e.result[metric]?.double, maximize: maximize)
    }
    entries = found.sorted { a, b in
      key(a) != key(b) ? key(a) > key(b) : a.trial.index < b.trial.index
    }
    func mean(_ c: ConfigurationResults) -> Double {
      SweepResults.rankKey(c.stats(metric)?.mean, maximize: maximize)
    }
    configurations = ConfigurationResults.group(found).sorted { a, b in
      mean(a) != mean(b)
        ? mean(a) > mean(b)
        : (a.trials.first?.trial.index ?? 0) < (b.trials.first?.trial.index ?? 0)
    }
  }

  /// Larger is better; NaN and a missing value rank last.
  static func rankKey(_ v: Double?, maximize: Bool) -> Double {
    guard let v, !v.isNaN else { return -.infinity }
    return maximize ? v : -v
  }

  var isRepeated: Bool { repeats > 1 }

  var cfgKeys: [String] { Array(Set(entries.flatMap { $0.trial.cfg.map(\.key) })).sorted() }

  var resultKeys: [String] {
    return [metric]
      + Array(Set(entries.flatMap { $0.result.fields?.map(\.key) ?? [] }).subtracting([metric]))
      .sorted()
  }

  /// What lab.sweep returns: {{trial=, seed=, cfg={…}, result={…}, dir=}, …}, best first;
  /// `dir` is the trial's run directory, so a script can read back its checkpoints. With
  /// repeats, one row per configuration: `result` holds the means, `std` the standard
  /// deviations, `n` the replicates, `trials` each replicate's row, and trial/seed/dir
  /// name the best replicate.
  var rows: JSON {
    guard isRepeated else { return .array(entries.map(trialRow)) }
    return .array(
      configurations.map { c in
        let best = c.best(metric, maximize: maximize).map(trialRow)?.fields ?? []
        return .object(
          best.filter { ["trial", "seed", "dir"].contains($0.key) } + [
            .init("cfg", .object(c.cfg)),
            .init(
              "result", .object(resultKeys.compactMap { k in c.summary(k).map { .init(k, $0) } })),
            .init(
              "std",
              .object(resultKeys.compactMap { k in c.stats(k)?.std.map { .init(k, .number($0)) } })),
            .init("n", .number(Double(c.n))), .init("trials", .array(c.trials.map(trialRow))),
          ])
      })
  }

  private func trialRow(_ e: (trial: Trial, result: JSON)) -> JSON {
    .object([
      .init("trial", .string(e.trial.id)), .init("seed", .number(Double(e.trial.seed))),
      .init("cfg", .object(e.trial.cfg)), .init("result", e.result),
      .init("dir", .string(dir.appendingPathComponent(e.trial.id).path)),
    ])
  }

  /// results.csv, results.md and the sweep's report.
  func write() throws {
    try writeTables()
    try writeReport()
  }

  func writeTables() throws {
    try AtomicFile.write(csv, to: dir.appendingPathComponent("results.csv"))
    let heading = "# Sweep \(name)\n\n\(summary).\n\n"
    try AtomicFile.write(
      heading + ReportWriter.markdownTable(columns, displayRows),
      to: dir.appendingPathComponent("results.md"))
  }

  /// report.html/md of a sweep folder that no script has added to.
  func writeReport() throws {
    try ReportWriter.write(
      ReportWriter.Input(
        dir: dir, title: "sweep \(name)", provenance: provenance, status: .finished, blocks: [],
        metrics: [], generated: reportBlocks))
  }

  /// "27 trials, sorted by test_acc (higher is better)", or with repeats
  /// "9 configurations × 3 seeds (27 trials), mean ± sample std, sorted by the mean of …".
  var summary: String {
    let order = "\(metric) (\(maximize ? "higher" : "lower") is better)"
    guard isRepeated else { return "\(entries.count) trials, sorted by \(order)" }
    return
      "\(configurations.count) configurations × \(repeats) seeds (\(entries.count) trials), mean ± sample std, sorted by the mean of \(order)"
  }

  /// The results table and one chart per logged metric overlaying every trial (with
  /// repeats, each configuration's mean curve).
  var reportBlocks: [ReportBlock] {
    var blocks: [ReportBlock] = [
      .section("Results"), .text("\(summary)."), .table(columns: columns, rows: displayRows),
    ]
    let curves = curvePlots()
    if !curves.isEmpty {
      let title =
        isRepeated
        ? "Curves of every configuration (mean of its replicates)" : "Curves of every trial"
      blocks += [.section(title)] + curves.map(ReportBlock.plot)
    }
    return blocks
  }

  /// The metrics.jsonl lines of a finished trial.
  func log(_ t: Trial) -> [JSON] {
    MetricsLog.read(dir.appendingPathComponent("\(t.id)/metrics.jsonl"))
  }

  /// One chart per logged metric key, with a line per trial, or per configuration (its
  /// replicates' mean) with repeats.
  func curvePlots() -> [Plot] {
    let lines: [(name: String, logs: [[JSON]])] =
      isRepeated
      ? configurations.map { c in ("\(c.label) (mean of \(c.n))", c.trials.map { log($0.trial) }) }
      : entries.map { ("\($0.trial.id) \($0.trial.label)", [log($0.trial)]) }
    return SweepResults.overlay(lines)
  }

  /// One chart per numeric, non-timing key logged by any of `lines`' runs, with a series
  /// per entry: its runs' mean at each x (a single run's values as they are).
  static func overlay(_ lines: [(name: String, logs: [[JSON]])]) -> [Plot] {
    var keys: [String] = []
    for log in lines.flatMap(\.logs) {
      for k in MetricsCharts.numericKeys(log) where !keys.contains(k) && !MetricsCharts.isTiming(k)
      {
        keys.append(k)
      }
    }
    let xlabel = lines.first?.logs.first.flatMap { MetricsCharts.xKey($0) } ?? "line"
    return keys.map { key in
      var p = Plot()
      p.title = key
      p.xlabel = xlabel
      p.series = lines.compactMap { name, logs in
        let (x, y) =
          logs.count == 1
          ? MetricsCharts.points(logs[0], key: key, x: MetricsCharts.xKey(logs[0]))
          : ConfigurationResults.meanCurve(logs, key: key)
        return y.isEmpty ? nil : Plot.Series(name: name, x: x, y: y)
      }
      return p
    }
  }

  static func csvField(_ s: String) -> String {
    s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" })
      ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
  }
}
