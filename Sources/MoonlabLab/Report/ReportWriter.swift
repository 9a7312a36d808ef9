import Foundation
import MoonlabTensor

/// Turns a run's report blocks, provenance and metrics into report.html (one
/// self-contained file: inline SVG, PNGs as data: URIs) and report.md (plots as SVG files
/// next to it), and saves the blocks as report.json so `moonlab report` can redo both.
public enum ReportWriter {
  public struct Input {
    public var dir: URL
    public var title: String
    public var provenance: JSON
    public var status: RunStatus
    public var blocks: [ReportBlock]
    public var metrics: [JSON]
    /// Blocks computed from other files (a sweep's results and curves), shown before
    /// `blocks` and not saved in report.json.
    public var generated: [ReportBlock] = []
  }

  public static func write(_ input: Input) throws {
    let blocks = resolved(input)
    let saved = JSON.object(
      [.init("title", .string(input.title))] + input.status.json
        + [.init("blocks", .array(input.blocks.map(\.json)))])
    try AtomicFile.write(
      saved.serialized(pretty: true) + "\n", to: input.dir.appendingPathComponent("report.json"),
      sync: .file)
    // report.html and report.md (and the charts) render from report.json and the other
    // records, so they skip the fsyncs (docs/architecture.md, "Files").
    try AtomicFile.write(
      html(input, blocks), to: input.dir.appendingPathComponent("report.html"), sync: .none)
    try AtomicFile.write(
      try markdown(input, blocks), to: input.dir.appendingPathComponent("report.md"),
      sync: .none)
  }

  /// Re-renders a run directory from config.json, report.json and metrics.jsonl; in a
  /// sweep folder the results and curves come from sweep.json and the trials.
  public static func rerender(_ dir: URL) throws {
    let fm = FileManager.default
    var generated: [ReportBlock] = []
    if fm.fileExists(atPath: dir.appendingPathComponent("sweep.json").path) {
      let results = try SweepResults(folder: dir)
      guard results.entries.count == results.total else {
        throw LabError(
          "\(dir.path): \(results.total - results.entries.count) of \(results.total) trials are unfinished (finish them with moonlab sweep)"
        )
      }
      try results.writeTables()
      generated = results.reportBlocks
    }
    guard let provenance = try JSON.read(dir.appendingPathComponent("config.json")) else {
      if !generated.isEmpty { return try SweepResults(folder: dir).writeReport() }
      throw LabError("\(dir.path) is not a run directory (no config.json)")
    }
    let saved = fm.contents(atPath: dir.appendingPathComponent("report.json").path).flatMap {
      try? JSON.parse(String(decoding: $0, as: UTF8.self))
    }
    var status = saved.map(RunStatus.init(json:)) ?? .running
    if fm.fileExists(atPath: dir.appendingPathComponent("DONE").path) { status = .finished }
    try write(
      Input(
        dir: dir, title: saved?["title"]?.text ?? provenance["name"]?.text ?? dir.lastPathComponent,
        provenance: provenance, status: status,
        blocks: try (saved?["blocks"]?.items ?? []).map(ReportBlock.init(json:)),
        metrics: MetricsLog.read(dir.appendingPathComponent("metrics.jsonl")), generated: generated)
    )
  }

  // MARK: Metrics charts

  /// Replaces `.metrics` blocks by plots of the logged lines; when the script drew none
  /// and metrics exist, adds a "Metrics" section with the standard groups.
  static func resolved(_ input: Input) -> [ReportBlock] {
    var blocks = input.generated + input.blocks
    let hasMetrics = blocks.contains { if case .metrics = $0 { return true } else { return false } }
    if !hasMetrics, !input.metrics.isEmpty {
      blocks.append(.section("Metrics"))
      blocks += MetricsCharts.standardGroups(input.metrics).map {
        .metrics(title: $0.title, keys: $0.keys, logy: false)
      }
      if let last = input.metrics.last?.fields {
        blocks.append(
          .table(columns: ["metric", "last value"], rows: last.map { [$0.key, cell($0.value)] }))
      }
    }
    return blocks.map { block in
      guard case .metrics(let title, let keys, let logy) = block else { return block }
      return .plot(MetricsCharts.plot(input.metrics, title: title, keys: keys, logy: logy))
    }
  }

  /// A value for a table or legend: integers in full, other numbers to 6 significant
  /// digits (metrics.jsonl and results.csv keep every digit).
  static func cell(_ v: JSON) -> String {
    switch v {
    case .number(let d):
      if d == d.rounded() || !d.isFinite { return JSON.format(d) }
      return String(format: "%.6g", d)
    case .string(let s): return s
    default: return v.serialized()
    }
  }

  // MARK: HTML

  static func html(_ input: Input, _ blocks: [ReportBlock]) -> String {
    var body = "<h1>\(HTML.escape(input.title))</h1>\n"
    switch input.status {
    case .finished: body += "<p class=\"status ok\">finished</p>\n"
    case .running: body += "<p class=\"status run\">running or unfinished (no DONE)</p>\n"
    case .failed(let message), .interrupted(let message):
      body +=
        "<p class=\"status bad\">\(input.status.name)</p>\n<pre class=\"error\">\(HTML.escape(message))</pre>\n"
    }
    body += "<details><summary>Configuration and provenance</summary>\n"
    body += htmlTable(["key", "value"], provenanceRows(input.provenance)) + "</details>\n"
    return page(title: input.title, body: body + htmlBlocks(blocks, dir: input.dir))
  }

  /// The blocks as HTML; images are read from `dir` and inlined.
  static func htmlBlocks(_ blocks: [ReportBlock], dir: URL) -> String {
    var body = ""
    for block in blocks {
      switch block {
      case .section(let t): body += "<h2>\(HTML.escape(t))</h2>\n"
      case .text(let md): body += Markdown.html(md)
      case .table(let columns, let rows): body += htmlTable(columns, rows)
      case .plot(let p): body += "<figure>" + SVGChart.render(p) + "</figure>\n"
      case .confusion(let c): body += c.html
      case .image(let title, let file, let w, let h):
        let png =
          FileManager.default.contents(atPath: dir.appendingPathComponent(file).path)
          ?? Data()
        body += "<figure><img alt=\"\(HTML.escape(title))\" width=\"\(w)\" height=\"\(h)\" "
        body += "src=\"data:image/png;base64,\(png.base64EncodedString())\">"
        if !title.isEmpty { body += "<figcaption>\(HTML.escape(title))</figcaption>" }
        body += "</figure>\n"
      case .metrics: break  // resolved into plots before rendering
      }
    }
    return body
  }

  /// A self-contained page (no scripts, no external files) around `body`.
  static func page(title: String, body: String) -> String {
    """
    <!DOCTYPE html>
    <html lang="en"><head><meta charset="utf-8"><title>\(HTML.escape(title))</title>
    <style>
    body{font-family:system-ui,sans-serif;max-width:980px;margin:2em auto;padding:0 1em;color:#222}
    table{border-collapse:collapse;margin:.8em 0;font-size:.9em}
    td,th{border:1px solid #ccc;padding:.25em .6em;text-align:left;vertical-align:top}
    th{background:#f3f3f3} figure{margin:1em 0} figcaption{font-size:.9em;color:#555}
    img{image-rendering:pixelated} pre{background:#f6f6f6;padding:.6em;overflow-x:auto}
    pre.error{background:#fff0f0;border-left:4px solid #d33;white-space:pre-wrap}
    .status{display:inline-block;padding:.15em .6em;border-radius:4px;font-weight:bold}
    .ok{background:#e3f5e1;color:#1d6b1d}.bad{background:#fbe3e3;color:#a11}.run{background:#fff4d6;color:#8a6100}
    </style></head><body>
    \(body)</body></html>

    """
  }

  static func htmlTable(_ columns: [String], _ rows: [[String]]) -> String {
    var s = "<table><tr>" + columns.map { "<th>\(HTML.escape($0))</th>" }.joined() + "</tr>\n"
    for r in rows { s += "<tr>" + r.map { "<td>\(HTML.escape($0))</td>" }.joined() + "</tr>\n" }
    return s + "</table>\n"
  }

  /// config.json flattened to key/value rows ("script.sha256", "config.lr").
  static func provenanceRows(_ j: JSON, prefix: String = "") -> [[String]] {
    guard let fields = j.fields else { return [[prefix, cell(j)]] }
    return fields.flatMap { f -> [[String]] in
      let key = prefix.isEmpty ? f.key : prefix + "." + f.key
      if case .object = f.value { return provenanceRows(f.value, prefix: key) }
      return [[key, cell(f.value)]]
    }
  }

  // MARK: Markdown

  static func markdown(_ input: Input, _ blocks: [ReportBlock]) throws -> String {
    var md = "# \(input.title)\n\n"
    switch input.status {
    case .finished: md += "Status: **finished**\n\n"
    case .running: md += "Status: **running or unfinished** (no DONE)\n\n"
    case .failed(let message), .interrupted(let message):
      md += "Status: **\(input.status.name)**\n\n```\n\(message)\n```\n\n"
    }
    md += try markdownBlocks(blocks, dir: input.dir, plots: "images/plot-")
    md +=
      "## Configuration and provenance\n\n"
      + markdownTable(["key", "value"], provenanceRows(input.provenance))
    return md
  }

  /// The blocks as Markdown; each plot is written into `dir` as `plots`NNN.svg.
  static func markdownBlocks(_ blocks: [ReportBlock], dir: URL, plots: String) throws -> String {
    var md = ""
    var plotCount = 0
    for block in blocks {
      switch block {
      case .section(let t): md += "## \(t)\n\n"
      case .text(let t): md += t + "\n\n"
      case .table(let columns, let rows): md += markdownTable(columns, rows) + "\n"
      case .plot(let p):
        plotCount += 1
        let file = plots + String(format: "%03d.svg", plotCount)
        try AtomicFile.write(
          SVGChart.render(p), to: dir.appendingPathComponent(file), sync: .none)
        md += "![\(p.title)](\(file))\n\n"
      case .image(let title, let file, _, _): md += "![\(title)](\(file))\n\n"
      case .confusion(let c): md += c.markdown + "\n"
      case .metrics: break
      }
    }
    return md
  }

  /// A table cell's text with `|` escaped and line breaks as spaces (a plain loop: through
  /// Foundation's replacingOccurrences this was ~2 % of an empty run's start-up).
  static func markdownCell(_ text: String) -> String {
    guard text.utf8.contains(where: { "|\r\n".utf8.contains($0) }) else { return text }
    var out = ""
    out.reserveCapacity(text.utf8.count)
    for c in text {
      switch c {
      case "|": out += "\\|"
      case "\n", "\r\n": out += " "
      default: out.append(c)
      }
    }
    return out
  }

  static func markdownTable(_ columns: [String], _ rows: [[String]]) -> String {
    func row(_ r: [String]) -> String {
      "| "
        + r.map(markdownCell).joined(separator: " | ") + " |\n"
    }
    return row(columns) + "|" + String(repeating: " --- |", count: columns.count) + "\n"
      + rows.map(row).joined()
  }
}
