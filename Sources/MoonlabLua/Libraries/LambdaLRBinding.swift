import CLua
import MoonlabNN
import MoonlabTensor

/// `optim.LambdaLR(opt, fn)`: PyTorch's LambdaLR with a Lua function of the epoch
/// (docs/optim.md, "LambdaLR"). Swift calls `fn` with a protected call, so an error
/// raised inside it reaches the script with fn's file:line and a traceback, prefixed with
/// the line that made or stepped the schedule.
enum LambdaLRBinding {
  static func make(_ host: LuaHost) -> LuaFunction {
    // Unowned: the closure belongs to the host's Lua state and runs only while it lives.
    { [unowned host] lua in
      let fn = "LambdaLR"
      let opt = try lua.object(1, .optimizer, as: Optimizer.self, fn)
      try TensorLibrary.checkFunction(lua, 2, fn)
      guard lua.isNoneOrNil(3) else {
        throw LuaError("LambdaLR: takes (optimizer, function); got a third argument")
      }
      lua_pushvalue(lua.L, 2)
      let function = LuaRef(host: host, popping: lua.L)
      let schedule = try host.withCallbackThread(lua.L) {
        try LambdaLR(opt) { [weak host] epoch in
          guard let host else { throw LuaError("LambdaLR: its Lua state is closed") }
          return try factor(function, epoch, host)
        }
      }
      lua.push(schedule, as: .scheduler)
      return 1
    }
  }

  /// fn(epoch), which must return a number (its range is checked by LambdaLR).
  static func factor(_ function: LuaRef, _ epoch: Int, _ host: LuaHost) throws -> Double {
    let L = host.callbackState
    let lua = Lua(L)
    try TensorLibrary.reserveStack(lua, 3, "LambdaLR")
    function.push(L)
    lua.push(epoch)
    do {
      try TensorLibrary.protectedCall(lua, arguments: 1, results: 1)
    } catch let e as LuaError {
      throw LuaError("LambdaLR: the lr function failed at epoch \(epoch): \(e.message)")
    }
    defer { lua.pop() }
    guard lua.type(-1) == LUA_TNUMBER else {
      throw LuaError(
        "LambdaLR: the lr function returned a \(lua.typeName(-1)) for epoch \(epoch), expected a number"
      )
    }
    return lua_tonumberx(L, -1, nil)
  }
}
