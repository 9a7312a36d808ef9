import CLua
import LuaShim
import MoonlabNN
import MoonlabTensor

/// A module written in Lua with `nn.define{name=, init=function(self, …),
/// forward=function(self, x)}`. The Swift side is an ordinary Module (so it sits in a
/// Sequential, counts parameters, saves and loads); its parameters, buffers and children
/// are registered from Lua with `self:param/buffer/module`, and other fields set on `self`
/// live in a Lua table of its own. Forward is a protected call into Lua: an error there
/// comes back as a Swift error carrying the Lua file:line and traceback.
final class LuaModule: Module {
  let definition: LuaRef
  let fields: LuaRef
  let name: String
  private weak var host: LuaHost?

  init(name: String, definition: LuaRef, host: LuaHost, L: OpaquePointer) {
    self.name = name
    self.definition = definition
    self.host = host
    lua_createtable(L, 0, 0)
    fields = LuaRef(host: host, popping: L)
  }

  override var typeName: String { name }

  override func forward(_ x: Tensor) throws -> Tensor {
    guard let host else { throw LuaError("\(name): its Lua state is closed") }
    let L = host.callbackState
    let lua = Lua(L)
    try TensorLibrary.reserveStack(lua, 4, name)
    definition.push(L)
    lua.rawField(-1, "forward")
    lua_rotate(L, -2, 1)
    lua.pop()
    lua.push(self, as: .module)
    lua.push(x)
    try TensorLibrary.protectedCall(lua, arguments: 2, results: 1)
    defer { lua.pop() }
    guard let y = lua.anyObject(-1) as? Tensor else {
      throw LuaError("\(name): forward must return a Tensor, got \(lua.typeName(-1))")
    }
    return y
  }

  /// `nn.define{…}`: checks the definition and returns its constructor, which makes the
  /// module, runs `init(self, …)` with the constructor's arguments and returns it.
  static func define(_ host: LuaHost) -> LuaFunction {
    // Unowned: these closures belong to the host's Lua state and only run while it lives.
    return { [unowned host] lua in
      let fn = "define"
      try lua.checkTable(1, fn)
      guard let name = try lua.stringOption(1, "name", fn) else {
        throw LuaError("define: option 'name' (a string) is required")
      }
      for (key, required) in [("forward", true), ("init", false)] {
        let t = lua.rawField(1, key)
        lua.pop()
        guard t == LUA_TFUNCTION || (!required && t == LUA_TNIL) else {
          throw LuaError("define: option '\(key)' must be a function\(required ? "" : " or nil")")
        }
      }
      lua_pushvalue(lua.L, 1)
      let definition = LuaRef(host: host, popping: lua.L)
      lua.push(function: "nn.\(name)") { [unowned host] lua in
        let m = LuaModule(name: name, definition: definition, host: host, L: lua.L)
        let args = lua.top
        try TensorLibrary.reserveStack(lua, Int(args) + 3, name)
        definition.push(lua.L)
        if lua.rawField(-1, "init") == LUA_TFUNCTION {
          lua_rotate(lua.L, -2, 1)
          lua.pop()
          lua.push(m, as: .module)
          for i in stride(from: 1, through: args, by: 1) { lua_pushvalue(lua.L, i) }
          try host.withCallbackThread(lua.L) {
            try TensorLibrary.protectedCall(lua, arguments: args + 1, results: 0)
          }
        } else {
          lua.pop(2)
        }
        lua.push(m, as: .module)
        return 1
      }
      return 1
    }
  }
}
