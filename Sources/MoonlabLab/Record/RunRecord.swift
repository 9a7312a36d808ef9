import Foundation
import MoonlabTensor

/// Where a run is, from the report's point of view.
public enum RunStatus: Equatable {
  case running
  case finished
  case failed(String)
  /// Stopped by SIGINT or SIGTERM (the message says which and where).
  case interrupted(String)

  var name: String {
    switch self {
    case .running: return "running"
    case .finished: return "finished"
    case .failed: return "failed"
    case .interrupted: return "interrupted"
    }
  }

  var json: [JSON.Field] {
    switch self {
    case .running, .finished: return [.init("status", .string(name))]
    case .failed(let m), .interrupted(let m):
      return [.init("status", .string(name)), .init("error", .string(m))]
    }
  }

  init(json: JSON) {
    switch json["status"]?.text {
    case "finished": self = .finished
    case "failed": self = .failed(json["error"]?.text ?? "")
    case "interrupted": self = .interrupted(json["error"]?.text ?? "")
    default: self = .running
    }
  }
}

/// One run directory (docs/lab.md): config.json, script.lua, metrics.jsonl,
/// checkpoints/, images/, report.json + report.html + report.md, and DONE, written last.
/// Every file except the append-only metrics log is replaced atomically.
public final class RunRecord {
  public let dir: URL
  public let metrics: MetricsLog
  public private(set) var blocks: [ReportBlock] = []
  /// config.json's content; `finish` adds the final lab.config, end time and status.
  public private(set) var provenance: [JSON.Field]
  /// Blocks made from other files, shown first (a sweep folder's results and curves).
  var leading: [ReportBlock] = []
  private var imageCount = 0
  /// lab.fit calls made into this record so far (a train state names the call it is of).
  var fitCalls = 0
  /// The checkpoint a resumed run continues from, until its lab.fit call takes it.
  var resumePoint: TrainState?

  /// Makes the directory and writes config.json and the script copy. The directory must not
  /// hold a run already (its record would be lost), except with `reuse` (a sweep folder
  /// recorded again) or `restart` (a sweep trial that did not finish, run again).
  public init(
    dir: URL, provenance: [JSON.Field], script: Data, reuse: Bool = false, restart: Bool = false
  ) throws {
    self.dir = dir
    self.provenance = provenance
    let fm = FileManager.default
    let done = dir.appendingPathComponent("DONE")
    let config = dir.appendingPathComponent("config.json")
    if !reuse, fm.fileExists(atPath: config.path) {
      let recorded = (try? JSON.read(config))??["status"]?.text
      let status = fm.fileExists(atPath: done.path) ? "finished" : recorded ?? "unknown"
      if status == "finished" || !restart {
        let resume = status == "finished" ? "" : ", continue it with `moonlab resume \(dir.path)`"
        throw LabError(
          "\(dir.path) already holds a run (status: \(status)); choose another --out or remove it\(resume)"
        )
      }
    }
    if fm.fileExists(atPath: done.path) { try fm.removeItem(at: done) }
    try Folder.create(dir)
    // A leftover metrics log of an unfinished run in the same place would mix two runs.
    try? fm.removeItem(at: dir.appendingPathComponent("metrics.jsonl"))
    // The record's files sync themselves but not the folder: `finish` syncs it
    // (docs/architecture.md, "Files").
    try AtomicFile.write(script, to: dir.appendingPathComponent("script.lua"), sync: .file)
    try AtomicFile.write(
      JSON.object(provenance).serialized(pretty: true) + "\n",
      to: dir.appendingPathComponent("config.json"), sync: .file)
    metrics = try MetricsLog(url: dir.appendingPathComponent("metrics.jsonl"))
  }

  /// Reopens `dir`, a run that did not finish, to continue it from `point` (nil: from
  /// the start; docs/lab.md, "Resuming a run"). config.json keeps its fields, with the
  /// status running again and the resume listed under `resumed`; `metrics` is the log,
  /// locked and cut back to the checkpoint's lines, which the script must log again.
  init(resuming dir: URL, from point: TrainState?, metrics: MetricsLog) throws {
    self.dir = dir
    let configURL = dir.appendingPathComponent("config.json")
    guard let fields = try JSON.read(configURL)?.fields else {
      throw LabError("\(dir.path) is not a run directory (no config.json)")
    }
    provenance = fields.filter { $0.key != "error" && $0.key != "finished" }
    self.metrics = metrics
    resumePoint = point
    let resume = JSON.object([
      .init("at", .string(RunRecord.timestamp())),
      .init("after_epoch", .number(Double(point?.epoch ?? 0))),
    ])
    set("resumed", .array((provenance.first { $0.key == "resumed" }?.value.items ?? []) + [resume]))
    set("status", .string("running"))
    try AtomicFile.write(
      JSON.object(provenance).serialized(pretty: true) + "\n", to: configURL, sync: .file)
  }

  public var name: String {
    provenance.first { $0.key == "name" }?.value.text ?? dir.lastPathComponent
  }

  public func add(_ block: ReportBlock) { blocks.append(block) }

  /// Saves a picture as images/NNN.png and adds it to the report.
  func addImage(_ raster: Raster, title: String) throws {
    imageCount += 1
    let file = String(format: "images/%03d.png", imageCount)
    try AtomicFile.write(try raster.png(), to: dir.appendingPathComponent(file))
    add(.image(title: title, file: file, width: raster.width, height: raster.height))
  }

  /// Renders report.json/html/md for the run as it stands.
  public func writeReport(_ status: RunStatus) throws {
    try ReportWriter.write(
      ReportWriter.Input(
        dir: dir, title: name, provenance: .object(provenance), status: status, blocks: blocks,
        metrics: metrics.lines, generated: leading))
  }

  /// Ends the run: config.json gets the final lab.config, the end time and the status,
  /// the report is rendered, and DONE is written last when the run succeeded.
  public func finish(_ status: RunStatus, config: JSON?) throws {
    defer { metrics.unlock() }
    if let config { set("config", config) }
    set("finished", .string(RunRecord.timestamp()))
    set("status", .string(status.name))
    try AtomicFile.write(
      JSON.object(provenance).serialized(pretty: true) + "\n",
      to: dir.appendingPathComponent("config.json"), sync: .file)
    try writeReport(status)
    if status == .finished {
      // Empty, so only its name has to last: the folder's sync below, after the files
      // above were synced, makes it durable.
      try AtomicFile.write("", to: dir.appendingPathComponent("DONE"), sync: .none)
    }
    AtomicFile.syncFolder(dir)
  }

  /// Sets one config.json field and writes the file again (a dataset opened mid-run).
  public func update(_ key: String, _ value: JSON) throws {
    set(key, value)
    try AtomicFile.write(
      JSON.object(provenance).serialized(pretty: true) + "\n",
      to: dir.appendingPathComponent("config.json"), sync: .file)
  }

  private func set(_ key: String, _ value: JSON) {
    if let i = provenance.firstIndex(where: { $0.key == key }) {
      provenance[i].value = value
    } else {
      provenance.append(.init(key, value))
    }
  }

  /// `date` in UTC as RFC 3339 ("2026-12-01T23:40:05Z").
  public static func timestamp(_ date: Date = Date()) -> String {
    utc(date, "%Y-%m-%dT%H:%M:%SZ")
  }

  /// `date` in UTC through strftime: Foundation's date formatters load ICU's data on first
  /// use, a few milliseconds of every run's start-up (docs/architecture.md, "Start-up and the release binary").
  static func utc(_ date: Date, _ format: String) -> String {
    var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
    var parts = tm()
    gmtime_r(&seconds, &parts)
    var text = [CChar](repeating: 0, count: 64)
    let n = strftime(&text, text.count, format, &parts)
    return String(decoding: text[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }

  /// runs/NAME-YYYYmmdd-HHMMSS (UTC), with -2, -3 … when two runs start in one second.
  public static func defaultDir(name: String, root: String = "runs") -> URL {
    let base = URL(fileURLWithPath: root).appendingPathComponent(
      "\(name)-\(utc(Date(), "%Y%m%d-%H%M%S"))")
    var url = base
    var k = 2
    while FileManager.default.fileExists(atPath: url.path) {
      url = URL(fileURLWithPath: base.path + "-\(k)")
      k += 1
    }
    return url
  }
}
