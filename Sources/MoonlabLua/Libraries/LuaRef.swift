import CLua
import LuaShim

/// A Lua value kept alive for Swift in the registry (a Lua-defined module's definition
/// and instance table, an nn.Function call's ctx). Released when the Swift owner goes
/// away — unless the state is already closing: the host is held weakly, and is nil
/// during its own deinit, when lua_close frees everything anyway.
final class LuaRef {
  private weak var host: LuaHost?
  private let ref: Int32

  /// Pops the value on top of `L`'s stack into the registry.
  init(host: LuaHost, popping L: OpaquePointer) {
    self.host = host
    ref = luaL_ref(L, moonlab_registry_index())
  }

  /// Pushes the value onto the stack of `L` (the state or one of its threads).
  func push(_ L: OpaquePointer) { lua_rawgeti(L, moonlab_registry_index(), lua_Integer(ref)) }

  deinit {
    if let host { luaL_unref(host.state, moonlab_registry_index(), ref) }
  }
}

/// The Lua thread Swift calls back into when a Lua-defined module or Function runs from
/// Swift code (a Sequential's forward, backward on the tape). Set by the nn entry points
/// to the thread that called them, so a model used inside a coroutine calls back on that
/// coroutine; otherwise the host's main thread.
enum LuaCallbackThread {
  private(set) static var current: OpaquePointer?

  static func with<T>(_ L: OpaquePointer, _ body: () throws -> T) rethrows -> T {
    let saved = current
    current = L
    defer { current = saved }
    return try body()
  }

  static func state(_ host: LuaHost) -> OpaquePointer { current ?? host.state }
}
