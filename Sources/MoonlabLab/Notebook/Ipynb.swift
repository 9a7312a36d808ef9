import Foundation

/// Conversion between a cell script and a Jupyter notebook (nbformat 4.5).
///
/// Script → notebook → script gives the same bytes: each cell's metadata keeps what the
/// notebook itself has no place for (`moonlab.marker`: the exact marker line,
/// `moonlab.trailing`: the blank lines after the cell, `moonlab.lua`: a markdown cell's
/// comment lines when they aren't in the canonical `-- text` form). A cell edited or added
/// in Jupyter falls back to the canonical form.
public enum Ipynb {
  public struct FormatError: Error, CustomStringConvertible {
    public let description: String
  }

  /// What one code cell did when the notebook ran.
  public struct CellRun: Equatable {
    public enum State: Equatable { case ok, failed, notRun }
    public var state: State
    public var outputs: [CellOutput]
    public var seconds: Double
    public var executionCount: Int?
    public init(
      state: State, outputs: [CellOutput] = [], seconds: Double = 0, executionCount: Int? = nil
    ) {
      self.state = state
      self.outputs = outputs
      self.seconds = seconds
      self.executionCount = executionCount
    }
  }

  public static let kernelspec: [String: Any] = [
    "name": "moonlab", "display_name": "Moonlab (Lua)", "language": "lua",
  ]
  public static let languageInfo: [String: Any] = [
    "name": "lua", "version": "5.4", "mimetype": "text/x-lua", "file_extension": ".lua",
    "codemirror_mode": "lua", "pygments_lexer": "lua",
  ]

  // MARK: Script → notebook

  /// The notebook of `script`; `runs[i]` holds what cell i did (code cells that ran).
  public static func notebook(_ script: CellScript, runs: [Int: CellRun] = [:]) -> [String: Any] {
    var cells: [[String: Any]] = []
    var moonlab: [String: Any] = [:]
    for (i, cell) in script.cells.enumerated() {
      if i == 0, cell.marker == nil, cell.content.isEmpty {
        moonlab["leading"] = cell.trailing  // blank lines before the first marker
        continue
      }
      var meta: [String: Any] = ["trailing": cell.trailing]
      if let marker = cell.marker { meta["marker"] = marker } else { meta["unmarked"] = true }
      var json: [String: Any] = ["id": "cell-\(i + 1)"]
      switch cell.kind {
      case .markdown:
        json["cell_type"] = "markdown"
        json["source"] = multiline(cell.markdown)
        if CellScript.comment(cell.markdown) != cell.content { meta["lua"] = cell.content }
      case .code:
        json["cell_type"] = "code"
        json["source"] = multiline(cell.content)
        let run = runs[i]
        json["execution_count"] = run?.executionCount ?? NSNull()
        json["outputs"] = (run?.outputs ?? []).map {
          output($0, executionCount: run?.executionCount)
        }
        if let run, run.state != .notRun {
          meta["seconds"] = (run.seconds * 1000).rounded() / 1000
        }
      }
      json["metadata"] = ["moonlab": meta]
      cells.append(json)
    }
    var metadata: [String: Any] = ["kernelspec": kernelspec, "language_info": languageInfo]
    if !moonlab.isEmpty { metadata["moonlab"] = moonlab }
    return ["nbformat": 4, "nbformat_minor": 5, "metadata": metadata, "cells": cells]
  }

  /// One output in nbformat's JSON.
  public static func output(_ o: CellOutput, executionCount: Int?) -> [String: Any] {
    switch o {
    case .stream(let name, let text):
      return ["output_type": "stream", "name": name, "text": multiline(text)]
    case .display(let bundle):
      return ["output_type": "display_data", "data": mimeData(bundle), "metadata": [String: Any]()]
    case .result(let text):
      return [
        "output_type": "execute_result", "execution_count": executionCount ?? NSNull(),
        "data": mimeData(["text/plain": text]), "metadata": [String: Any](),
      ]
    case .error(let message, let traceback):
      return [
        "output_type": "error", "ename": "LuaError", "evalue": message, "traceback": traceback,
      ]
    }
  }

  /// Text types as lists of lines (how Jupyter writes them, so diffs stay readable);
  /// base64 images as one string.
  static func mimeData(_ bundle: [String: String]) -> [String: Any] {
    bundle.mapValues { value -> Any in
      value.isEmpty || !value.contains("\n") ? value : multiline(value)
    }
  }

  /// "a\nb" → ["a\n", "b"], as nbformat stores multi-line strings.
  static func multiline(_ text: String) -> [String] {
    var out: [String] = []
    var current = ""
    for ch in text.unicodeScalars {
      current.unicodeScalars.append(ch)
      if ch == "\n" {
        out.append(current)
        current = ""
      }
    }
    if !current.isEmpty { out.append(current) }
    return out
  }

  /// The notebook as JSON text, keys sorted so the same run writes the same bytes.
  public static func encode(_ notebook: [String: Any]) throws -> Data {
    var data = try JSONSerialization.data(
      withJSONObject: notebook, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
    data.append(UInt8(ascii: "\n"))
    return data
  }

  // MARK: Notebook → script

  public static func script(fromNotebook data: Data) throws -> String {
    guard let nb = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
      throw FormatError(description: "not a notebook: the file is not a JSON object")
    }
    guard let cells = nb["cells"] as? [[String: Any]] else {
      throw FormatError(description: "not a notebook: no 'cells' list (nbformat 4 expected)")
    }
    let nbMeta = (nb["metadata"] as? [String: Any])?["moonlab"] as? [String: Any]
    var text = nbMeta?["leading"] as? String ?? ""
    for (i, json) in cells.enumerated() {
      let isLast = i == cells.count - 1
      let kind: CellScript.Kind = json["cell_type"] as? String == "code" ? .code : .markdown
      let source = try sourceText(json["source"], cell: i + 1)
      let meta = (json["metadata"] as? [String: Any])?["moonlab"] as? [String: Any] ?? [:]

      var marker: String? = kind == .code ? "--%%\n" : "--%% [markdown]\n"
      if meta["unmarked"] as? Bool == true {
        marker = nil
      } else if let m = meta["marker"] as? String,
        CellScript.markerKind(m.droppingLineBreak) == kind
      {
        marker = m
      }
      var content = source
      if kind == .markdown {
        let lua = meta["lua"] as? String
        content =
          lua.flatMap { CellScript.uncomment($0) == source ? $0 : nil }
          ?? CellScript.comment(source)
      }
      let trailing = meta["trailing"] as? String ?? (isLast ? "\n" : "\n\n")

      if let marker {
        if !text.isEmpty, !text.endsWithLineBreak { text += "\n" }
        text += marker
        if !marker.endsWithLineBreak, !content.isEmpty { text += "\n" }
      } else if !text.isEmpty, !text.endsWithLineBreak {
        text += "\n"
      }
      text += content + trailing
    }
    return text
  }

  /// A cell's `source`: a string or a list of strings.
  static func sourceText(_ value: Any?, cell: Int) throws -> String {
    if let s = value as? String { return s }
    if let list = value as? [Any] {
      return try list.map {
        guard let s = $0 as? String else {
          throw FormatError(description: "cell \(cell): 'source' holds a non-string line")
        }
        return s
      }.joined()
    }
    throw FormatError(description: "cell \(cell): 'source' is missing or not text")
  }
}
