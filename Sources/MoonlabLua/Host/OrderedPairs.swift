import CLua
import LuaShim

extension Lua {
  /// Gives the table at `index` a `__pairs` metamethod that visits `keys` in this order,
  /// as PyTorch's ordered dicts do (`m:named_parameters()` in registration order). Lua's
  /// own order for string keys depends on a hash seed that changes from run to run, so a
  /// script drawing random numbers per parameter in `pairs` order would not be
  /// reproducible. Keys added to the table later are not visited by `pairs`.
  public func setOrderedPairs(_ index: Int32, keys: [String]) {
    let table = lua_absindex(L, index)
    let position = Dictionary(keys.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
    newTable(hash: 1)
    push(function: "__pairs") { lua in
      // next(t, key): the key after `key` in `keys` and its value; nothing at the end.
      lua.push(function: "next") { lua in
        let next =
          lua.isNoneOrNil(2)
          ? 0 : (try? lua.string(2, "next")).flatMap { position[$0] }.map { $0 + 1 } ?? keys.count
        guard next < keys.count else { return 0 }
        lua.push(keys[next])
        lua.rawField(1, keys[next])
        return 2
      }
      lua_pushvalue(lua.L, 1)
      lua.pushNil()
      return 3
    }
    setField(-2, "__pairs")
    lua_setmetatable(L, table)
  }
}
