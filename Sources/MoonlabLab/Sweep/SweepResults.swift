import Foundation
import MoonlabTensor

/// The finished trials' results (result.json in each trial folder), sorted by the sweep's
/// metric, best first (ties in trial order), as results.csv, results.md, the sweep report
/// and the table lab.sweep returns. Needs only the sweep folder and sweep.json's facts,
/// so `moonlab report SWEEP_DIR` can redo it.
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

  init(_ sweep: Sweep, trials: [Trial]) throws {
    try self.init(
      dir: sweep.dir, name: sweep.spec.name, metric: sweep.spec.metric,
      maximize: sweep.spec.maximize,
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
        index: $0.offset, cfg: $0.element["cfg"]?.fields ?? [], sweepSeed: seed, settings: settings)
    }
    try self.init(
      dir: folder, name: j["name"]?.text ?? folder.lastPathComponent,
      metric: j["metric"]?.text ?? "",
      maximize: j["mode"]?.text != "min", provenance: j, trials: trials)
  }

  init(dir: URL, name: String, metric: String, maximize: Bool, provenance: JSON, trials: [Trial])
    throws
  {
    self.dir = dir
    self.name = name
    self.metric = metric
    self.maximize = maximize
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
      let v = e.result[metric]?.double ?? .nan
      return v.isNaN ? -.infinity : maximize ? v : -v
    }
    entries = found.sorted { a, b in
      key(a) != key(b) ? key(a) > key(b) : a.trial.index < b.trial.index
    }
  }

  var cfgKeys: [String] { Array(Set(entries.flatMap { $0.trial.cfg.map(\.key) })).sorted() }

  var resultKeys: [String] {
    return [metric]
      + Array(Set(entries.flatMap { $0.result.fields?.map(\.key) ?? [] }).subtracting([metric]))
      .sorted()
  }

  /// What lab.sweep returns: {{trial=, seed=, cfg={…}, result={…}, dir=}, …}, best first;
  /// `dir` is the trial's run directory, so a script can read back its checkpoints.
  var rows: JSON {
    .array(
      entries.map {
        .object([
          .init("trial", .string($0.trial.id)), .init("seed", .number(Double($0.trial.seed))),
          .init("cfg", .object($0.trial.cfg)), .init("result", $0.result),
          .init("dir", .string(dir.appendingPathComponent($0.trial.id).path)),
        ])
      })
  }

  /// Cells of one row; `exact` keeps every digit (CSV), otherwise the report's format.
  private func cells(_ rank: Int, _ e: (trial: Trial, result: JSON), exact: Bool) -> [String] {
    func show(_ v: JSON?) -> String {
      guard let v else { return "" }
      return exact ? (v.double.map(JSON.format) ?? ReportWriter.cell(v)) : ReportWriter.cell(v)
    }
    let cfg = JSON.object(e.trial.cfg)
    return ["\(rank)", e.trial.id, String(e.trial.seed)] + cfgKeys.map { show(cfg[$0]) }
      + resultKeys.map { show(e.result[$0]) }
  }

  var columns: [String] { ["rank", "trial", "seed"] + cfgKeys + resultKeys }

  /// results.csv, results.md and the sweep's report.
  func write() throws {
    try writeTables()
    try writeReport()
  }

  func writeTables() throws {
    let csv =
      ([columns] + entries.enumerated().map { cells($0.offset + 1, $0.element, exact: true) })
      .map { $0.map(SweepResults.csvField).joined(separator: ",") }.joined(separator: "\n") + "\n"
    try AtomicFile.write(csv, to: dir.appendingPathComponent("results.csv"))
    let heading = "# Sweep \(name)\n\n\(entries.count) trials, \(order).\n\n"
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

  private var order: String { "sorted by \(metric) (\(maximize ? "higher" : "lower") is better)" }
  var displayRows: [[String]] {
    entries.enumerated().map { cells($0.offset + 1, $0.element, exact: false) }
  }

  /// The results table and one chart per logged metric overlaying every trial.
  var reportBlocks: [ReportBlock] {
    var blocks: [ReportBlock] = [
      .section("Results"), .text("\(entries.count) trials, \(order)."),
      .table(columns: columns, rows: displayRows),
    ]
    let curves = curvePlots()
    if !curves.isEmpty {
      blocks += [.section("Curves of every trial")] + curves.map(ReportBlock.plot)
    }
    return blocks
  }

  /// One chart per logged metric key, with a line per trial.
  func curvePlots() -> [Plot] {
    let logs = entries.map {
      ($0.trial, MetricsLog.read(dir.appendingPathComponent("\($0.trial.id)/metrics.jsonl")))
    }
    var keys: [String] = []
    for (_, lines) in logs {
      for k in MetricsCharts.numericKeys(lines)
      where !keys.contains(k) && !MetricsCharts.isTiming(k) { keys.append(k) }
    }
    return keys.map { key in
      var p = Plot()
      p.title = key
      p.xlabel = logs.first.flatMap { MetricsCharts.xKey($0.1) } ?? "line"
      p.series = logs.compactMap { trial, lines in
        let (x, y) = MetricsCharts.points(lines, key: key, x: MetricsCharts.xKey(lines))
        return y.isEmpty ? nil : Plot.Series(name: "\(trial.id) \(trial.label)", x: x, y: y)
      }
      return p
    }
  }

  static func csvField(_ s: String) -> String {
    s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" })
      ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
  }
}
