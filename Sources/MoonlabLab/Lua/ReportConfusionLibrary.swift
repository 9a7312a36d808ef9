import CLua
import MoonlabLua
import MoonlabTensor

/// report.confusion(matrix[, classes][, {title=}]) (docs/lab.md): a confusion matrix —
/// a [C, C] tensor such as lab.evaluate's `confusion`, or a table of C rows — as a heat
/// map table with each true class's accuracy. `classes` names the C classes in order
/// (default 1…C).
enum ReportConfusionLibrary {
  static func functions(_ live: @escaping () throws -> LabSession) -> [String: LuaFunction] {
    [
      "confusion": { lua in
        let fn = "report.confusion"
        let record = try live().requireRecord(fn)
        let counts = try matrix(lua, fn)
        var classes = counts.indices.map { String($0 + 1) }
        if !lua.isNoneOrNil(2) {
          try lua.checkTable(2, fn)
          guard lua.rawLength(2) == counts.count else {
            throw LuaError(
              "\(fn): \(lua.rawLength(2)) class names for a \(counts.count)×\(counts.count) matrix")
          }
          classes = try (1...counts.count).map { k in
            lua.rawIndex(2, k)
            defer { lua.pop() }
            return try ReportLibrary.cell(lua, "\(fn) class \(k)")
          }
        }
        try lua.checkOptions(3, fn, allowed: ["title"])
        let title = try lua.stringOption(3, "title", fn) ?? "Confusion matrix (rows: true class)"
        record.add(.confusion(ConfusionMatrix(title: title, classes: classes, counts: counts)))
        return 0
      }
    ]
  }

  /// Argument 1 as C rows of C finite, non-negative counts.
  static func matrix(_ lua: Lua, _ fn: String) throws -> [[Double]] {
    var rows: [[Double]]
    if let t = lua.anyObject(1) as? Tensor {
      guard t.rank == 2, t.shape[0] == t.shape[1], t.shape[0] > 0 else {
        throw LuaError("\(fn): expected a square [C, C] tensor, got shape \(t.shape)")
      }
      let c = t.shape[0]
      rows = (0..<c).map { r in (0..<c).map { Double(t.data[r * c + $0]) } }
    } else {
      try lua.checkTable(1, fn)
      rows = try (0..<lua.rawLength(1)).map { r in
        lua.rawIndex(1, r + 1)
        defer { lua.pop() }
        return try lua.numberList(lua.top, "\(fn) row \(r + 1)")
      }
      guard !rows.isEmpty, rows.allSatisfy({ $0.count == rows.count }) else {
        throw LuaError("\(fn): expected C rows of C counts (a square matrix)")
      }
    }
    guard rows.allSatisfy({ $0.allSatisfy { $0 >= 0 && $0.isFinite } }) else {
      throw LuaError("\(fn): counts must be finite and ≥ 0")
    }
    return rows
  }
}
