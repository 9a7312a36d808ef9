import CLua
import LuaShim

/// A Swift type as Lua sees it: a metatable named `name` ("moonlab.Tensor"), its methods,
/// metamethods (__add, __tostring, __len, __call, …) and readable/writable fields.
/// Declared once per type, in that type's library file.
public struct LuaClass {
  public let name: String
  public init(_ name: String) { self.name = name }

  /// "Tensor" for "moonlab.Tensor" — the name used in messages.
  public var displayName: String { LuaClass.displayName(name) }
  static func displayName(_ name: String) -> String {
    name.hasPrefix("moonlab.") ? String(name.dropFirst(8)) : name
  }

  public static let tensor = LuaClass("moonlab.Tensor")
}

/// What a class provides. Field getters run when a key is not a method (`t.grad`).
public struct LuaClassSpec {
  public var methods: [String: LuaFunction] = [:]
  public var metamethods: [String: LuaFunction] = [:]
  /// Getter for field `key` of the object at index 1; returns results pushed (1), or 0 if
  /// the class has no such field (Lua then sees nil).
  public var getField: ((Lua, String) throws -> Int32)?
  /// Setter for `obj.key = value` (object at 1, key at 2, value at 3).
  public var setField: ((Lua, String) throws -> Void)?
  /// Getter and setter for keys that are not strings (`t[2]`, `t[{1, {2, 3}}] = 0`),
  /// with the same stack layout; without them such keys read nil and can't be set.
  public var getKey: ((Lua) throws -> Int32)?
  public var setKey: ((Lua) throws -> Void)?
  public init() {}
}

extension LuaHost {
  /// Registers `cls` with `spec`. Methods live in a table stored in the metatable as
  /// __methods; __index looks there first, then asks `getField`.
  public func register(_ cls: LuaClass, _ spec: LuaClassSpec) {
    let L = state
    let lua = Lua(L)
    moonlab_new_metatable(L, cls.name)
    lua.newTable(hash: spec.methods.count)
    for (name, fn) in spec.methods {
      lua.push(function: name, fn)
      lua.setField(-2, name)
    }
    if let getField = spec.getField {
      lua.setField(-2, "__methods")
      lua.push(function: "__index") { lua in
        lua_getmetatable(lua.L, 1)
        lua.rawField(-1, "__methods")
        lua_pushvalue(lua.L, 2)
        if lua_rawget(lua.L, -2) != LUA_TNIL { return 1 }
        lua.pop(3)
        guard lua.type(2) == LUA_TSTRING else { return try spec.getKey?(lua) ?? 0 }
        return try getField(lua, try lua.string(2, "__index"))
      }
    }
    lua.setField(-2, "__index")
    if let setField = spec.setField {
      lua.push(function: "__newindex") { lua in
        if lua.type(2) != LUA_TSTRING, let setKey = spec.setKey {
          try setKey(lua)
        } else {
          try setField(lua, try lua.string(2, "__newindex"))
        }
        return 0
      }
      lua.setField(-2, "__newindex")
    }
    for (name, fn) in spec.metamethods {
      lua.push(function: name, fn)
      lua.setField(-2, name)
    }
    lua.pop()
  }

  /// Sets global `name` to a table of functions, and package.loaded[name] to the same,
  /// so `require(name)` works too. Returns with the table NOT on the stack.
  public func registerLibrary(_ name: String, _ functions: [String: LuaFunction]) {
    let lua = Lua(state)
    libraryTable(name)
    for (fname, fn) in functions {
      lua.push(function: "\(name).\(fname)", fn)
      lua.setField(-2, fname)
    }
    lua.pop()
  }

  /// Pushes global table `name`, creating it (and its package.loaded entry) if needed.
  public func libraryTable(_ name: String) {
    let L = state
    if lua_getglobal(L, name) == LUA_TTABLE { return }
    moonlab_pop(L, 1)
    moonlab_newtable(L)
    lua_pushvalue(L, -1)
    lua_setglobal(L, name)
    if lua_getglobal(L, "package") == LUA_TTABLE {
      if lua_getfield(L, -1, "loaded") == LUA_TTABLE {
        lua_pushvalue(L, -3)
        lua_setfield(L, -2, name)
      }
      moonlab_pop(L, 1)
    }
    moonlab_pop(L, 1)
  }
}
