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
  private let host: LuaHost
  private let out: FileHandle
  private var id = 0

  /// Set for the SIGINT handler (a C function pointer can't capture).
  private static var interruptible: OpaquePointer?

  init(host: LuaHost, out: FileHandle) {
    self.host = host
    self.out = out
  }

  public static func serve(_ request: RunRequest) throws {
    // The protocol keeps the real stdout; stray writes to fd 1 (C code, Swift print) go
    // to stderr, which the wrapper shows as the cell's stderr stream.
    let protocolFD = dup(1)
    guard protocolFD >= 0, dup2(2, 1) >= 0 else {
      throw LabKernelError("kernel: can't set up stdout")
    }
    let server = KernelServer(
      host: try ScriptRunner.makeHost(request), out: FileHandle(fileDescriptor: protocolFD))
    try PrintCapture.install(server.host)
    CellOutputs.sink = server
    interruptible = server.host.state
    signal(SIGINT) { _ in
      if let L = KernelServer.interruptible { moonlab_request_cancel(L) }
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
  }

  /// Runs one cell. An expression (`x`, `net`) is evaluated and its value returned, as
  /// the Lua REPL does; anything else runs as statements.
  func execute(_ code: String) {
    let L = host.state
    let top = lua_gettop(L)
    defer { lua_settop(L, top) }
    moonlab_clear_cancel(L)  // drop a stale interrupt; installs the count hook
    let chunkname = "@In[\(id)]"
    var status = "ok"
    do {
      do {
        try host.load(Data(("return " + code).utf8), chunkname: chunkname)
      } catch {
        try host.load(Data(code.utf8), chunkname: chunkname)
      }
      try host.call(arguments: 0, results: LUA_MULTRET)
      let n = lua_gettop(L)
      if n > top {
        let lua = Lua(L)
        emit(.result(((top + 1)...n).map { host.describe(lua, $0) }.joined(separator: "\t")))
      }
    } catch {
      emit(.luaError(String(describing: error)))
      status = "error"
    }
    send(["type": "done", "status": status])
  }

  public func emit(_ output: CellOutput) {
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

struct LabKernelError: Error, CustomStringConvertible {
  let description: String
  init(_ description: String) { self.description = description }
}
