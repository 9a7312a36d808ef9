import CLua
import MoonlabLua

extension Fit {
  /// Calls the Lua function at stack slot `function` with the arguments `pushArguments`
  /// pushes (returning their count); true when it asks training to stop by returning
  /// false or 'stop'. An error inside it keeps its own file:line.
  func callback(_ function: Int32, _ pushArguments: () -> Int32) throws -> Bool {
    let base = lua.top
    defer { lua.setTop(base) }
    lua.pushValue(function)
    let count = pushArguments()
    try session.host.call(arguments: count, results: 1, on: lua)
    if lua.type(-1) == LUA_TBOOLEAN { return !lua.booleanValue(-1) }
    return lua.type(-1) == LUA_TSTRING && lua.stringValue(-1) == "stop"
  }
}
