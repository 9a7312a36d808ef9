import CLua
import Foundation
import MoonlabLua

/// `moonlab notebook`: runs a cell script in one Lua state and records what each cell
/// printed and displayed, its wall time, and where it failed.
///
/// The script runs as ONE chunk, exactly the code `moonlab run` runs, so a `local` of one
/// cell is seen by the next ones. To know where cells begin, the first line of each cell
/// is prefixed with a call `__moonlab_cell(k);` — on the same line, so error messages and
/// tracebacks keep the script's own line numbers.
public final class NotebookRunner: CellOutputSink {
  public struct Result {
    public var script: CellScript
    public var runs: [Int: Ipynb.CellRun]
    /// The Lua error (message and traceback) when a cell failed.
    public var error: String?
    /// The run directory (config.json, report.html, … and the notebooks).
    public var dir: URL
  }

  private var runs: [Int: Ipynb.CellRun] = [:]
  private var current: Int?
  private var started = Date()
  private var executed = 0
  private var feed: ReportFeed?
  /// The running cell's outputs; printed text collects in `streamText` until something
  /// else comes (appending to one String keeps a chatty loop linear).
  private var outputs: [CellOutput] = []
  private var streamName: String?
  private var streamText = ""
  /// Echo printed text to the terminal as well (off in tests).
  private let echo: Bool

  public init(echo: Bool = true) { self.echo = echo }

  static let boundary = "__moonlab_cell"

  /// Runs the script in a run directory, as `moonlab run` does; `prepare` may add to the
  /// host (and use the session's output) before the script starts.
  public func run(
    _ request: RunRequest, prepare: (LuaHost, CellOutputs) throws -> Void = { _, _ in }
  ) throws -> Result {
    guard let data = FileManager.default.contents(atPath: request.scriptPath) else {
      throw ScriptNotFound(path: request.scriptPath)
    }
    let script = CellScript(parsing: String(decoding: data, as: UTF8.self))
    let session = try LabSession(request: request, script: data)
    let dir =
      request.outDir.map { URL(fileURLWithPath: $0) }
      ?? RunRecord.defaultDir(name: request.scriptName)
    let record = try RunRecord(
      dir: dir, provenance: session.provenance(name: request.scriptName), script: data)
    session.record = record
    feed = ReportFeed(record: record)
    let host = session.host
    try PrintCapture.install(session)
    try prepare(host, session.output)
    let lua = Lua(host.state)
    lua.push(function: NotebookRunner.boundary) { [unowned self] lua in
      self.enter(try lua.integer(1, NotebookRunner.boundary), script)
      return 0
    }
    lua.setGlobal(NotebookRunner.boundary)
    pushArguments(lua, request)

    session.output.sink = self
    var failure: String?
    do {
      try host.load(Data(instrumented(script).utf8), chunkname: "@" + request.scriptPath)
      for a in request.arguments { lua.push(a) }
      try host.call(arguments: Int32(request.arguments.count), results: 0)
      finishCell(.ok)
    } catch {
      let message = ScriptRunner.explain(error, request)
      failure = message
      if current == nil {  // a syntax error: no cell started; blame the cell of its line
        current = cellIndex(atLine: errorLine(message, request.scriptPath), script)
        started = Date()
      }
      emit(.luaError(message))
      finishCell(.failed)
    }
    lua.pushNil()
    lua.setGlobal(NotebookRunner.boundary)
    for (i, cell) in script.cells.enumerated() where cell.kind == .code && runs[i] == nil {
      runs[i] = Ipynb.CellRun(state: .notRun)
    }
    try record.finish(failure.map { .failed($0) } ?? .finished, config: session.labConfig())
    return Result(script: script, runs: runs, error: failure, dir: dir)
  }

  /// `arg` as `moonlab run` sets it: the script path at 0, its arguments from 1.
  private func pushArguments(_ lua: Lua, _ request: RunRequest) {
    lua.newTable(array: request.arguments.count, hash: 2)
    lua.push("moonlab")
    lua.setIndex(-2, -1)
    lua.push(request.scriptPath)
    lua.setIndex(-2, 0)
    for (i, a) in request.arguments.enumerated() {
      lua.push(a)
      lua.setIndex(-2, i + 1)
    }
    lua.setGlobal("arg")
  }

  /// The script with `__moonlab_cell(k);` in front of each cell's first line.
  func instrumented(_ script: CellScript) -> String {
    script.cells.enumerated().map { k, cell in
      let call = "\(NotebookRunner.boundary)(\(k)); "
      return cell.marker != nil || !cell.content.isEmpty ? call + cell.text : cell.text
    }.joined()
  }

  private func enter(_ k: Int, _ script: CellScript) {
    finishCell(.ok)
    guard k >= 0, k < script.cells.count, script.cells[k].kind == .code else { return }
    current = k
    executed += 1
    runs[k] = Ipynb.CellRun(state: .ok, executionCount: executed)
    started = Date()
  }

  private func finishCell(_ state: Ipynb.CellRun.State) {
    guard let k = current else { return }
    showReport(cellEnd: true)
    var run = runs[k] ?? Ipynb.CellRun(state: state)
    if run.executionCount == nil {
      executed += 1
      run.executionCount = executed
    }
    flushStream()
    run.outputs = outputs
    run.state = state
    run.seconds = Date().timeIntervalSince(started)
    runs[k] = run
    current = nil
    outputs = []
  }

  /// Report items added since the last look, into the running cell.
  private func showReport(cellEnd: Bool) {
    for bundle in feed?.newDisplays(cellEnd: cellEnd) ?? [] { append(.display(bundle)) }
  }

  public func emit(_ output: CellOutput) {
    showReport(cellEnd: false)
    append(output)
  }

  private func append(_ output: CellOutput) {
    if case .stream(let name, let text) = output {
      if echo {
        var bytes = Array(text.utf8)
        fwrite(&bytes, 1, bytes.count, name == "stderr" ? stderr : stdout)
      }
      guard current != nil else { return }
      // Consecutive text on one stream is one output, as Jupyter shows it.
      if name != streamName { flushStream() }
      streamName = name
      streamText += text
      return
    }
    guard current != nil else { return }
    flushStream()
    outputs.append(output)
  }

  private func flushStream() {
    if let name = streamName, !streamText.isEmpty {
      outputs.append(.stream(name: name, text: streamText))
    }
    streamName = nil
    streamText = ""
  }

  /// The line in "path:LINE: message", or nil. Lua shortens long chunk names from the
  /// left ("...t/nb.lua:4:"), so look for the file name.
  private func errorLine(_ message: String, _ path: String) -> Int? {
    guard let r = message.range(of: URL(fileURLWithPath: path).lastPathComponent + ":") else {
      return nil
    }
    return Int(message[r.upperBound...].prefix { $0.isNumber })
  }

  /// The code cell holding `line` (its marker line included), or the first code cell.
  private func cellIndex(atLine line: Int?, _ script: CellScript) -> Int? {
    let code = script.cells.indices.filter { script.cells[$0].kind == .code }
    guard let line else { return code.first }
    return code.last {
      script.cells[$0].firstLine - (script.cells[$0].marker == nil ? 0 : 1) <= line
    } ?? code.first
  }
}
