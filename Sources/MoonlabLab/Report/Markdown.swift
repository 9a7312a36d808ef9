import Foundation

enum HTML {
  static func escape(_ s: String) -> String {
    guard s.utf8.contains(where: { "&<>\"".utf8.contains($0) }) else { return s }
    var out = ""
    out.reserveCapacity(s.count)
    for c in s {
      switch c {
      case "&": out += "&amp;"
      case "<": out += "&lt;"
      case ">": out += "&gt;"
      case "\"": out += "&quot;"
      default: out.append(c)
      }
    }
    return out
  }
}

/// The small Markdown subset `report.text` accepts, turned into HTML: `#` headings,
/// paragraphs, `-`/`*` and `1.` lists, fenced ``` code blocks, and inline `code`,
/// **strong** and *emphasis*. Everything else is escaped text.
enum Markdown {
  static func html(_ source: String) -> String {
    var out = ""
    var paragraph: [String] = []
    var list: (ordered: Bool, items: [String])?
    var code: [String]?

    func flushParagraph() {
      if !paragraph.isEmpty { out += "<p>" + inline(paragraph.joined(separator: " ")) + "</p>\n" }
      paragraph = []
    }
    func flushList() {
      if let l = list {
        let tag = l.ordered ? "ol" : "ul"
        out += "<\(tag)>" + l.items.map { "<li>" + inline($0) + "</li>" }.joined() + "</\(tag)>\n"
      }
      list = nil
    }

    for raw in source.components(separatedBy: "\n") {
      let line = raw.trimmingCharacters(in: .whitespaces)
      if var c = code {
        if line.hasPrefix("```") {
          out += "<pre><code>" + HTML.escape(c.joined(separator: "\n")) + "</code></pre>\n"
          code = nil
        } else {
          c.append(raw)
          code = c
        }
        continue
      }
      if line.hasPrefix("```") {
        flushParagraph()
        flushList()
        code = []
      } else if line.isEmpty {
        flushParagraph()
        flushList()
      } else if let level = heading(line) {
        flushParagraph()
        flushList()
        let title = line.dropFirst(level).trimmingCharacters(in: .whitespaces)
        out += "<h\(level + 2)>" + inline(title) + "</h\(level + 2)>\n"
      } else if let (ordered, item) = listItem(line) {
        flushParagraph()
        if list?.ordered != ordered { flushList() }
        list = (ordered, (list?.items ?? []) + [item])
      } else {
        flushList()
        paragraph.append(line)
      }
    }
    if let c = code {
      out += "<pre><code>" + HTML.escape(c.joined(separator: "\n")) + "</code></pre>\n"
    }
    flushParagraph()
    flushList()
    return out
  }

  /// 1…4 for "# " … "#### " (rendered as h3…h6: the report's own headings are h1/h2).
  private static func heading(_ line: String) -> Int? {
    let hashes = line.prefix { $0 == "#" }.count
    guard (1...4).contains(hashes), line.dropFirst(hashes).first == " " else { return nil }
    return hashes
  }

  private static func listItem(_ line: String) -> (Bool, String)? {
    if line.hasPrefix("- ") || line.hasPrefix("* ") { return (false, String(line.dropFirst(2))) }
    let digits = line.prefix { $0.isNumber }
    if !digits.isEmpty, line.dropFirst(digits.count).hasPrefix(". ") {
      return (true, String(line.dropFirst(digits.count + 2)))
    }
    return nil
  }

  /// `code` first (its content is literal), then **strong** and *emphasis* in the rest.
  static func inline(_ text: String) -> String {
    var out = ""
    let parts = text.components(separatedBy: "`")
    for (i, part) in parts.enumerated() {
      if i % 2 == 1, i < parts.count - 1 {
        out += "<code>" + HTML.escape(part) + "</code>"
      } else {
        out += emphasis(HTML.escape(i % 2 == 1 ? "`" + part : part))
      }
    }
    return out
  }

  private static func emphasis(_ s: String) -> String {
    var s = replacePairs(s, "**", "strong")
    s = replacePairs(s, "__", "strong")
    s = replacePairs(s, "*", "em")
    return replacePairs(s, "_", "em", wordBoundary: true)
  }

  /// Replaces each pair of `marker`s around non-empty text with <tag>…</tag>.
  private static func replacePairs(
    _ s: String, _ marker: String, _ tag: String, wordBoundary: Bool = false
  ) -> String {
    var pieces = s.components(separatedBy: marker)
    guard pieces.count >= 3 else { return s }
    var out = pieces.removeFirst()
    while pieces.count >= 2 {
      let inner = pieces[0]
      let before = out.last
      let after = pieces[1].first
      let boundaryOK =
        !wordBoundary
        || ((before.map { !$0.isLetter && !$0.isNumber } ?? true)
          && (after.map { !$0.isLetter && !$0.isNumber } ?? true))
      if !inner.isEmpty, !inner.hasPrefix(" "), boundaryOK {
        out += "<\(tag)>\(inner)</\(tag)>"
        pieces.removeFirst()
        out += pieces.removeFirst()
      } else {
        out += marker + pieces.removeFirst()
      }
    }
    if let last = pieces.first { out += marker + last }
    return out
  }
}
