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
