import CLua
import Foundation
import LuaShim
import MoonlabLua

/// `moonlab kernel serve`: the Lua side of the Jupyter kernel. One Lua state lives as long
/// as the process; requests come on stdin and answers go to stdout, one JSON object a line:
///
///     → {"id": 3, "code": "print(1 + 1)"}
///     ← {"id": 3, "type": "stream", "name": "stdout", "text": "2\n"}
///     ← {"id": 3, "type": "display", "data": {"image/svg+xml": "<svg…"}}
///     ← {"id": 3, "type": "result", "text": "42"}           (an expression's value)
///     ← {"id": 3, "type": "error", "message": "…", "traceback": ["…"]}
///     ← {"id": 3, "type": "done", "status": "ok" | "error"}
///
/// SIGINT cancels the running request through the Lua count hook (the request ends with
/// an "interrupted" error) and the state stays usable. The Python wrapper
/// (`KernelSpec.wrapperSource`) speaks the Jupyter protocol on top of this.
public final class KernelServer: CellOutputSink {
  private let session: LabSession
  private let feed: ReportFeed
  private let out: FileHandle
  private var id = 0
  private var host: LuaHost { session.host }

  /// Set for the SIGINT handler (a C function pointer can't capture).
  private static var interruptible: OpaquePointer?

  /// The kernel's Lua state records into a run directory like any run (`report.*`,
  /// `lab.log`, checkpoints), by default runs/kernel-YYYYmmdd-HHMMSS next to the notebook.
  init(_ request: RunRequest, out: FileHandle) throws {
    session = try LabSession(request: request, script: Data())
    let dir =
      request.outDir.map { URL(fileURLWithPath: $0) } ?? RunRecord.defaultDir(name: "kernel")
    let record = try RunRecord(
      dir: dir, provenance: session.provenance(name: "kernel"), script: Data())
    session.record = record
    feed = ReportFeed(record: record)
    self.out = out
    try PrintCapture.install(session)
    try session.host.run(KernelServer.keepLocals, chunkname: "=kernel")
  }

  public static func serve(_ request: RunRequest) throws {
    // The protocol keeps the real stdout; stray writes to fd 1 (C code, Swift print) go
    // to stderr, which the wrapper shows as the cell's stderr stream.
    let protocolFD = dup(1)
    guard protocolFD >= 0, dup2(2, 1) >= 0 else { throw LabError("kernel: can't set up stdout") }
    let server = try KernelServer(request, out: FileHandle(fileDescriptor: protocolFD))
    server.session.output.sink = server
    interruptible = server.host.state
    signal(SIGINT) { _ in
      if let L = KernelServer.interruptible { Lua(L).requestCancel() }
    }
    server.send(["type": "ready"])
    while let line = readLine(strippingNewline: true) {
      guard let data = line.data(using: .utf8),
        let message = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
        let code = message["code"] as? String
      else {
        server.send(["type": "error", "message": "kernel: bad request line", "traceback": [line]])
        continue
      }
      server.id = message["id"] as? Int ?? server.id + 1
      server.execute(code)
    }
    // stdin closed: the kernel shuts down; the run ends like a finished script.
    try server.feed.record.finish(.finished, config: server.session.labConfig())
  }

  /// Runs one cell. An expression (`x`, `net`) is evaluated and its value returned, as
  /// the Lua REPL does; anything else runs as statements.
  func execute(_ code: String) {
    let lua = Lua(host.state)
    let top = lua.top
    defer { lua.setTop(top) }
    lua.clearCancel()  // drop a stale interrupt; installs the count hook
    let chunkname = "@In[\(id)]"
    var status = "ok"
    do {
      do {
        try host.load(Data(("return " + code).utf8), chunkname: chunkname)
      } catch {
        do {
          try host.load(Data((code + "\n__moonlab_keep_locals()").utf8), chunkname: chunkname)
        } catch {
          try host.load(Data(code.utf8), chunkname: chunkname)  // ends with `return`, or bad
        }
      }
      lua.getGlobal("__moonlab_cell_env")
      lua.setFirstUpvalue()
      try host.call(arguments: 0, results: LUA_MULTRET)
      let n = lua.top
      if n > top {
        emit(.result(((top + 1)...n).map { host.describe(lua, $0) }.joined(separator: "\t")))
      }
    } catch {
      emit(.luaError(String(describing: error)))
      status = "error"
    }
    showReport(cellEnd: true)
    send(["type": "done", "status": status])
  }

  /// Report items added since the last look, as display data.
  private func showReport(cellEnd: Bool) {
    for bundle in feed.newDisplays(cellEnd: cellEnd) { send(["type": "display", "data": bundle]) }
  }

  /// Jupyter sends cells one at a time, so each is its own chunk and its top-level
  /// `local`s would die with it. Each cell therefore ends with a call that copies the
  /// chunk's locals (debug.getlocal) into the table every later cell uses as _ENV, whose
  /// misses fall through to the globals: `local x` in one cell is `x` in the next, as in
  /// `moonlab notebook`, which runs the whole script as one chunk. (A copy: a function
  /// that captured the local keeps its own.)
  static let keepLocals = """
    local getlocal, rawset, sub = debug.getlocal, rawset, string.sub
    local env = setmetatable({}, { __index = _G, __newindex = _G })
    __moonlab_cell_env = env
    __moonlab_keep_locals = function()
      local i = 1
      while true do
        local name, value = getlocal(2, i)
        if not name then return end
        if sub(name, 1, 1) ~= '(' then rawset(env, name, value) end
        i = i + 1
      end
    end
    """

  public func emit(_ output: CellOutput) {
    showReport(cellEnd: false)
    switch output {
    case .stream(let name, let text): send(["type": "stream", "name": name, "text": text])
    case .display(let bundle): send(["type": "display", "data": bundle])
    case .result(let text): send(["type": "result", "text": text])
    case .error(let message, let traceback):
      send(["type": "error", "message": message, "traceback": traceback])
    }
  }

  private func send(_ message: [String: Any]) {
    var message = message
    message["id"] = id
    guard var data = try? JSONSerialization.data(withJSONObject: message, options: [.sortedKeys])
    else { return }
    data.append(UInt8(ascii: "\n"))
    out.write(data)
  }
}
