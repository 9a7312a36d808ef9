import CLua
import MoonlabLua
import MoonlabTensor

/// Lua values ⇄ JSON for the lab layer: metric lines, configs, sweep configs and results.
/// Reads go through MoonlabLua's non-raising accessors (Lua+Stack.swift).
extension Lua {
  /// A scalar at `i`: number (integer or float), boolean, string, or a one-element tensor.
  func scalarJSON(_ i: Int32) -> JSON? {
    switch type(i) {
    case LUA_TNUMBER: return .number(numberValue(i).value)
    case LUA_TBOOLEAN: return .bool(booleanValue(i))
    case LUA_TSTRING: return stringValue(i).map { .string($0) }
    case LUA_TUSERDATA:
      if let t = anyObject(i) as? Tensor, t.count == 1 { return .number(Double(t.data[0])) }
      return nil
    default: return nil
    }
  }

  /// A table of string keys → scalars (nested tables become objects), keys sorted so the
  /// output doesn't depend on Lua's hash order. Other values are an error naming the key.
  func objectJSON(_ index: Int32, _ fn: String, nested: Bool = false) throws -> JSON {
    try checkTable(index, fn)
    var fields: [JSON.Field] = []
    try forEachEntry(index) { key in
      guard let key else { return }
      if let v = scalarJSON(-1) {
        fields.append(.init(key, v))
      } else if nested, type(-1) == LUA_TTABLE {
        fields.append(.init(key, try objectJSON(-1, fn, nested: true)))
      } else {
        throw LuaError(
          "\(fn): field '\(key)' is a \(typeName(-1)); expected a number, boolean or string")
      }
    }
    return .object(fields.sorted { $0.key < $1.key })
  }

  /// Calls `body` with each key of the table on top, its value then at -1; every key must
  /// be a string (sweep spaces).
  func forEachField(_ fn: String, _ body: (String) throws -> Void) throws {
    try forEachEntry(-1) { key in
      guard let key else { throw LuaError("\(fn): keys must be names, got a \(typeName(-2))") }
      try body(key)
    }
  }

  /// Pushes a JSON value as Lua (objects and arrays become tables; integral numbers
  /// become integers).
  func push(json: JSON) {
    switch json {
    case .null: pushNil()
    case .bool(let b): push(b)
    case .number(let d):
      if d == d.rounded(), abs(d) < 9.007_199_254_740_992e15 { push(Int(d)) } else { push(d) }
    case .string(let s): push(s)
    case .array(let a):
      newTable(array: a.count)
      for (k, v) in a.enumerated() {
        push(json: v)
        setIndex(-2, k + 1)
      }
    case .object(let fields):
      newTable(hash: fields.count)
      for f in fields {
        push(json: f.value)
        setField(-2, f.key)
      }
    }
  }

  /// A number list from a table or a 1-D tensor (report.plot's x and y).
  func numbersOrTensor(_ i: Int32, _ fn: String) throws -> [Double] {
    if let t = anyObject(i) as? Tensor {
      guard t.rank <= 1 else {
        throw LuaError("\(fn): expected a 1-D tensor, got shape \(t.shape)")
      }
      return t.toArray().map(Double.init)
    }
    return try numberList(i, fn)
  }
}
