import Foundation

/// Sweep folders side by side for `moonlab compare`: what differs in their settings, a
/// table with a row per configuration (aligned across the sweeps by its values) and a
/// column per sweep and result key (mean ± std with repeats), and the curves of each
/// sweep's best configuration.
struct SweepComparison {
  let parts: Comparison.Parts

  init(_ sweeps: [SweepResults], labels: [String], all: Bool) throws {
    var tables: [ReportBlock] = [
      .section("Sweeps"),
      .table(
        columns: ["sweep", "folder", "metric", "trials"],
        rows: zip(labels, sweeps).map { label, s in
          [
            label, s.dir.path, "\(s.metric) (\(s.maximize ? "max" : "min"))",
            "\(s.entries.count) of \(s.total) finished"
              + (s.isRepeated ? ", \(s.configurations.count) configurations × \(s.repeats)" : ""),
          ]
        }),
    ]
    let configs = try sweeps.map { s in
      let record = try JSON.read(s.dir.appendingPathComponent("config.json"))
      return (record.map { ReportWriter.provenanceRows($0) } ?? [])
        + ReportWriter.provenanceRows(s.provenance, prefix: "sweep")
    }
    tables += Comparison.configSection(
      ConfigDiff.rows(configs, all: all), labels: labels, all: all)
    tables += SweepComparison.results(sweeps, labels: labels)
    let best = zip(labels, sweeps).compactMap { label, s -> (name: String, logs: [[JSON]])? in
      guard let c = s.configurations.first else { return nil }
      return (
        "\(label): \(c.label)" + (c.n > 1 ? " (mean of \(c.n))" : ""),
        c.trials.map { s.log($0.trial) }
      )
    }
    parts = Comparison.Parts(
      tables: tables, curvesTitle: "Curves of each sweep's best configuration",
      curves: SweepResults.overlay(best))
  }

  /// The aligned results table: configurations in the order they first appear.
  static func results(_ sweeps: [SweepResults], labels: [String]) -> [ReportBlock] {
    let cfgKeys = Array(Set(sweeps.flatMap(\.cfgKeys))).sorted()
    var resultKeys: [String] = []
    for s in sweeps { resultKeys += s.resultKeys.filter { !resultKeys.contains($0) } }
    var order: [[JSON.Field]] = []
    var seen = Set<String>()
    for s in sweeps {
      for c in ConfigurationResults.group(s.entries)
      where seen.insert(JSON.object(c.cfg).serialized()).inserted {
        order.append(c.cfg)
      }
    }
    let byConfig = sweeps.map { s in
      Dictionary(
        s.configurations.map { (JSON.object($0.cfg).serialized(), $0) },
        uniquingKeysWith: { a, _ in a })
    }
    let repeated = sweeps.contains(where: \.isRepeated)
    // A column per result key and sweep that has it.
    let cells = resultKeys.flatMap { k in
      sweeps.indices.filter { sweeps[$0].resultKeys.contains(k) }.map { (key: k, sweep: $0) }
    }
    let columns =
      cfgKeys + (repeated ? labels.map { "\($0) n" } : [])
      + cells.map { "\(labels[$0.sweep]) \($0.key)" }
    let rows = order.map { cfg -> [String] in
      let key = JSON.object(cfg).serialized()
      let found = byConfig.map { $0[key] }
      return cfgKeys.map { k in JSON.object(cfg)[k].map(ReportWriter.cell) ?? "" }
        + (repeated ? found.map { $0.map { "\($0.n)" } ?? "" } : [])
        + cells.map { k, i -> String in
          guard let c = found[i] else { return "" }
          let text = c.stats(k)?.text ?? c.summary(k).map(ReportWriter.cell) ?? ""
          let isBest =
            k == sweeps[i].metric
            && sweeps[i].configurations.first.map { JSON.object($0.cfg).serialized() } == key
          return isBest ? text + " (best)" : text
        }
    }
    let note =
      "A row per configuration, aligned across the sweeps by its values; "
      + (repeated ? "mean ± sample std over each configuration's n replicates; " : "")
      + "(best) marks each sweep's best configuration by its metric."
    return [
      .section("Results by configuration"), .text(note), .table(columns: columns, rows: rows),
    ]
  }
}
