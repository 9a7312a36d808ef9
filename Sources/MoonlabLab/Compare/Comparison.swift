import Foundation
import MoonlabTensor

/// `moonlab compare RUN_OR_SWEEP…` (docs/lab.md, "Comparing runs and sweeps"): run
/// directories side by side (what differs in their configurations, each metric's final
/// and best value, overlaid curves), or sweep folders with their configurations aligned
/// (mean ± std per configuration when repeated).
public struct Comparison {
  /// What the comparison shows: tables (also printed), then charts under their heading.
  struct Parts {
    var tables: [ReportBlock]
    var curvesTitle: String
    var curves: [Plot]
  }

  let title: String
  let parts: Parts

  public init(paths: [String], all: Bool) throws {
    guard !paths.isEmpty else { throw LabError("compare: name at least one run or sweep folder") }
    let urls = paths.map { URL(fileURLWithPath: $0) }
    var sweeps: [URL] = []
    var runs: [URL] = []
    for (path, url) in zip(paths, urls) {
      var isDir: ObjCBool = false
      guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir), isDir.boolValue
      else { throw LabError("compare: \(path) is not a folder") }
      if FileManager.default.fileExists(atPath: url.appendingPathComponent("sweep.json").path) {
        sweeps.append(url)
      } else if FileManager.default.fileExists(
        atPath: url.appendingPathComponent("config.json").path)
      {
        runs.append(url)
      } else {
        throw LabError(
          "compare: \(path) is neither a run directory (config.json) nor a sweep folder (sweep.json)"
        )
      }
    }
    guard sweeps.isEmpty || runs.isEmpty else {
      throw LabError(
        "compare: give run directories or sweep folders, not both (\(sweeps[0].path) is a sweep, \(runs[0].path) a run)"
      )
    }
    let labels = Comparison.labels(paths)
    if runs.isEmpty {
      title = "Comparison of \(sweeps.count) sweeps"
      parts = try SweepComparison(sweeps.map(SweepResults.init(folder:)), labels: labels, all: all)
        .parts
    } else {
      title = "Comparison of \(runs.count) runs"
      parts = try Comparison.runParts(runs.map(ComparedRun.init), labels: labels, all: all)
    }
  }

  /// Folder names, or the paths as given where two names clash.
  static func labels(_ paths: [String]) -> [String] {
    let names = paths.map { URL(fileURLWithPath: $0).standardizedFileURL.lastPathComponent }
    return names.enumerated().map { i, name in
      names.filter { $0 == name }.count > 1 ? paths[i] : name
    }
  }

  static func configSection(_ rows: [[String]], labels: [String], all: Bool) -> [ReportBlock] {
    let note =
      all
      ? "Every key of the configurations."
      : rows.isEmpty
        ? "The configurations are the same (`moonlab compare --all` lists them)."
        : "Only what differs (`moonlab compare --all` lists everything)."
    return [.section("Configuration"), .text(note)]
      + (rows.isEmpty ? [] : [.table(columns: ["key"] + labels, rows: rows)])
  }

  static func runParts(_ runs: [ComparedRun], labels: [String], all: Bool) -> Parts {
    var blocks: [ReportBlock] = [
      .section("Runs"),
      .table(
        columns: ["run", "folder", "status"],
        rows: zip(labels, runs).map { [$0, $1.dir.path, $1.status] }),
    ]
    blocks += configSection(ConfigDiff.rows(runs.map(\.config), all: all), labels: labels, all: all)
    var keys: [String] = []
    for run in runs { keys += run.metricKeys.filter { !keys.contains($0) } }
    if !keys.isEmpty {
      let rows = keys.map { key in
        [key]
          + runs.flatMap { run -> [String] in
            let best = run.best(key).map { "\(ReportWriter.cell(.number($0.value))) (\($0.at))" }
            return [run.final(key).map { ReportWriter.cell(.number($0)) } ?? "", best ?? ""]
          }
      }
      blocks += [
        .section("Metrics"),
        .text("The last value logged, and the best (highest accuracy, lowest loss or error)."),
        .table(columns: ["metric"] + labels.flatMap { ["\($0) final", "\($0) best"] }, rows: rows),
      ]
    }
    return Parts(
      tables: blocks, curvesTitle: "Curves",
      curves: SweepResults.overlay(zip(labels, runs).map { ($0, [$1.lines]) }))
  }

  /// Writes compare.html (self-contained, no scripts) and compare.md (charts in
  /// compare-plots/) into `out`; returns the tables as Markdown, for the terminal.
  public func write(to out: URL) throws -> String {
    let blocks =
      parts.tables
      + (parts.curves.isEmpty
        ? [] : [.section(parts.curvesTitle)] + parts.curves.map(ReportBlock.plot))
    try AtomicFile.write(
      ReportWriter.page(
        title: title,
        body: "<h1>\(HTML.escape(title))</h1>\n" + ReportWriter.htmlBlocks(blocks, dir: out)),
      to: out.appendingPathComponent("compare.html"))
    try AtomicFile.write(
      "# \(title)\n\n"
        + (try ReportWriter.markdownBlocks(blocks, dir: out, plots: "compare-plots/plot-")),
      to: out.appendingPathComponent("compare.md"))
    return try ReportWriter.markdownBlocks(parts.tables, dir: out, plots: "")
  }
}
