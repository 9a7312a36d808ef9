import Foundation

/// A results table for a paper (`moonlab report SWEEP --format markdown|latex`): the
/// first `textColumns` columns are left-aligned labels, the rest numbers; the first row
/// is the best, and its cell in column `bold` (the sweep's metric) is set in bold.
struct PaperTable {
  enum Cell {
    case value(JSON?)
    case stats(MeanStd)

    /// The cell as the report shows it, each piece passed through `escape`; `pm` joins
    /// a mean and its std.
    func text(pm: String, escape: (String) -> String = { $0 }) -> String {
      switch self {
      case .value(let v): return escape(v.map(ReportWriter.cell) ?? "")
      case .stats(let s):
        let (mean, std) = s.parts
        return escape(mean) + (std.map { pm + escape($0) } ?? "")
      }
    }
  }

  var columns: [String]
  var textColumns: Int
  var bold: Int
  var rows: [[Cell]]

  var markdown: String {
    ReportWriter.markdownTable(
      columns,
      rows.enumerated().map { r, row in
        row.enumerated().map { c, cell in
          let text = cell.text(pm: " ± ")
          return r == 0 && c == bold && !text.isEmpty ? "**\(text)**" : text
        }
      })
  }

  /// A booktabs `tabular` (needs \usepackage{booktabs}), preceded by `comment` lines.
  func latex(comment: [String]) -> String {
    let align =
      String(repeating: "l", count: textColumns)
      + String(repeating: "r", count: max(0, columns.count - textColumns))
    var s = comment.map { "% " + $0 + "\n" }.joined()
    s += "\\begin{tabular}{\(align)}\n\\toprule\n"
    s += columns.map(PaperTable.latexEscape).joined(separator: " & ") + " \\\\\n\\midrule\n"
    for (r, row) in rows.enumerated() {
      s +=
        row.enumerated().map { c, cell in
          let text = cell.text(pm: " $\\pm$ ", escape: PaperTable.latexEscape)
          return r == 0 && c == bold && !text.isEmpty ? "\\textbf{\(text)}" : text
        }.joined(separator: " & ") + " \\\\\n"
    }
    return s + "\\bottomrule\n\\end{tabular}\n"
  }

  /// Text with LaTeX's special characters escaped.
  static func latexEscape(_ s: String) -> String {
    var out = ""
    for c in s {
      switch c {
      case "\\": out += "\\textbackslash{}"
      case "&", "%", "$", "#", "_", "{", "}": out += "\\\(c)"
      case "~": out += "\\textasciitilde{}"
      case "^": out += "\\textasciicircum{}"
      default: out.append(c)
      }
    }
    return out
  }
}
