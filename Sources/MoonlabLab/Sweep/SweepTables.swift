import Foundation

/// The tables of a sweep's results: results.csv (every digit), results.md and the report
/// (display format), and the paper table of `moonlab report SWEEP --format`. Without
/// repeats a row per trial; with repeats a row per configuration, mean ± std.
extension SweepResults {
  var columns: [String] {
    isRepeated
      ? ["rank"] + cfgKeys + ["n"] + resultKeys + ["trials"]
      : ["rank", "trial", "seed"] + cfgKeys + resultKeys
  }

  var displayRows: [[String]] {
    isRepeated
      ? configurations.enumerated().map { rank, c in
        ["\(rank + 1)"] + cfgKeys.map { show(JSON.object(c.cfg)[$0], exact: false) } + ["\(c.n)"]
          + resultKeys.map { k in c.stats(k)?.text ?? show(c.summary(k), exact: false) }
          + [c.trials.map(\.trial.id).joined(separator: " ")]
      }
      : entries.enumerated().map { trialCells($0.offset + 1, $0.element, exact: false) }
  }

  /// results.csv: with repeats, `KEY_mean` and `KEY_std` columns per numeric result key
  /// (the std is empty for a single replicate) and one column for any other key.
  var csv: String {
    let header: [String]
    let rows: [[String]]
    if isRepeated {
      let numeric = Set(resultKeys.filter { k in entries.contains { $0.result[k]?.double != nil } })
      header =
        ["rank"] + cfgKeys + ["n"]
        + resultKeys.flatMap { numeric.contains($0) ? [$0 + "_mean", $0 + "_std"] : [$0] }
        + ["trials"]
      rows = configurations.enumerated().map { rank, c in
        ["\(rank + 1)"] + cfgKeys.map { show(JSON.object(c.cfg)[$0], exact: true) } + ["\(c.n)"]
          + resultKeys.flatMap { k -> [String] in
            guard numeric.contains(k) else { return [show(c.summary(k), exact: true)] }
            let s = c.stats(k)
            return [s.map { JSON.format($0.mean) } ?? "", s?.std.map(JSON.format) ?? ""]
          } + [c.trials.map(\.trial.id).joined(separator: " ")]
      }
    } else {
      header = columns
      rows = entries.enumerated().map { trialCells($0.offset + 1, $0.element, exact: true) }
    }
    return ([header] + rows).map { $0.map(SweepResults.csvField).joined(separator: ",") }
      .joined(separator: "\n") + "\n"
  }

  /// The table for a paper: configuration columns, n (with repeats) and the results
  /// (mean ± std with repeats), best first; no ranks, ids or seeds.
  var paperTable: PaperTable {
    let configColumns = cfgKeys.count
    if isRepeated {
      return PaperTable(
        columns: cfgKeys + ["n"] + resultKeys, textColumns: configColumns, bold: configColumns + 1,
        rows: configurations.map { c in
          cfgKeys.map { .value(JSON.object(c.cfg)[$0]) } + [.value(.number(Double(c.n)))]
            + resultKeys.map { k in c.stats(k).map(PaperTable.Cell.stats) ?? .value(c.summary(k)) }
        })
    }
    return PaperTable(
      columns: cfgKeys + resultKeys, textColumns: configColumns, bold: configColumns,
      rows: entries.map { e in
        cfgKeys.map { .value(JSON.object(e.trial.cfg)[$0]) }
          + resultKeys.map { .value(e.result[$0]) }
      })
  }

  private func show(_ v: JSON?, exact: Bool) -> String {
    guard let v else { return "" }
    return exact ? (v.double.map(JSON.format) ?? ReportWriter.cell(v)) : ReportWriter.cell(v)
  }

  /// Cells of one trial's row; `exact` keeps every digit (CSV), otherwise the report's format.
  private func trialCells(_ rank: Int, _ e: (trial: Trial, result: JSON), exact: Bool) -> [String] {
    let cfg = JSON.object(e.trial.cfg)
    return ["\(rank)", e.trial.id, String(e.trial.seed)]
      + cfgKeys.map { show(cfg[$0], exact: exact) }
      + resultKeys.map { show(e.result[$0], exact: exact) }
  }
}

/// `moonlab report SWEEP --format markdown|latex|csv`: a finished sweep's results table.
public enum SweepTable {
  public enum Format: String, CaseIterable {
    case markdown, latex, csv
  }

  public static func render(_ folder: URL, as format: Format) throws -> String {
    guard FileManager.default.fileExists(atPath: folder.appendingPathComponent("sweep.json").path)
    else {
      let inner = folder.appendingPathComponent("sweeps")
      let sweeps =
        (try? FileManager.default.contentsOfDirectory(atPath: inner.path))?.sorted() ?? []
      throw LabError(
        "\(folder.path) is not a sweep folder (no sweep.json); --format writes a sweep's results table"
          + (sweeps.isEmpty
            ? ""
            : " (this run's sweeps: \(sweeps.map { inner.appendingPathComponent($0).path }.joined(separator: ", ")))")
      )
    }
    let results = try SweepResults(folder: folder)
    guard results.entries.count == results.total else {
      throw LabError(
        "\(folder.path): \(results.total - results.entries.count) of \(results.total) trials are unfinished (finish them with moonlab sweep)"
      )
    }
    switch format {
    case .csv: return results.csv
    case .markdown: return results.paperTable.markdown
    case .latex:
      return results.paperTable.latex(comment: [
        "sweep \(results.name): \(results.summary).", "Needs \\usepackage{booktabs}.",
      ])
    }
  }
}
