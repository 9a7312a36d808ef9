import Foundation

/// One line chart: several named series over a shared pair of axes.
public struct Plot {
  public struct Series {
    public var name: String
    public var x: [Double]
    public var y: [Double]
    public init(name: String, x: [Double], y: [Double]) {
      self.name = name
      self.x = x
      self.y = y
    }
  }
  public var title = ""
  public var xlabel = ""
  public var ylabel = ""
  public var logx = false
  public var logy = false
  public var series: [Series] = []
  public init() {}
}

/// What a script put into its report, in order. Images live as PNG files in the run
/// directory (`images/…`); `metrics` charts are drawn from metrics.jsonl when the report
/// is rendered, so they always show every line logged so far.
public enum ReportBlock {
  case section(String)
  case text(String)
  case table(columns: [String], rows: [[String]])
  case plot(Plot)
  case image(title: String, file: String, width: Int, height: Int)
  case metrics(title: String, keys: [String], logy: Bool)
  case confusion(ConfusionMatrix)

  // MARK: report.json (so `moonlab report RUN_DIR` can render again)

  var json: JSON {
    func obj(_ kind: String, _ fields: [JSON.Field]) -> JSON {
      .object([JSON.Field("kind", .string(kind))] + fields)
    }
    func strings(_ a: [String]) -> JSON { .array(a.map(JSON.string)) }
    switch self {
    case .section(let t): return obj("section", [.init("title", .string(t))])
    case .text(let t): return obj("text", [.init("markdown", .string(t))])
    case .table(let columns, let rows):
      return obj(
        "table", [.init("columns", strings(columns)), .init("rows", .array(rows.map(strings)))])
    case .plot(let p):
      return obj(
        "plot",
        [
          .init("title", .string(p.title)), .init("xlabel", .string(p.xlabel)),
          .init("ylabel", .string(p.ylabel)),
          .init("logx", .bool(p.logx)), .init("logy", .bool(p.logy)),
          .init(
            "series",
            .array(
              p.series.map {
                .object([
                  .init("name", .string($0.name)), .init("x", .array($0.x.map(JSON.number))),
                  .init("y", .array($0.y.map(JSON.number))),
                ])
              })),
        ])
    case .image(let title, let file, let w, let h):
      return obj(
        "image",
        [
          .init("title", .string(title)), .init("file", .string(file)),
          .init("width", .number(Double(w))),
          .init("height", .number(Double(h))),
        ])
    case .metrics(let title, let keys, let logy):
      return obj(
        "metrics",
        [.init("title", .string(title)), .init("keys", strings(keys)), .init("logy", .bool(logy))])
    case .confusion(let c):
      return obj(
        "confusion",
        [
          .init("title", .string(c.title)), .init("classes", strings(c.classes)),
          .init("counts", .array(c.counts.map { .array($0.map(JSON.number)) })),
        ])
    }
  }

  init(json j: JSON) throws {
    func string(_ k: String) -> String { j[k]?.text ?? "" }
    func strings(_ v: JSON?) -> [String] { v?.items?.compactMap(\.text) ?? [] }
    func numbers(_ v: JSON?) -> [Double] { v?.items?.compactMap(\.double) ?? [] }
    func flag(_ k: String) -> Bool { j[k] == .bool(true) }
    switch string("kind") {
    case "section": self = .section(string("title"))
    case "text": self = .text(string("markdown"))
    case "table":
      self = .table(
        columns: strings(j["columns"]), rows: j["rows"]?.items?.map { strings($0) } ?? [])
    case "plot":
      var p = Plot()
      p.title = string("title")
      p.xlabel = string("xlabel")
      p.ylabel = string("ylabel")
      p.logx = flag("logx")
      p.logy = flag("logy")
      p.series = (j["series"]?.items ?? []).map {
        Plot.Series(name: $0["name"]?.text ?? "", x: numbers($0["x"]), y: numbers($0["y"]))
      }
      self = .plot(p)
    case "image":
      self = .image(
        title: string("title"), file: string("file"), width: Int(j["width"]?.double ?? 0),
        height: Int(j["height"]?.double ?? 0))
    case "metrics":
      self = .metrics(title: string("title"), keys: strings(j["keys"]), logy: flag("logy"))
    case "confusion":
      self = .confusion(
        ConfusionMatrix(
          title: string("title"), classes: strings(j["classes"]),
          counts: j["counts"]?.items?.map { numbers($0) } ?? []))
    case let kind: throw LabError("report.json: unknown block kind '\(kind)'")
    }
  }
}
