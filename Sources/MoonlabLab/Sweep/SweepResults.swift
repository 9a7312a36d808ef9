import Foundation
import MoonlabTensor

/// The finished trials' results (result.json in each trial folder), sorted by the sweep's
/// metric, best first (ties in trial order), as results.csv, results.md, the sweep report
/// and the table lab.sweep returns.
struct SweepResults {
  let sweep: Sweep
  let entries: [(trial: Trial, result: JSON)]

  init(_ sweep: Sweep, trials: [Trial]) throws {
    self.sweep = sweep
    let spec = sweep.spec
    let found = try trials.filter(sweep.isDone).map { t -> (trial: Trial, result: JSON) in
      let url = sweep.trialDir(t).appendingPathComponent("result.json")
      guard let data = FileManager.default.contents(atPath: url.path),
        let result = try JSON.parse(String(decoding: data, as: UTF8.self))["result"]
      else { throw LabError("sweep \(spec.name): \(url.path) is missing or has no result") }
      return (t, result)
    }
    func key(_ e: (trial: Trial, result: JSON)) -> Double {
      let v = e.result[spec.metric]?.double ?? .nan
      return v.isNaN ? -.infinity : spec.maximize ? v : -v
    }
    entries = found.sorted { a, b in key(a) != key(b) ? key(a) > key(b) : a.trial.index < b.trial.index }
  }

  var cfgKeys: [String] { Array(Set(entries.flatMap { $0.trial.cfg.map(\.key) })).sorted() }

  var resultKeys: [String] {
    let metric = sweep.spec.metric
    return [metric] + Array(Set(entries.flatMap { $0.result.fields?.map(\.key) ?? [] }).subtracting([metric])).sorted()
  }

  /// What lab.sweep returns: {{trial=, seed=, cfg={…}, result={…}}, …}, best first.
  var rows: JSON {
    .array(
      entries.map {
        .object([
          .init("trial", .string($0.trial.id)), .init("seed", .number(Double($0.trial.seed))),
          .init("cfg", .object($0.trial.cfg)), .init("result", $0.result),
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
    return ["\(rank)", e.trial.id, String(e.trial.seed)] + cfgKeys.map { show(cfg[$0]) } + resultKeys.map { show(e.result[$0]) }
  }

  var columns: [String] { ["rank", "trial", "seed"] + cfgKeys + resultKeys }

  func write() throws {
    let csv = ([columns] + entries.enumerated().map { cells($0.offset + 1, $0.element, exact: true) })
      .map { $0.map(SweepResults.csvField).joined(separator: ",") }.joined(separator: "\n") + "\n"
    try AtomicFile.write(csv, to: sweep.dir.appendingPathComponent("results.csv"))
    let table = entries.enumerated().map { cells($0.offset + 1, $0.element, exact: false) }
    let spec = sweep.spec
    let heading = "# Sweep \(spec.name)\n\n\(entries.count) trials, sorted by \(spec.metric) (\(spec.maximize ? "higher" : "lower") is better).\n\n"
    try AtomicFile.write(heading + ReportWriter.markdownTable(columns, table), to: sweep.dir.appendingPathComponent("results.md"))

    var blocks: [ReportBlock] = [
      .section("Results"),
      .text("\(entries.count) trials, sorted by `\(spec.metric)` (\(spec.maximize ? "higher" : "lower") is better)."),
      .table(columns: columns, rows: table),
    ]
    let curves = curvePlots()
    if !curves.isEmpty { blocks += [.section("Curves of every trial")] + curves.map(ReportBlock.plot) }
    var provenance = sweep.sweepJSON.fields ?? []
    provenance.removeAll { $0.key == "trials" }
    try ReportWriter.write(
      ReportWriter.Input(
        dir: sweep.dir, title: "sweep \(spec.name)", provenance: .object(provenance), status: .finished,
        blocks: blocks, metrics: []))
  }

  /// One chart per logged metric key, with a line per trial.
  func curvePlots() -> [Plot] {
    let logs = entries.map { ($0.trial, MetricsLog.read(sweep.trialDir($0.trial).appendingPathComponent("metrics.jsonl"))) }
    var keys: [String] = []
    for (_, lines) in logs {
      for k in MetricsCharts.numericKeys(lines) where !keys.contains(k) && !MetricsCharts.isTiming(k) { keys.append(k) }
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
    s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
  }
}
