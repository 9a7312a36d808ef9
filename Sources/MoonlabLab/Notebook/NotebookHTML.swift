import Foundation

/// notebook.html: one self-contained page (inline CSS, inline SVG, PNGs as data: URIs)
/// with each code cell's numbered lines followed by everything it produced, in order.
enum NotebookHTML {
  static func render(_ result: NotebookRunner.Result, title: String) -> String {
    var body = "<h1>\(HTML.escape(title))</h1>\n" + summary(result)
    for (i, cell) in result.script.cells.enumerated() {
      switch cell.kind {
      case .markdown:
        body += "<div class=\"md\">\n" + Markdown.html(cell.markdown) + "</div>\n"
      case .code:
        if cell.content.isEmpty, cell.marker == nil { continue }  // blank lines before the first marker
        body += codeCell(cell, result.runs[i] ?? Ipynb.CellRun(state: .notRun))
      }
    }
    return """
      <!DOCTYPE html>
      <html lang="en"><head><meta charset="utf-8"><title>\(HTML.escape(title))</title>
      <style>
      body{font-family:system-ui,sans-serif;max-width:980px;margin:2em auto;padding:0 1em;color:#222}
      .cell{margin:1.2em 0;border-left:4px solid #7aa7d8;padding-left:.8em}
      .cell.failed{border-color:#d33}.cell.notrun{border-color:#bbb;opacity:.6}
      .head{font-size:.8em;color:#666;margin-bottom:.2em}
      .head .bad{color:#a11;font-weight:bold}
      pre{margin:.3em 0;padding:.5em .7em;overflow-x:auto;font-size:.88em;line-height:1.35}
      pre.code{background:#f4f6f9}
      pre.code .ln{display:inline-block;width:3em;color:#999;user-select:none}
      pre.stream{background:#fff;border:1px solid #eee}
      pre.stderr{background:#fff8e8}
      pre.error{background:#fff0f0;border-left:4px solid #d33;white-space:pre-wrap}
      .out{margin:.4em 0}.out img{image-rendering:pixelated}
      figure{margin:.5em 0}figcaption{font-size:.85em;color:#555}
      table{border-collapse:collapse;margin:.5em 0;font-size:.9em}
      td,th{border:1px solid #ccc;padding:.25em .6em;text-align:left}th{background:#f3f3f3}
      .md{margin:1.2em 0}
      </style></head><body>
      \(body)</body></html>

      """
  }

  private static func summary(_ result: NotebookRunner.Result) -> String {
    let ran = result.runs.values.filter { $0.state != .notRun }
    let seconds = ran.reduce(0) { $0 + $1.seconds }
    var s =
      "<p class=\"head\">\(ran.count) of \(result.runs.count) code cells ran in \(format(seconds))"
    if let failed = result.runs.first(where: { $0.value.state == .failed }) {
      s += " — <span class=\"bad\">cell [\(failed.value.executionCount ?? 0)] failed</span>"
    }
    return s + "</p>\n"
  }

  private static func codeCell(_ cell: CellScript.Cell, _ run: Ipynb.CellRun) -> String {
    let cls: String
    let status: String
    switch run.state {
    case .ok:
      cls = "cell"
      status = format(run.seconds)
    case .failed:
      cls = "cell failed"
      status = "<span class=\"bad\">failed</span> after \(format(run.seconds))"
    case .notRun:
      cls = "cell notrun"
      status = "not run"
    }
    let count = run.executionCount.map(String.init) ?? " "
    var s =
      "<div class=\"\(cls)\">\n<div class=\"head\">[\(count)] · \(status)</div>\n<pre class=\"code\">"
    for (k, line) in cell.content.lines.enumerated() {
      s += "<span class=\"ln\">\(cell.firstLine + k)</span>" + HTML.escape(String(line)) + "\n"
    }
    s += "</pre>\n"
    for output in run.outputs { s += html(output) }
    return s + "</div>\n"
  }

  /// One output: the richest type the page can show inline.
  static func html(_ output: CellOutput) -> String {
    switch output {
    case .stream(let name, let text):
      return "<pre class=\"stream \(name)\">\(HTML.escape(text))</pre>\n"
    case .result(let text):
      return "<pre class=\"stream\">\(HTML.escape(text))</pre>\n"
    case .error(_, let traceback):
      return "<pre class=\"error\">\(HTML.escape(traceback.joined(separator: "\n")))</pre>\n"
    case .display(let bundle):
      let inner: String
      if let html = bundle["text/html"] {
        inner = html
      } else if let svg = bundle["image/svg+xml"] {
        inner = svg
      } else if let png = bundle["image/png"] {
        let title = HTML.escape(bundle["text/plain"] ?? "")
        inner =
          "<figure><img alt=\"\(title)\" src=\"data:image/png;base64,\(png)\"><figcaption>\(title)</figcaption></figure>"
      } else if let md = bundle["text/markdown"] {
        inner = Markdown.html(md)
      } else {
        inner = "<pre>\(HTML.escape(bundle["text/plain"] ?? ""))</pre>"
      }
      return "<div class=\"out\">\(inner)</div>\n"
    }
  }

  private static func format(_ seconds: Double) -> String {
    seconds < 1 ? String(format: "%.0f ms", seconds * 1000) : String(format: "%.2f s", seconds)
  }
}
