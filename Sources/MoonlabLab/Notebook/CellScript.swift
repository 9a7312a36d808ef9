/// A Lua script cut into notebook cells, in the percent format Jupytext and VS Code use:
/// a line `--%%` (or `-- %%`) starts a code cell, `--%% [markdown]` a markdown cell whose
/// text is the Lua comment lines that follow. A script without markers is one cell.
///
/// The cut is lossless: `text` of the parsed cells is the script, byte for byte. Each cell
/// keeps its exact marker line and the blank lines after its content, so a round trip
/// through .ipynb can restore them (see `IpynbConversion`).
public struct CellScript: Equatable {
  public enum Kind: String { case code, markdown }

  public struct Cell: Equatable {
    public var kind: Kind
    /// The marker line with its line break, or nil for text before the first marker.
    public var marker: String?
    /// The cell's lines after the marker, without the blank lines that end it. For a
    /// markdown cell these are the Lua comment lines.
    public var content: String
    /// The whitespace-only lines (and final line break) after the content.
    public var trailing: String
    /// 1-based line of the cell's first content line in the script.
    public var firstLine: Int

    public init(kind: Kind, marker: String?, content: String, trailing: String, firstLine: Int = 1)
    {
      self.kind = kind
      self.marker = marker
      self.content = content
      self.trailing = trailing
      self.firstLine = firstLine
    }

    public var text: String { (marker ?? "") + content + trailing }

    /// Markdown text of a markdown cell: the comment lines without their `-- ` prefix.
    public var markdown: String { CellScript.uncomment(content) }
  }

  public var cells: [Cell]

  public init(cells: [Cell]) { self.cells = cells }

  public var text: String { cells.map(\.text).joined() }

  /// Is `line` (without its line break) a cell marker, and of which kind?
  public static func markerKind(_ line: Substring) -> Kind? {
    var rest = line.hasSuffix("\r") ? line.dropLast() : line
    guard rest.hasPrefix("--") else { return nil }
    rest = rest.dropFirst(2)
    if rest.hasPrefix(" ") { rest = rest.dropFirst() }
    guard rest.hasPrefix("%%") else { return nil }
    let title = rest.dropFirst(2).drop { $0 == " " }
    return title.hasPrefix("[markdown]") || title.hasPrefix("[md]") ? .markdown : .code
  }

  public init(parsing script: String) {
    // Lines with their line breaks; Character-wise "\r\n" is one Character, so split on
    // UTF-8 bytes to keep every byte.
    var lines: [Substring] = []
    var start = script.startIndex
    for i in script.utf8.indices where script.utf8[i] == UInt8(ascii: "\n") {
      let next = script.utf8.index(after: i)
      lines.append(script[start..<next])
      start = next
    }
    if start < script.endIndex { lines.append(script[start...]) }

    var cells: [Cell] = []
    var lineNumber = 1
    var i = 0
    func stripBreak(_ l: Substring) -> Substring { l.endsWithLineBreak ? l.droppingLineBreak : l }
    func isComment(_ l: Substring) -> Bool { l.drop { $0 == " " || $0 == "\t" }.hasPrefix("--") }
    func isBlank(_ l: Substring) -> Bool { l.allSatisfy { $0.isWhitespace } }
    while i < lines.count {
      var marker: String?
      var kind = Kind.code
      if let k = CellScript.markerKind(stripBreak(lines[i])) {
        marker = String(lines[i])
        kind = k
        i += 1
        lineNumber += 1
      }
      let first = lineNumber
      var body: [Substring] = []
      while i < lines.count, CellScript.markerKind(stripBreak(lines[i])) == nil {
        // A markdown cell is its comment lines: code after them starts an unmarked cell.
        if kind == .markdown, !isComment(lines[i]), !isBlank(lines[i]) { break }
        body.append(lines[i])
        i += 1
        lineNumber += 1
      }
      let contentCount = (body.lastIndex { !isBlank($0) }).map { $0 + 1 } ?? 0
      var content = body[..<contentCount].joined()
      var trailing = body[contentCount...].joined()
      // The last content line's break belongs to the trailing part, so the content is
      // what Jupyter shows (no final newline).
      if content.endsWithLineBreak {
        content = String(content.droppingLineBreak)
        trailing = "\n" + trailing
      }
      if marker == nil, body.isEmpty { continue }
      cells.append(
        Cell(kind: kind, marker: marker, content: content, trailing: trailing, firstLine: first))
    }
    self.cells = cells
  }

  /// `-- # Title` → `# Title`, `--` → empty; other lines stay as they are.
  static func uncomment(_ content: String) -> String {
    content.lines.map { line -> Substring in
      let l = line.drop { $0 == " " || $0 == "\t" }
      guard l.hasPrefix("--") else { return line }
      let rest = l.dropFirst(2)
      return rest.hasPrefix(" ") ? rest.dropFirst() : rest
    }.joined(separator: "\n")
  }

  /// Markdown text as Lua comment lines (the inverse of `uncomment` for text it wrote).
  static func comment(_ markdown: String) -> String {
    markdown.lines.map { $0.isEmpty ? "--" : "-- " + $0 }.joined(separator: "\n")
  }
}

// Line breaks by bytes: Swift treats "\r\n" as ONE Character, so `hasSuffix("\n")` and
// `split(separator: "\n")` would miss the "\n" of Windows line ends and lose the "\r".
extension Substring {
  var endsWithLineBreak: Bool { utf8.last == UInt8(ascii: "\n") }

  var droppingLineBreak: Substring {
    endsWithLineBreak ? self[..<utf8.index(before: utf8.endIndex)] : self
  }

  /// The text between "\n"s (a "\r" before one stays with its line).
  var lines: [Substring] {
    var out: [Substring] = []
    var start = startIndex
    for i in utf8.indices where utf8[i] == UInt8(ascii: "\n") {
      out.append(self[start..<i])
      start = utf8.index(after: i)
    }
    out.append(self[start...])
    return out
  }
}

extension String {
  var endsWithLineBreak: Bool { self[...].endsWithLineBreak }
  var droppingLineBreak: Substring { self[...].droppingLineBreak }
  var lines: [Substring] { self[...].lines }
}
