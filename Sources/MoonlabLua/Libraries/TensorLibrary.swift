import CLua
import MoonlabTensor

/// The `tensor` library and the Tensor class as Lua sees them (design.md §6).
enum TensorLibrary {
  static func install(_ host: LuaHost) throws {
    host.register(.tensor, tensorClass())
    host.registerLibrary(
      "tensor",
      [
        "zeros": { lua in
          lua.push(Tensor(zeros: try shapeArgument(lua, "zeros")))
          return 1
        },
        "from": { lua in
          lua.push(try fromTable(lua, 1))
          return 1
        },
        "seed": { lua in
          Generator.seedGlobal(UInt64(bitPattern: Int64(try lua.integer(1, "seed"))))
          return 0
        },
      ])
  }

  /// A shape given as a table {2, 3} or as numbers (2, 3).
  static func shapeArgument(_ lua: Lua, _ fn: String, from first: Int32 = 1) throws -> [Int] {
    let shape: [Int]
    if lua.type(first) == LUA_TTABLE {
      shape = try lua.integerList(first, fn)
    } else {
      shape = try (first...max(first, lua.top)).map { try lua.integer($0, fn) }
    }
    try Shape.validate(shape, op: fn)
    return shape
  }

  /// A tensor from a (nested) table of numbers.
  static func fromTable(_ lua: Lua, _ index: Int32) throws -> Tensor {
    try lua.checkTable(index, "from")
    var shape: [Int] = []
    var values: [Float] = []
    func walk(_ i: Int32, depth: Int) throws {
      let n = lua.rawLength(i)
      if depth == shape.count {
        shape.append(n)
      } else if shape[depth] != n {
        throw LuaError("from: ragged table (expected \(shape[depth]) elements at depth \(depth + 1), got \(n))")
      }
      for k in stride(from: 1, through: n, by: 1) {
        lua.rawIndex(i, k)
        defer { lua.pop() }
        switch lua.type(-1) {
        case LUA_TNUMBER:
          guard depth == shape.count - 1 else { throw LuaError("from: ragged table (number where a table was expected)") }
          values.append(Float(try lua.number(-1, "from")))
        case LUA_TTABLE:
          try walk(lua_absindex(lua.L, -1), depth: depth + 1)
        default:
          throw LuaError("from: expected numbers or tables, got \(lua.typeName(-1))")
        }
      }
    }
    try walk(lua_absindex(lua.L, index), depth: 0)
    return try Tensor(shape: shape, values: values)
  }

  static func tensorClass() -> LuaClassSpec {
    var spec = LuaClassSpec()
    spec.methods = [
      "shape": { lua in
        lua.push(integers: try lua.tensor(1, "shape").shape)
        return 1
      },
      "item": { lua in
        lua.push(try lua.tensor(1, "item").item())
        return 1
      },
      "matmul": { lua in
        lua.push(try lua.tensor(1, "matmul").matmul(try lua.tensor(2, "matmul")))
        return 1
      },
      "requires_grad": { lua in
        let t = try lua.tensor(1, "requires_grad")
        t.requiresGrad = try lua.optBoolean(2, "requires_grad", true)
        lua.push(t)
        return 1
      },
      "backward": { lua in
        let t = try lua.tensor(1, "backward")
        try t.backward(lua.isNoneOrNil(2) ? nil : try lua.tensor(2, "backward"))
        return 0
      },
    ]
    spec.metamethods = [
      "__add": { lua in try binary(lua, "add") { try $0.add($1) } },
      "__tostring": { lua in
        let t = try lua.tensor(1, "tostring")
        lua.push("tensor(\(t.toArray()), shape=\(describeShape(t.shape)))")
        return 1
      },
    ]
    spec.getField = { lua, key in
      let t = try lua.tensor(1, "__index")
      switch key {
      case "grad":
        if let g = t.grad { lua.push(g) } else { lua.pushNil() }
        return 1
      default:
        return 0
      }
    }
    return spec
  }

  /// A binary operator where either side may be a number.
  static func binary(_ lua: Lua, _ name: String, _ op: (Tensor, Tensor) throws -> Tensor) throws -> Int32 {
    func operand(_ i: Int32) throws -> Tensor {
      if lua.type(i) == LUA_TNUMBER { return Tensor(scalar: Float(try lua.number(i, name))) }
      return try lua.tensor(i, name)
    }
    lua.push(try op(operand(1), operand(2)))
    return 1
  }
}
