import CLua
import Foundation
import MoonlabData
import MoonlabLua
import MoonlabTensor

/// The state behind the `lab` and `report` libraries for one Lua host: the request, the
/// run record being written (the run's, or a sweep trial's while it runs), and how the
/// script should end when `lab.sweep` stops it early (a trial child, --emit-slurm).
final class LabSession {
  let host: LuaHost
  let request: RunRequest
  let script: Data
  /// Under --sandbox, the script's files (m:save, m:load) live in this record's folder.
  var record: RunRecord? {
    didSet {
      if request.sandbox { host.confineFiles(to: record?.dir) }
      completeRecord()
    }
  }
  /// Every dataset the script opened so far, as config.json's `datasets` lists them.
  private(set) var datasets: [JSON] = []
  /// The data files' hashes, remembered across runs in the user's cache folder.
  private lazy var digests = FileDigests()
  /// The script's git work tree, looked up once (when the first record is made).
  private lazy var git: GitState? = GitState.of(
    script: URL(fileURLWithPath: request.scriptPath).standardizedFileURL)
  var earlyExit: (success: Bool, message: String)?
  /// Where the session's text for the user goes (stdout, or the running notebook cell).
  let output = CellOutputs()

  init(request: RunRequest, script: Data) throws {
    host = try LuaHost(
      options: .init(
        sandbox: request.sandbox, memoryLimitBytes: request.memoryLimitBytes,
        timeLimitSeconds: request.timeLimitSeconds, seed: request.seed, threads: request.threads))
    self.request = request
    self.script = script
    // Library notices ("using the bundled CIFAR-10 sample") belong to the cell too.
    host.noticeOutput = { [output] line in output.write(line + "\n", stream: "stderr") }
    let lua = Lua(host.state)
    host.libraryTable("lab")
    lua.newTable()
    for (key, value) in request.config {
      value.push(lua)
      lua.setField(-2, key)
    }
    lua.setField(-2, "config")
    lua.pop()
    host.dataPins = request.sandbox ? LabSession.sandboxed(request.dataPins) : request.dataPins
    host.dataOpened = { [weak self] source in try self?.recordDataset(source) }
    LabLibrary.install(self)
    ReportLibrary.install(self)
  }

  /// How the `lab` and `report` closures reach this session: weakly, since they live in
  /// the host this session owns — a strong capture was a cycle that kept every in-process
  /// run's Lua state, tensors and record alive after it ended.
  var weakly: () throws -> LabSession {
    { [weak self] in
      guard let self else { throw LuaError("lab: the run this Lua state belonged to has ended") }
      return self
    }
  }

  /// The record `fn` writes to, or an error saying there is none.
  func requireRecord(_ fn: String) throws -> RunRecord {
    guard let record else {
      throw LuaError(
        request.sweep != nil
          ? "\(fn): under `moonlab sweep` there is no record before lab.sweep returns (report and log from run(cfg), or after the sweep)"
          : "\(fn): this session keeps no run directory (use `moonlab run`)")
    }
    return record
  }

  /// lab.config as it is now (scripts may fill in defaults), for config.json.
  func labConfig() -> JSON? {
    let lua = Lua(host.state)
    let top = lua.top
    defer { lua.setTop(top) }
    guard lua.getGlobal("lab") == LUA_TTABLE, lua.rawField(-1, "config") == LUA_TTABLE
    else { return nil }
    return try? lua.objectJSON(-1, "lab.config", nested: true)
  }

  /// Seeds above 2^53 don't survive a JSON number, so they are written as text.
  static func seedJSON(_ seed: UInt64) -> JSON {
    seed < 1 << 53 ? .number(Double(seed)) : .string(String(seed))
  }

  static func seed(from json: JSON?) -> UInt64? {
    if let d = json?.double { return UInt64(exactly: d) }
    return json?.text.flatMap { UInt64($0) }
  }

  /// config.json's fields at the start of a run: everything needed to run it again.
  func provenance(name: String, extra: [JSON.Field] = []) -> [JSON.Field] {
    let r = request
    let settings = JSON.object(r.config.map { .init($0.key, $0.value.json) })
    let scriptPath = URL(fileURLWithPath: r.scriptPath).standardizedFileURL.path
    var scriptFields: [JSON.Field] = [
      .init("path", .string(scriptPath)), .init("sha256", .string(SHA256.hex(script))),
    ]
    if let git { scriptFields.append(.init("git", git.json)) }
    return [
      .init("name", .string(name)),
      .init("script", .object(scriptFields)),
      .init("seed", LabSession.seedJSON(r.seed)),
      .init("threads", .number(Double(r.threads))),
      .init("settings", settings),
      .init("config", settings),
      .init("arguments", .array(r.arguments.map(JSON.string))),
      .init("sandbox", .bool(r.sandbox)),
      .init("memory_limit_bytes", .number(Double(r.memoryLimitBytes))),
      .init("time_limit_seconds", .number(r.timeLimitSeconds)),
    ] + extra + [
      .init("argv", .array(r.argv.map(JSON.string))),
      .init("cwd", .string(FileManager.default.currentDirectoryPath)),
      .init("moonlab_version", .string(MoonlabVersion.string)),
      .init("kernels", .string(KernelBuild.name)),
    ] + Provenance.machine + [
      .init("datasets", .array(datasets)),
      .init("host", .string(ProcessInfo.processInfo.hostName)),
      .init("os", .string(ProcessInfo.processInfo.operatingSystemVersionString)),
      .init("started", .string(RunRecord.timestamp())),
      .init("status", .string("running")),
    ]
  }

  /// Under --sandbox datasets come from the default roots or the bundled sample only
  /// (docs/lab.md, "Sandbox"): a rerun's pins elsewhere — a config.json edited by hand — are
  /// dropped, and the default roots are read.
  static func sandboxed(_ pins: [String: DataSource.Origin]) -> [String: DataSource.Origin] {
    let roots = Set(DataRoot.candidates().map { $0.standardizedFileURL.path })
    return pins.filter { _, origin in
      switch origin {
      case .bundledSample: return true
      case .folder(let f):
        return roots.contains(f.standardizedFileURL.deletingLastPathComponent().path)
      }
    }
  }

  /// Records a dataset the script opened: its files' sizes and hashes go into config.json
  /// at once, so even a run killed later says what it read.
  func recordDataset(_ source: DataSource) throws {
    // No record now or later (the REPL): nothing to hash for.
    if record == nil, request.sweep == nil { return }
    let entry = try DatasetRecord.json(source, digests: digests)
    digests.save()
    if !datasets.contains(entry) { datasets.append(entry) }
    completeRecord()
  }

  /// Brings the current record up to date: the datasets opened so far (a sweep trial's go
  /// to the trial, and to the run once it is current again) and git.diff when the script's
  /// work tree has uncommitted changes.
  private func completeRecord() {
    guard let record else { return }
    if record.provenance.first(where: { $0.key == "datasets" })?.value != .array(datasets) {
      try? record.update("datasets", .array(datasets))
    }
    if let git, !git.diff.isEmpty {
      let file = record.dir.appendingPathComponent(GitState.diffFile)
      if !FileManager.default.fileExists(atPath: file.path) {
        try? AtomicFile.write(git.diff, to: file)
      }
    }
  }
}
