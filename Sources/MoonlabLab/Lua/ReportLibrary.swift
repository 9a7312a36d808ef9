import CLua
import MoonlabLua
import MoonlabNN
import MoonlabTensor

/// The `report` library (docs/lab.md): each call appends a block to the current run's
/// report, which is rendered when the script ends (also on error) and after each epoch
/// of `lab.fit`.
enum ReportLibrary {
  static func install(_ owner: LabSession) {
    let live = owner.weakly
    owner.host.registerLibrary(
      "report",
      [
        "section": { lua in
          try live().requireRecord("report.section").add(
            .section(try lua.string(1, "report.section")))
          return 0
        },
        "text": { lua in
          try live().requireRecord("report.text").add(.text(try lua.string(1, "report.text")))
          return 0
        },
        "table": { lua in
          let record = try live().requireRecord("report.table")
          let (columns, rows) = try table(lua)
          record.add(.table(columns: columns, rows: rows))
          return 0
        },
        "plot": { lua in
          let record = try live().requireRecord("report.plot")
          record.add(.plot(try plot(lua)))
          return 0
        },
        "image": { lua in
          let record = try live().requireRecord("report.image")
          let t = try lua.tensor(1, "report.image")
          try lua.checkOptions(2, "report.image", allowed: ["title"])
          let title = try lua.stringOption(2, "title", "report.image") ?? ""
          try record.addImage(try TensorImage.raster(t), title: title)
          return 0
        },
        "filters": { lua in
          let record = try live().requireRecord("report.filters")
          guard let m = lua.anyObject(1) as? Module else {
            throw LuaError(
              "bad argument #1 to 'report.filters' (Module expected, got \(lua.typeName(1)))")
          }
          let w = try TensorImage.firstConvWeight(m)
          try lua.checkOptions(2, "report.filters", allowed: ["title"])
          let title =
            try lua.stringOption(2, "title", "report.filters") ?? "First-layer filters \(w.shape)"
          try record.addImage(try TensorImage.filters(w), title: title)
          return 0
        },
      ].merging(ReportConfusionLibrary.functions(live)) { a, _ in a })
  }

  /// report.table(rows, {columns=}): rows are sequences (cells by position) or records
  /// (cells by column name; columns default to the first row's keys, sorted).
  static func table(_ lua: Lua) throws -> ([String], [[String]]) {
    let fn = "report.table"
    try lua.checkTable(1, fn)
    var columns: [String]? = nil
    try lua.checkOptions(2, fn, allowed: ["columns"])
    if try lua.optTable(2, fn), lua.rawField(2, "columns") == LUA_TTABLE {
      columns = try (1...max(1, lua.rawLength(-1))).compactMap { k -> String? in
        lua.rawIndex(-1, k)
        defer { lua.pop() }
        return lua.isNoneOrNil(-1) ? nil : try lua.string(-1, "\(fn) columns")
      }
      lua.pop()
    } else if lua.type(2) == LUA_TTABLE {
      lua.pop()
    }
    var rows: [[String]] = []
    for r in stride(from: 1, through: lua.rawLength(1), by: 1) {
      lua.rawIndex(1, r)
      defer { lua.pop() }
      guard lua.type(-1) == LUA_TTABLE else {
        throw LuaError("\(fn): row \(r) is a \(lua.typeName(-1)), expected a table")
      }
      let n = lua.rawLength(-1)
      if n > 0 {
        rows.append(
          try (1...n).map { k in
            lua.rawIndex(-1, k)
            defer { lua.pop() }
            return try cell(lua, fn)
          })
      } else {
        let record = try lua.objectJSON(-1, fn)
        let cols = columns ?? record.fields?.map(\.key) ?? []
        columns = cols
        rows.append(cols.map { record[$0].map(ReportWriter.cell) ?? "" })
      }
    }
    let width = rows.map(\.count).max() ?? 0
    return (columns ?? (1...max(1, width)).map(String.init), rows)
  }

  static func cell(_ lua: Lua, _ fn: String) throws -> String {
    if lua.isNoneOrNil(-1) { return "" }
    guard let v = lua.scalarJSON(-1) else {
      throw LuaError("\(fn): a cell is a \(lua.typeName(-1)), expected a number, boolean or string")
    }
    return ReportWriter.cell(v)
  }

  /// report.plot{series={{name=, x=, y=}, …}, title=, xlabel=, ylabel=, logx=, logy=};
  /// x defaults to 1…#y.
  static func plot(_ lua: Lua) throws -> Plot {
    let fn = "report.plot"
    try lua.checkOptions(
      1, fn, allowed: ["series", "title", "xlabel", "ylabel", "logx", "logy"], required: true)
    var p = Plot()
    p.title = try lua.stringOption(1, "title", fn) ?? ""
    p.xlabel = try lua.stringOption(1, "xlabel", fn) ?? ""
    p.ylabel = try lua.stringOption(1, "ylabel", fn) ?? ""
    p.logx = try lua.booleanOption(1, "logx", fn) ?? false
    p.logy = try lua.booleanOption(1, "logy", fn) ?? false
    guard lua.rawField(1, "series") == LUA_TTABLE else {
      throw LuaError("\(fn): option 'series' (a list of {name=, x=, y=} expected)")
    }
    defer { lua.pop() }
    let list = lua.top
    for k in stride(from: 1, through: lua.rawLength(list), by: 1) {
      lua.rawIndex(list, k)
      defer { lua.pop() }
      let s = lua.top
      guard lua.type(s) == LUA_TTABLE else { throw LuaError("\(fn): series \(k) is not a table") }
      try lua.checkOptions(s, "\(fn) series \(k)", allowed: ["name", "x", "y"])
      let name = try lua.stringOption(s, "name", fn) ?? "series \(k)"
      guard lua.rawField(s, "y") != LUA_TNIL else {
        throw LuaError("\(fn): series \(k) has no 'y'")
      }
      let y = try lua.numbersOrTensor(-1, "\(fn) series \(k) y")
      lua.pop()
      var x = y.indices.map { Double($0 + 1) }
      if lua.rawField(s, "x") != LUA_TNIL { x = try lua.numbersOrTensor(-1, "\(fn) series \(k) x") }
      lua.pop()
      guard x.count == y.count else {
        throw LuaError(
          "\(fn): series \(k) ('\(name)') has \(x.count) x values and \(y.count) y values")
      }
      p.series.append(Plot.Series(name: name, x: x, y: y))
    }
    return p
  }
}
