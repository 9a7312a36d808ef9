import CLua
import LuaShim

/// Stack and table access for the layers above MoonlabLua, so they never call the Lua C
/// API themselves (docs/architecture.md, "The Lua bridge"). None of these can raise.
extension Lua {
  public func pushValue(_ i: Int32) { lua_pushvalue(L, i) }
  public func setTop(_ i: Int32) { lua_settop(L, i) }
  /// Pops the value on top into slot `i`.
  public func replace(_ i: Int32) {
    lua_copy(L, -1, i)
    pop()
  }
  public func absIndex(_ i: Int32) -> Int32 { lua_absindex(L, i) }

  /// The number at `i` as a Double, and whether Lua holds it as an integer.
  public func numberValue(_ i: Int32) -> (value: Double, isInteger: Bool) {
    var isInt: Int32 = 0
    let n = lua_tointegerx(L, i, &isInt)
    return isInt != 0 ? (Double(n), true) : (lua_tonumberx(L, i, nil), false)
  }

  public func booleanValue(_ i: Int32) -> Bool { lua_toboolean(L, i) != 0 }

  /// The string at `i` (no number conversion), or nil.
  public func stringValue(_ i: Int32) -> String? {
    lua_type(L, i) == LUA_TSTRING ? moonlab_tostring(L, i).map { String(cString: $0) } : nil
  }

  /// Calls `body` for each entry of the table at `index` with the key's string (nil for
  /// another type; the key is at -2) while the value is at -1. The table must not change.
  public func forEachEntry(_ index: Int32, _ body: (String?) throws -> Void) throws {
    let t = lua_absindex(L, index)
    lua_pushnil(L)
    while lua_next(L, t) != 0 {
      defer { pop() }
      try body(stringValue(-2))
    }
  }

  /// Pops the value on top into global `name`.
  public func setGlobal(_ name: String) { lua_setglobal(L, name) }

  /// Pushes global `name`; returns its type.
  @discardableResult
  public func getGlobal(_ name: String) -> Int32 { lua_getglobal(L, name) }

  /// Pops the value on top into the first upvalue of the function below it (a main
  /// chunk's only upvalue is _ENV: the notebook kernel runs cells in its own environment).
  public func setFirstUpvalue() { _ = lua_setupvalue(L, -2, 1) }

  /// Asks the script running on this state to stop at its next hook (from another thread
  /// or a signal handler), and drops such a request.
  public func requestCancel() { moonlab_request_cancel(L) }
  public func clearCancel() { moonlab_clear_cancel(L) }
}
