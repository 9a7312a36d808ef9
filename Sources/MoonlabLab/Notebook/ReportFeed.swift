import Foundation

/// Shows a run's new report items in the running cell. Every `report.*` call appends a
/// block to the run record synchronously from Lua, and every printed line passes through
/// the notebook's sink, so checking for new blocks before each printed line and at each
/// cell's end keeps charts, images and text in the order the cell produced them.
final class ReportFeed {
  let record: RunRecord
  private var shown = 0

  init(record: RunRecord) { self.record = record }

  /// The blocks added since the last call, as Jupyter display data. A metrics chart
  /// (drawn from metrics.jsonl) waits for the cell's end, so it shows every line the cell
  /// logged; the blocks after it wait with it to keep their order.
  func newDisplays(cellEnd: Bool) -> [[String: String]] {
    let blocks = record.blocks
    var end = shown
    while end < blocks.count {
      if case .metrics = blocks[end], !cellEnd { break }
      end += 1
    }
    defer { shown = end }
    return blocks[shown..<end].map { display($0) }
  }

  /// A report block as MIME data: the same HTML/SVG/PNG report.html shows, plus a text
  /// fallback.
  func display(_ block: ReportBlock) -> [String: String] {
    switch block {
    case .section(let title):
      return [
        "text/html": "<h2>\(HTML.escape(title))</h2>", "text/markdown": "## " + title,
        "text/plain": title,
      ]
    case .text(let md):
      return ["text/html": Markdown.html(md), "text/markdown": md, "text/plain": md]
    case .table(let columns, let rows):
      return [
        "text/html": ReportWriter.htmlTable(columns, rows),
        "text/markdown": ReportWriter.markdownTable(columns, rows),
        "text/plain": ([columns] + rows).map { $0.joined(separator: "\t") }.joined(separator: "\n"),
      ]
    case .confusion(let c):
      return [
        "text/html": c.html, "text/markdown": c.markdown,
        "text/plain": ([c.columns] + c.rows).map { $0.joined(separator: "\t") }.joined(
          separator: "\n"),
      ]
    case .plot(let plot):
      return [
        "image/svg+xml": SVGChart.render(plot),
        "text/plain": plot.title.isEmpty ? "plot" : plot.title,
      ]
    case .metrics(let title, let keys, let logy):
      let plot = MetricsCharts.plot(record.metrics.lines, title: title, keys: keys, logy: logy)
      return ["image/svg+xml": SVGChart.render(plot), "text/plain": title]
    case .image(let title, let file, _, _):
      let png =
        FileManager.default.contents(atPath: record.dir.appendingPathComponent(file).path) ?? Data()
      return [
        "image/png": png.base64EncodedString(), "text/plain": title.isEmpty ? "image" : title,
      ]
    }
  }
}
