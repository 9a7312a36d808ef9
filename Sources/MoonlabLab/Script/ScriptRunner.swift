import CLua
import Foundation
import MoonlabData
import MoonlabLua
import MoonlabTensor

/// What `moonlab run` (or `sweep`, `rerun`) was asked to do.
public struct RunRequest {
  public var scriptPath: String
  public var arguments: [String] = []
  public var seed: UInt64 = 0
  public var threads = RunContext.processorCount
  public var config: [(key: String, value: ConfigValue)] = []
  public var sandbox = false
  /// Cap on the Lua heap; 0 = none (the CLI sets 512 MB under --sandbox).
  public var memoryLimitBytes = 0
  public var timeLimitSeconds = 0.0
  /// The run directory; nil = runs/NAME-YYYYmmdd-HHMMSS.
  public var outDir: String?
  /// The command line, for config.json.
  public var argv: [String] = CommandLine.arguments
  /// Set by `moonlab sweep`: the script keeps no run record of its own; `lab.sweep` runs,
  /// shards, merges or emits the trials as asked.
  public var sweep: SweepOptions?
  /// Set by `moonlab resume`: continue the unfinished run in `outDir` from its newest
  /// checkpoint instead of refusing the occupied folder (docs/lab.md, "Resuming a run").
  public var resume = false

  /// Where each dataset split is read from when the script names no root: a rerun's
  /// recorded sources (`DataSource.key` → origin); empty = the default roots.
  public var dataPins: [String: DataSource.Origin] = [:]

  /// The run's name; nil = the script's base name without extension ("lenet" for
  /// examples/lenet.lua). A rerun keeps the original run's name.
  public var name: String?

  public init(scriptPath: String) { self.scriptPath = scriptPath }

  public var scriptName: String {
    name ?? URL(fileURLWithPath: scriptPath).deletingPathExtension().lastPathComponent
  }
}

/// A `--set key=value` value: numbers, booleans and strings are told apart like Lua would.
public enum ConfigValue: Equatable {
  case number(Double)
  case boolean(Bool)
  case string(String)

  public init(parsing text: String) {
    if text == "true" {
      self = .boolean(true)
    } else if text == "false" {
      self = .boolean(false)
    } else if let d = Double(text) {
      self = .number(d)
    } else {
      self = .string(text)
    }
  }

  init?(json: JSON) {
    switch json {
    case .number(let d): self = .number(d)
    case .bool(let b): self = .boolean(b)
    case .string(let s): self = .string(s)
    default: return nil
    }
  }

  var json: JSON {
    switch self {
    case .number(let d): return .number(d)
    case .boolean(let b): return .bool(b)
    case .string(let s): return .string(s)
    }
  }

  func push(_ lua: Lua) { lua.push(json: json) }
}

/// A script that failed; the message says where and why (traceback included). The
/// process exits with `exitCode`: 1, 128 + the signal that interrupted it, or the code the
/// script gave os.exit.
public struct ScriptFailed: Error, CustomStringConvertible {
  public let message: String
  public let runDir: URL?
  public var exitCode: Int32 = 1
  public var description: String { message }
}

/// Runs one script: seeds the generator, sets thread counts, builds the Lua host with
/// every library, fills `lab.config`, records the run directory and executes the file.
public enum ScriptRunner {
  /// A host with the lab and report libraries but no run record (the REPL, benchmarks).
  public static func makeHost(_ request: RunRequest) throws -> LuaHost {
    let session = try LabSession(request: request, script: Data())
    session.host.owner = session  // the libraries reach it weakly; the host keeps it
    return session.host
  }

  /// Runs the script and returns its run directory (nil under `moonlab sweep`).
  @discardableResult
  public static func run(_ request: RunRequest) throws -> URL? {
    guard let script = FileManager.default.contents(atPath: request.scriptPath) else {
      throw ScriptNotFound(path: request.scriptPath)
    }
    let world = try MPIWorld.joined()
    if let world, request.sweep != nil || request.resume {
      throw ScriptFailed(
        message:
          "moonlab: \(request.sweep != nil ? "sweep" : "resume") does not run under MPI (rank \(world.rank) of \(world.size)); data-parallel training is `moonlab run --np N`",
        runDir: nil)
    }
    // Ranks other than 0 keep their record in a temporary folder and print nothing: the
    // run's record and output are rank 0's (docs/scale-out.md, "Training across processes").
    let peer = world.flatMap { $0.rank == 0 ? nil : $0 }
    if peer != nil { try silenceStandardOutput() }
    let peerDir = try peer.map { _ in try peerFolder() }
    defer { if let peerDir { try? FileManager.default.removeItem(at: peerDir) } }
    let session = try LabSession(request: request, script: script)
    if request.sweep == nil {
      let dir =
        peerDir?.appendingPathComponent("run")
        ?? request.outDir.map { URL(fileURLWithPath: $0) }
        ?? RunRecord.defaultDir(name: request.scriptName)
      if request.resume {
        session.record = try RunResume.reopen(dir) { note in
          FileHandle.standardError.write(Data("moonlab: \(note)\n".utf8))
        }
      } else {
        var provenance = session.provenance(name: request.scriptName)
        if let world { provenance.append(.init("mpi_ranks", .number(Double(world.size)))) }
        session.record = try RunRecord(dir: dir, provenance: provenance, script: script)
        if peer == nil {
          FileHandle.standardError.write(Data("moonlab: recording to \(dir.path)\n".utf8))
        }
      }
    }
    do {
      try session.host.runScript(path: request.scriptPath, arguments: request.arguments)
      if let record = session.record { try RunResume.checkReached(record) }
    } catch {
      if let exit = session.earlyExit {
        if exit.success { return nil }
        throw ScriptFailed(message: exit.message, runDir: nil)
      }
      // Another rank's error names its rank; its record is a temporary one.
      let message = (peer.map { "rank \($0.rank) of \($0.size): " } ?? "") + explain(error, request)
      let dir = peer == nil ? session.record?.dir : nil
      if let signal = Interrupts.pending {
        try? session.record?.finish(.interrupted(message), config: session.labConfig())
        throw ScriptFailed(message: message, runDir: dir, exitCode: 128 + signal)
      }
      if let code = session.host.exitCode {
        // os.exit(0) or os.exit(true) ends the script as finished; another code as failed.
        if code == 0 {
          try session.record?.finish(.finished, config: session.labConfig())
          MPIWorld.finalize()
          return dir
        }
        try? session.record?.finish(.failed(message), config: session.labConfig())
        throw ScriptFailed(message: message, runDir: dir, exitCode: code)
      }
      try? session.record?.finish(.failed(message), config: session.labConfig())
      throw ScriptFailed(message: message, runDir: dir)
    }
    // Under `moonlab sweep` the record (if any) is the sweep folder's, made by lab.sweep.
    try session.record?.finish(.finished, config: session.labConfig())
    MPIWorld.finalize()
    return peer == nil ? session.record?.dir : nil
  }

  /// A rank other than 0 records into $TMPDIR/moonlab-rank-PID-XXXXXX, removed when it
  /// ends; those of ranks that were killed (mpirun stops a job's ranks when one dies) are
  /// removed by the next one that finds them.
  static func peerFolder() throws -> URL {
    let prefix = "moonlab-rank-"
    let dir = try Folder.temporary(prefix + String(getpid()))
    let root = dir.deletingLastPathComponent()
    for name in (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
    where name.hasPrefix(prefix) {
      guard let pid = Int32(name.dropFirst(prefix.count).prefix { $0 != "-" }), pid != getpid(),
        kill(pid, 0) != 0, errno == ESRCH
      else { continue }
      try? FileManager.default.removeItem(at: root.appendingPathComponent(name))
    }
    return dir
  }

  /// Points standard output at /dev/null (a rank other than 0 of a data-parallel run).
  static func silenceStandardOutput() throws {
    let null = open("/dev/null", O_WRONLY)
    guard null >= 0, dup2(null, STDOUT_FILENO) >= 0 else {
      throw LabError(
        "moonlab: can't point standard output at /dev/null: \(String(cString: strerror(errno)))")
    }
    close(null)
  }

  /// The message for the user: repeated recursion prefixes condensed, and Lua's "not
  /// enough memory" under a cap named as the cap, not the machine.
  static func explain(_ error: Error, _ request: RunRequest) -> String {
    let message = ErrorText.condense(String(describing: error))
    if request.memoryLimitBytes > 0, message.hasPrefix("not enough memory") {
      return
        "script stopped: it went over its memory limit of \(request.memoryLimitBytes >> 20) MB (--memory-limit)"
    }
    return message
  }
}
