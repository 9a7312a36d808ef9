import CLua
import Foundation
import LuaShim

/// `moonlab repl`: reads Lua line by line like the stock `lua` REPL — an expression's
/// values are printed, an incomplete chunk waits for more lines, errors don't end it.
public enum Repl {
  public static func run(
    host: LuaHost, readLine: () -> String? = { Swift.readLine(strippingNewline: true) },
    prompt: Bool = isatty(0) != 0
  ) {
    var pending = ""
    while true {
      if prompt {
        print(pending.isEmpty ? "> " : ">> ", terminator: "")
        fflush(stdout)
      }
      guard let line = readLine() else { break }
      pending += pending.isEmpty ? line : "\n" + line
      switch evaluate(host: host, pending) {
      case .incomplete:
        continue
      case .values(let values):
        if !values.isEmpty { print(values.joined(separator: "\t")) }
      case .error(let message):
        FileHandle.standardError.write(Data((message + "\n").utf8))
      }
      pending = ""
    }
  }

  enum Outcome: Equatable {
    case values([String])
    case incomplete
    case error(String)
  }

  /// Tries the chunk as an expression first (`return …`), then as statements.
  static func evaluate(host: LuaHost, _ chunk: String) -> Outcome {
    let source = chunk.hasPrefix("=") ? "return " + chunk.dropFirst() : chunk
    let top = lua_gettop(host.state)
    defer { lua_settop(host.state, top) }
    do {
      try host.load(Data(("return " + source).utf8), chunkname: "=stdin")
    } catch {
      do {
        try host.load(Data(source.utf8), chunkname: "=stdin")
      } catch let e as LuaError {
        return e.message.hasSuffix("<eof>") ? .incomplete : .error(e.message)
      } catch {
        return .error(String(describing: error))
      }
    }
    do {
      try host.call(arguments: 0, results: LUA_MULTRET)
    } catch {
      return .error(String(describing: error))
    }
    let lua = Lua(host.state)
    let n = lua_gettop(host.state)
    return .values(n > top ? ((top + 1)...n).map { host.describe(lua, $0) } : [])
  }
}
