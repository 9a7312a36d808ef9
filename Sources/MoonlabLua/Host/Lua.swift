import CLua
import LuaShim
import MoonlabTensor

/// A Swift-bound function: reads its arguments from `lua`, pushes results, returns how
/// many. It throws instead of raising; the C trampoline raises after it returns.
public typealias LuaFunction = (Lua) throws -> Int32

/// The Lua stack as a Swift-bound function sees it. Every read here is non-raising
/// (lua_type, lua_tonumberx, lua_touserdata + metatable checks): Swift never calls a
/// function that may longjmp (docs/architecture.md, "The Lua bridge").
public struct Lua {
  public let L: OpaquePointer
  public init(_ L: OpaquePointer) { self.L = L }

  public var top: Int32 { lua_gettop(L) }
  public func type(_ i: Int32) -> Int32 { lua_type(L, i) }
  public func isNoneOrNil(_ i: Int32) -> Bool { lua_type(L, i) <= LUA_TNIL }

  /// Lua's name for the type at `i`, using a userdata's __name ("Tensor").
  public func typeName(_ i: Int32) -> String {
    if lua_type(L, i) == LUA_TUSERDATA {
      var name: UnsafePointer<CChar>?
      if moonlab_to_any_object(L, i, &name) != nil, let name {
        return LuaClass.displayName(String(cString: name))
      }
    }
    return String(cString: lua_typename(L, lua_type(L, i)))
  }

  // MARK: Reading arguments

  public func number(_ i: Int32, _ fn: String) throws -> Double {
    var isNum: Int32 = 0
    let v = lua_tonumberx(L, i, &isNum)
    guard isNum != 0, lua_type(L, i) == LUA_TNUMBER else {
      throw badArgument(i, fn, "number expected, got \(typeName(i))")
    }
    return v
  }

  public func optNumber(_ i: Int32, _ fn: String, _ fallback: Double) throws -> Double {
    isNoneOrNil(i) ? fallback : try number(i, fn)
  }

  public func integer(_ i: Int32, _ fn: String) throws -> Int {
    let v = try number(i, fn)
    guard let n = Int(exactly: v) else {
      throw badArgument(i, fn, "number has no integer representation")
    }
    return n
  }

  public func optInteger(_ i: Int32, _ fn: String, _ fallback: Int) throws -> Int {
    isNoneOrNil(i) ? fallback : try integer(i, fn)
  }

  public func string(_ i: Int32, _ fn: String) throws -> String {
    guard lua_type(L, i) == LUA_TSTRING, let s = lua_tolstring(L, i, nil) else {
      throw badArgument(i, fn, "string expected, got \(typeName(i))")
    }
    return String(cString: s)
  }

  public func optString(_ i: Int32, _ fn: String, _ fallback: String) throws -> String {
    isNoneOrNil(i) ? fallback : try string(i, fn)
  }

  public func boolean(_ i: Int32, _ fn: String) throws -> Bool {
    guard lua_type(L, i) == LUA_TBOOLEAN else {
      throw badArgument(i, fn, "boolean expected, got \(typeName(i))")
    }
    return lua_toboolean(L, i) != 0
  }

  public func optBoolean(_ i: Int32, _ fn: String, _ fallback: Bool) throws -> Bool {
    isNoneOrNil(i) ? fallback : try boolean(i, fn)
  }

  /// The Swift object in a userdata of class `cls`.
  public func object<T: AnyObject>(_ i: Int32, _ cls: LuaClass, as: T.Type, _ fn: String) throws
    -> T
  {
    guard let p = moonlab_to_object(L, i, cls.name),
      let obj = Unmanaged<AnyObject>.fromOpaque(p).takeUnretainedValue() as? T
    else {
      throw badArgument(i, fn, "\(cls.displayName) expected, got \(typeName(i))")
    }
    return obj
  }

  /// The Swift object in any Moonlab userdata, or nil.
  public func anyObject(_ i: Int32) -> AnyObject? {
    guard let p = moonlab_to_any_object(L, i, nil) else { return nil }
    return Unmanaged<AnyObject>.fromOpaque(p).takeUnretainedValue()
  }

  public func tensor(_ i: Int32, _ fn: String) throws -> Tensor {
    try object(i, .tensor, as: Tensor.self, fn)
  }

  public func checkTable(_ i: Int32, _ fn: String) throws {
    guard lua_type(L, i) == LUA_TTABLE else {
      throw badArgument(i, fn, "table expected, got \(typeName(i))")
    }
  }

  public func optTable(_ i: Int32, _ fn: String) throws -> Bool {
    if isNoneOrNil(i) { return false }
    try checkTable(i, fn)
    return true
  }

  /// Length of a sequence table (raw, no metamethods).
  public func rawLength(_ i: Int32) -> Int { Int(lua_rawlen(L, i)) }

  /// Pushes t[key] (raw) and returns its type; pop it when done.
  @discardableResult
  public func rawField(_ table: Int32, _ key: String) -> Int32 {
    let t = lua_absindex(L, table)
    lua_pushstring(L, key)
    return lua_rawget(L, t)
  }

  @discardableResult
  public func rawIndex(_ table: Int32, _ n: Int) -> Int32 { lua_rawgeti(L, table, lua_Integer(n)) }

  public func pop(_ n: Int32 = 1) { moonlab_pop(L, n) }

  /// Reads option `key` of the options table at `table` with `read` (given the value's
  /// index), or returns nil when absent. Errors name the option: "Conv2d: option 'stride'
  /// (number expected, got string)".
  public func option<T>(_ table: Int32, _ key: String, _ fn: String, _ read: (Int32) throws -> T)
    throws -> T?
  {
    guard lua_type(L, table) == LUA_TTABLE else { return nil }
    rawField(table, key)
    defer { pop() }
    if isNoneOrNil(-1) { return nil }
    do {
      return try read(top)
    } catch let e as LuaError {
      // Re-word "bad argument #k to 'f' (reason)" as an option error.
      let reason =
        e.message.range(of: "(").map { String(e.message[$0.upperBound...].dropLast()) } ?? e.message
      throw LuaError("\(fn): option '\(key)' (\(reason))")
    }
  }

  public func numberOption(_ table: Int32, _ key: String, _ fn: String) throws -> Double? {
    try option(table, key, fn) { try number($0, fn) }
  }
  public func integerOption(_ table: Int32, _ key: String, _ fn: String) throws -> Int? {
    try option(table, key, fn) { try integer($0, fn) }
  }
  public func stringOption(_ table: Int32, _ key: String, _ fn: String) throws -> String? {
    try option(table, key, fn) { try string($0, fn) }
  }
  public func booleanOption(_ table: Int32, _ key: String, _ fn: String) throws -> Bool? {
    try option(table, key, fn) { try boolean($0, fn) }
  }
  /// Rejects keys of the options table at `index` that aren't in `allowed`: a typo such as
  /// `{paddng = 1}` or `{moment = 0.9}` would otherwise be silently ignored (PyTorch
  /// raises on an unexpected keyword too). Without `required`, nil or no argument is fine.
  public func checkOptions(
    _ index: Int32, _ fn: String, allowed: Set<String>, required: Bool = false
  ) throws {
    if isNoneOrNil(index) && !required { return }
    try checkTable(index, fn)
    let t = lua_absindex(L, index)
    pushNil()
    while lua_next(L, t) != 0 {
      // Only string keys are read as text: lua_tolstring on a number key would turn it
      // into a string in place and confuse lua_next.
      let key = type(-2) == LUA_TSTRING ? (try? string(-2, fn)) : nil
      pop()
      guard let key, allowed.contains(key) else {
        let shown = key.map { "'\($0)'" } ?? "[\(typeName(-1)) key]"
        pop()
        let expected =
          allowed.isEmpty
          ? "it takes none" : "expected " + allowed.sorted().joined(separator: ", ")
        throw LuaError("\(fn): unknown option \(shown) (\(expected))")
      }
    }
  }

  /// A sequence of numbers ({3, 32, 32}) at index i.
  public func numberList(_ i: Int32, _ fn: String) throws -> [Double] {
    try checkTable(i, fn)
    let n = rawLength(i)
    var out: [Double] = []
    out.reserveCapacity(n)
    for k in stride(from: 1, through: n, by: 1) {
      rawIndex(i, k)
      defer { pop() }
      guard type(-1) == LUA_TNUMBER else {
        throw badArgument(i, fn, "element \(k) of the table is a \(typeName(-1)), expected number")
      }
      out.append(lua_tonumberx(L, -1, nil))
    }
    return out
  }

  /// A list of integers, e.g. a shape.
  public func integerList(_ i: Int32, _ fn: String) throws -> [Int] {
    try numberList(i, fn).enumerated().map { k, v in
      guard let n = Int(exactly: v) else {
        throw badArgument(i, fn, "element \(k + 1) of the table is not an integer")
      }
      return n
    }
  }

  // MARK: Pushing results (a push can only fail on memory exhaustion, which the
  // allocator never refuses while Swift runs).

  public func push(_ v: Double) { lua_pushnumber(L, v) }
  public func push(_ v: Float) { lua_pushnumber(L, Double(v)) }
  public func push(_ v: Int) { lua_pushinteger(L, lua_Integer(v)) }
  public func push(_ v: Bool) { lua_pushboolean(L, v ? 1 : 0) }
  public func push(_ v: String) { _ = v.withCString { lua_pushstring(L, $0) } }
  public func pushNil() { lua_pushnil(L) }
  public func newTable(array: Int = 0, hash: Int = 0) {
    lua_createtable(L, Int32(array), Int32(hash))
  }

  /// Pushes a retained reference to `object` as a userdata of class `cls`.
  public func push(_ object: AnyObject, as cls: LuaClass) {
    moonlab_push_object(L, Unmanaged.passRetained(object).toOpaque(), cls.name)
  }

  public func push(_ t: Tensor) {
    push(t, as: .tensor)
    moonlab_note_tensor_pushed(L)
  }

  /// Pushes a Lua function that runs `fn`.
  public func push(function name: String, _ fn: @escaping LuaFunction) {
    moonlab_push_swift_function(L, Unmanaged.passRetained(FunctionBox(name: name, fn)).toOpaque())
  }

  /// t[key] = value on top (pops the value); t at index `table`.
  public func setField(_ table: Int32, _ key: String) {
    let t = lua_absindex(L, table)
    lua_pushstring(L, key)
    lua_rotate(L, -2, 1)
    lua_rawset(L, t)
  }

  /// t[n] = value on top (pops the value).
  public func setIndex(_ table: Int32, _ n: Int) { lua_rawseti(L, table, lua_Integer(n)) }

  /// Pushes a sequence of numbers as a table.
  public func push(numbers: [Double]) {
    newTable(array: numbers.count)
    for (k, v) in numbers.enumerated() {
      push(v)
      setIndex(-2, k + 1)
    }
  }

  public func push(integers: [Int]) {
    newTable(array: integers.count)
    for (k, v) in integers.enumerated() {
      push(v)
      setIndex(-2, k + 1)
    }
  }
}

/// The retained Swift closure behind a Lua function; the function's __gc releases it.
final class FunctionBox {
  let name: String
  let fn: LuaFunction
  init(name: String, _ fn: @escaping LuaFunction) {
    self.name = name
    self.fn = fn
  }
}
