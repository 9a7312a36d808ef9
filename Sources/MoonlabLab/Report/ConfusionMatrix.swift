import Foundation

/// A confusion matrix for the report (report.confusion): rows = true class, columns =
/// predicted class, both in class order, plus each true class's accuracy (its diagonal
/// share). HTML shades each cell by its share of the row — a heat map where a good
/// classifier shows a dark diagonal; Markdown gets the counts as a table.
public struct ConfusionMatrix {
  public var title: String
  public var classes: [String]
  /// classes.count rows of classes.count counts.
  public var counts: [[Double]]

  /// Per true class: diagonal ÷ row sum (NaN for a class without samples).
  var accuracies: [Double] {
    counts.enumerated().map { r, row in row[r] / row.reduce(0, +) }
  }

  var columns: [String] { ["true \\ predicted"] + classes + ["accuracy"] }

  /// The cells as text, one row per true class.
  var rows: [[String]] {
    zip(counts, accuracies).enumerated().map { r, pair in
      [classes[r]] + pair.0.map { ReportWriter.cell(.number($0)) }
        + [pair.1.isFinite ? String(format: "%.2f%%", pair.1 * 100) : "–"]
    }
  }

  var html: String {
    var s = "<figure><table class=\"confusion\"><tr>"
    s += columns.map { "<th>\(HTML.escape($0))</th>" }.joined() + "</tr>\n"
    for (r, cells) in rows.enumerated() {
      let total = counts[r].reduce(0, +)
      s += "<tr><th>\(HTML.escape(cells[0]))</th>"
      for (k, count) in counts[r].enumerated() {
        let share = total > 0 ? count / total : 0
        let ink = share > 0.5 ? "#fff" : "#222"
        let shade = String(format: "%.3f", share)
        s += "<td style=\"background:rgba(31,119,180,\(shade));color:\(ink);text-align:right\">"
        s += HTML.escape(cells[k + 1]) + "</td>"
      }
      s += "<td>\(HTML.escape(cells[cells.count - 1]))</td></tr>\n"
    }
    s += "</table>"
    if !title.isEmpty { s += "<figcaption>\(HTML.escape(title))</figcaption>" }
    return s + "</figure>\n"
  }

  var markdown: String {
    (title.isEmpty ? "" : "**\(title)**\n\n") + ReportWriter.markdownTable(columns, rows)
  }
}
