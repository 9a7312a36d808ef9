import CLua
import LuaShim
import MoonlabTensor

/// A custom autograd op written in Lua: `nn.Function{name=, forward=function(ctx, …),
/// backward=function(ctx, grad_out)}` returns a function. Calling it runs forward with
/// the tape off and records ONE node whose inputs are the Tensor arguments; on backward
/// the node calls the Lua backward with the same ctx, which returns one gradient per
/// Tensor argument (nil for none). `ctx:save(…)` keeps values for backward in `ctx.saved`.
enum LuaFunctionOp {
  static func make(_ host: LuaHost) -> LuaFunction {
    return { [unowned host] lua in
      let fn = "Function"
      try lua.checkTable(1, fn)
      guard let name = try lua.stringOption(1, "name", fn) else {
        throw LuaError("Function: option 'name' (a string) is required")
      }
      for key in ["forward", "backward"] {
        let t = lua.rawField(1, key)
        lua.pop()
        guard t == LUA_TFUNCTION else {
          throw LuaError("Function: option '\(key)' must be a function")
        }
      }
      lua_pushvalue(lua.L, 1)
      let definition = LuaRef(host: host, popping: lua.L)
      lua.push(function: name) { [unowned host] lua in try call(name, definition, host, lua) }
      return 1
    }
  }

  /// One application: forward(ctx, args…) → Tensor, recorded with a Lua backward.
  static func call(_ name: String, _ definition: LuaRef, _ host: LuaHost, _ lua: Lua) throws
    -> Int32
  {
    let L = lua.L
    let args = lua.top
    var inputs: [Tensor] = []
    for i in stride(from: 1, through: args, by: 1) {
      if let t = lua.anyObject(i) as? Tensor { inputs.append(t) }
    }
    try TensorLibrary.reserveStack(lua, Int(args) + 4, name)
    newContext(L)
    lua_pushvalue(L, -1)
    let ctx = LuaRef(host: host, popping: L)
    // Stack: args…, ctx → forward, ctx, args…
    definition.push(L)
    lua.rawField(-1, "forward")
    lua_rotate(L, -2, 1)
    lua.pop()
    lua_rotate(L, -2, 1)
    for i in stride(from: 1, through: args, by: 1) { lua_pushvalue(L, i) }
    try Autograd.noGrad {
      try host.withCallbackThread(L) {
        try TensorLibrary.protectedCall(lua, arguments: args + 1, results: 1)
      }
    }
    guard let result = lua.anyObject(-1) as? Tensor else {
      let got = lua.typeName(-1)
      lua.pop()
      throw LuaError("\(name): forward must return a Tensor, got \(got)")
    }
    lua.pop()
    // A fresh tensor object (same storage), so the node never lands on an input or on a
    // tensor forward kept elsewhere.
    let output = Autograd.record(name, output: result.detach(), inputs: inputs) {
      [unowned host] g in
      try backward(name, definition, ctx, host, g, inputs.map(\.shape))
    }
    lua.push(output)
    return 1
  }

  static func backward(
    _ name: String, _ definition: LuaRef, _ ctx: LuaRef, _ host: LuaHost, _ g: Tensor,
    _ shapes: [[Int]]
  ) throws -> [Tensor?] {
    let L = host.callbackState
    let lua = Lua(L)
    let base = lua.top
    try TensorLibrary.reserveStack(lua, shapes.count + 4, name)
    definition.push(L)
    lua.rawField(-1, "backward")
    lua_rotate(L, -2, 1)
    lua.pop()
    ctx.push(L)
    lua.push(g)
    try TensorLibrary.protectedCall(lua, arguments: 2, results: Int32(shapes.count))
    defer { lua_settop(L, base) }
    return try shapes.enumerated().map { k, shape in
      let i = base + 1 + Int32(k)
      if lua.isNoneOrNil(i) { return nil }
      guard let t = lua.anyObject(i) as? Tensor else {
        throw LuaError(
          "\(name): backward result \(k + 1) must be a Tensor or nil, got \(lua.typeName(i))")
      }
      guard t.shape == shape else {
        throw LuaError(
          "\(name): backward returned a gradient of shape \(describeShape(t.shape)) for input \(k + 1) of shape \(describeShape(shape))"
        )
      }
      return t
    }
  }

  /// Pushes a new ctx: a table whose `save(…)` method stores its arguments in ctx.saved.
  /// Its metatable is made once per Lua state and kept in the registry.
  static func newContext(_ L: OpaquePointer) {
    let lua = Lua(L)
    lua.newTable()
    if lua_getfield(L, moonlab_registry_index(), contextMetatable) != LUA_TTABLE {
      lua.pop()
      lua.newTable()  // metatable
      lua.newTable()  // methods
      lua.push(function: "save") { lua in
        let n = lua.top
        try TensorLibrary.reserveStack(lua, 3, "save")
        lua.newTable(array: Int(max(0, n - 1)))
        for i in stride(from: 2, through: n, by: 1) {
          lua_pushvalue(lua.L, i)
          lua.setIndex(-2, Int(i - 1))
        }
        lua.setField(1, "saved")
        return 0
      }
      lua.setField(-2, "save")
      lua.setField(-2, "__index")
      lua_pushvalue(L, -1)
      lua_setfield(L, moonlab_registry_index(), contextMetatable)
    }
    lua_setmetatable(L, -2)
  }

  static let contextMetatable = "moonlab.FunctionContext"
}
