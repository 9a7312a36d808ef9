import CLua
import LuaShim
import MoonlabTensor

/// The `tensor` library and the Tensor class as Lua sees them (docs/tensor.md). Lua counts
/// dimensions and positions from 1 (negative dimensions count from the end); the
/// Swift API counts from 0, and this file converts.
enum TensorLibrary {
  static func install(_ host: LuaHost) throws {
    let spec = tensorClass()
    host.register(.tensor, spec)
    let library = functions().merging(TensorIndexing.functions()) { a, _ in a }.merging(
      TensorMath.functions()
    ) { a, _ in a }.merging(TensorLinalg.functions()) { a, _ in a }
    // PyTorch's function forms (`torch.eq(a, b)`, `torch.transpose(t, 0, 1)`): each method
    // takes its tensor as argument 1, so `tensor.eq(a, b)` is `a:eq(b)`.
    host.registerLibrary("tensor", spec.methods.merging(library) { _, function in function })
    TensorLinalg.install(host)
  }

  // MARK: Library functions

  static func functions() -> [String: LuaFunction] {
    [
      "zeros": { lua in pushed(lua, try Tensor.zeros(try shapeArgument(lua, "zeros"))) },
      "ones": { lua in pushed(lua, try Tensor.ones(try shapeArgument(lua, "ones"))) },
      "rand": { lua in pushed(lua, try Tensor.rand(try shapeArgument(lua, "rand"))) },
      "randn": { lua in pushed(lua, try Tensor.randn(try shapeArgument(lua, "randn"))) },
      "full": { lua in
        try lua.checkTable(1, "full")
        let shape = try lua.integerList(1, "full")
        return pushed(lua, try Tensor.full(shape, Float(try lua.number(2, "full"))))
      },
      // Bytes held by tensor storage (docs/architecture.md, "Memory").
      "memory": { lua in
        lua.newTable(hash: 3)
        lua.push(TensorMemory.liveBytes)
        lua.setField(-2, "live")
        lua.push(TensorMemory.pooledBytes)
        lua.setField(-2, "pooled")
        lua.push(TensorMemory.systemAllocations)
        lua.setField(-2, "allocations")
        return 1
      },
      "from": { lua in
        if lua.type(1) == LUA_TNUMBER {
          return pushed(lua, Tensor(scalar: Float(try lua.number(1, "from"))))
        }
        return pushed(lua, try fromTable(lua, 1))
      },
      // Labels are 1-based in Lua; checked here so messages use the script's numbers.
      "one_hot": { lua in
        let labels = try lua.tensor(1, "one_hot")
        let classes = try lua.integer(2, "one_hot")
        guard classes > 0 else {
          throw LuaError("one_hot: number of classes must be positive, got \(classes)")
        }
        for i in 0..<labels.count {
          let v = labels.data[i]
          guard v >= 1, v <= Float(classes), v.rounded() == v else {
            throw LuaError(
              "one_hot: label \(v) at position \(i + 1) is not a class in 1..\(classes)")
          }
        }
        return pushed(lua, try labels.add(-1).oneHot(classes: classes))
      },
      "seed": { lua in
        RunContext.current.reseed(UInt64(bitPattern: Int64(try lua.integer(1, "seed"))))
        return 0
      },
      // Runs fn(...) with the tape off; grad mode comes back even when fn fails.
      "no_grad": { lua in
        try checkFunction(lua, 1, "no_grad")
        let base = lua.top
        return try Autograd.noGrad {
          try reserveStack(lua, Int(base) + 1, "no_grad")
          lua_pushvalue(lua.L, 1)
          for i in stride(from: 2, through: base, by: 1) { lua_pushvalue(lua.L, i) }
          try protectedCall(lua, arguments: base - 1, results: LUA_MULTRET)
          return lua.top - base
        }
      },
      "gradcheck": { lua in
        try checkFunction(lua, 1, "gradcheck")
        let inputs = try tensorList(lua, 2, "gradcheck")
        try lua.checkOptions(3, "gradcheck", allowed: ["eps", "atol", "rtol", "params"])
        let parameters = try gradcheckParameters(lua)
        let eps = try lua.numberOption(3, "eps", "gradcheck").map(Float.init) ?? 1e-3
        let atol = try lua.numberOption(3, "atol", "gradcheck").map(Float.init) ?? 1e-3
        let rtol = try lua.numberOption(3, "rtol", "gradcheck").map(Float.init) ?? 1e-2
        // eps = 0 divides by zero; a negative or NaN tolerance passes nothing or everything.
        guard eps > 0, eps.isFinite, atol >= 0, rtol >= 0, atol.isFinite, rtol.isFinite else {
          throw LuaError(
            "gradcheck: eps must be positive and atol, rtol ≥ 0 (finite), got eps \(eps), atol \(atol), rtol \(rtol)"
          )
        }
        let (ok, maxError) = try gradcheck(
          { tensors in
            try reserveStack(lua, tensors.count + 1, "gradcheck")
            lua_pushvalue(lua.L, 1)
            for t in tensors { lua.push(t) }
            try protectedCall(lua, arguments: Int32(tensors.count), results: 1)
            defer { lua.pop() }
            guard let out = lua.anyObject(-1) as? Tensor else {
              throw LuaError(
                "gradcheck: the function must return a Tensor, got \(lua.typeName(-1))")
            }
            return out
          }, inputs: inputs, parameters: parameters, eps: eps, atol: atol, rtol: rtol)
        lua.push(ok)
        lua.push(maxError)
        return 2
      },
    ]
  }

  /// gradcheck's option `params`: tensors the function reaches by itself (a module's
  /// parameters), whose gradients are checked as well.
  static func gradcheckParameters(_ lua: Lua) throws -> [Tensor] {
    guard !lua.isNoneOrNil(3) else { return [] }
    let kind = lua.rawField(3, "params")
    defer { lua.pop() }
    if kind == LUA_TNIL { return [] }
    let message =
      "gradcheck: option 'params' must be a list of tensors that require grad (m:parameters())"
    guard kind == LUA_TTABLE, let list = try? tensorList(lua, lua.top, "gradcheck"),
      list.allSatisfy(\.requiresGrad)
    else { throw LuaError(message) }
    return list
  }

  static func setRequiresGrad(_ t: Tensor, _ flag: Bool) throws {
    guard flag || t.isLeaf else {
      throw LuaError("requires_grad: only leaf tensors can stop requiring grad (use detach())")
    }
    t.requiresGrad = flag
  }

  /// Pushes `t` and returns 1, the result count of a function returning one tensor.
  static func pushed(_ lua: Lua, _ t: Tensor) -> Int32 {
    lua.push(t)
    return 1
  }

  /// Calls the function below `arguments` values from Swift. It must be a protected call
  /// (an error must not longjmp over this Swift frame); the error, traceback included,
  /// comes back as a thrown LuaError.
  static func protectedCall(_ lua: Lua, arguments: Int32, results: Int32) throws {
    guard moonlab_pcall(lua.L, arguments, results) == LUA_OK else {
      let message =
        moonlab_tostring(lua.L, -1).map { String(cString: $0) } ?? "(error object is not a string)"
      lua.pop()
      throw LuaError(message)
    }
  }

  /// Room for `n` more values on the Lua stack: a C function is only promised 20, and
  /// pushing past the end without asking corrupts memory.
  static func reserveStack(_ lua: Lua, _ n: Int, _ fn: String) throws {
    guard n < 1_000_000, lua_checkstack(lua.L, Int32(n)) != 0 else {
      throw LuaError("\(fn): Lua stack overflow (\(n) values)")
    }
  }

  static func checkFunction(_ lua: Lua, _ i: Int32, _ fn: String) throws {
    guard lua.type(i) == LUA_TFUNCTION else {
      throw LuaError("bad argument #\(i) to '\(fn)' (function expected, got \(lua.typeName(i)))")
    }
  }

  /// A shape given as a table {2, 3} or as numbers (2, 3).
  static func shapeArgument(_ lua: Lua, _ fn: String, from first: Int32 = 1) throws -> [Int] {
    if lua.type(first) == LUA_TTABLE { return try lua.integerList(first, fn) }
    return try (first...max(first, lua.top)).map { try lua.integer($0, fn) }
  }

  /// A sequence table of tensors.
  static func tensorList(_ lua: Lua, _ i: Int32, _ fn: String) throws -> [Tensor] {
    try lua.checkTable(i, fn)
    return try (0..<lua.rawLength(i)).map { k in
      lua.rawIndex(i, k + 1)
      defer { lua.pop() }
      guard let t = lua.anyObject(-1) as? Tensor else {
        throw LuaError(
          "bad argument #\(i) to '\(fn)' (element \(k + 1) of the table is a \(lua.typeName(-1)), expected Tensor)"
        )
      }
      return t
    }
  }

  /// A 1-based (or negative, from the end) dimension of `t`, converted to 0-based.
  static func dimension(_ lua: Lua, _ i: Int32, of t: Tensor, _ fn: String) throws -> Int {
    let d = try lua.integer(i, fn)
    let r = t.rank
    guard (1 <= d && d <= r) || (-r <= d && d <= -1) else {
      let range = r == 0 ? "a 0-d tensor has no dimensions" : "expected 1..\(r) or -\(r)..-1"
      throw LuaError(
        "\(fn): dimension \(d) out of range for a tensor of shape \(describeShape(t.shape)) (\(range))"
      )
    }
    return d > 0 ? d - 1 : d + r
  }

  /// A tensor from a (nested) table of numbers.
  static func fromTable(_ lua: Lua, _ index: Int32) throws -> Tensor {
    try lua.checkTable(index, "from")
    var shape: [Int] = []
    var values: [Float] = []
    func walk(_ i: Int32, depth: Int) throws {
      guard depth < 64 else { throw LuaError("from: table nested deeper than 64 levels") }
      try reserveStack(lua, 2, "from")
      let n = lua.rawLength(i)
      if depth == shape.count {
        shape.append(n)
      } else if shape[depth] != n {
        throw LuaError(
          "from: ragged table (expected \(shape[depth]) elements at depth \(depth + 1), got \(n))")
      }
      for k in stride(from: 1, through: n, by: 1) {
        lua.rawIndex(i, k)
        defer { lua.pop() }
        switch lua.type(-1) {
        case LUA_TNUMBER:
          guard depth == shape.count - 1 else {
            throw LuaError("from: ragged table (number where a table was expected)")
          }
          values.append(Float(try lua.number(-1, "from")))
        case LUA_TTABLE:
          guard values.isEmpty || depth + 1 < shape.count else {
            throw LuaError("from: ragged table (table where a number was expected)")
          }
          try walk(lua_absindex(lua.L, -1), depth: depth + 1)
        default:
          throw LuaError("from: expected numbers or tables, got \(lua.typeName(-1))")
        }
      }
    }
    try walk(lua_absindex(lua.L, index), depth: 0)
    return try Tensor(shape: shape, values: values)
  }

  // MARK: The Tensor class

  static func tensorClass() -> LuaClassSpec {
    var spec = LuaClassSpec()
    spec.methods = inspectionMethods().merging(mathMethods()) { a, _ in a }.merging(gradMethods()) {
      a, _ in a
    }
    spec.methods.merge(TensorMath.methods()) { a, _ in a }
    spec.metamethods = [
      "__add": { lua in try binary(lua, "add") { try $0.add($1) } },
      "__sub": { lua in try binary(lua, "sub") { try $0.sub($1) } },
      "__mul": { lua in try binary(lua, "mul") { try $0.mul($1) } },
      "__div": { lua in try binary(lua, "div") { try $0.div($1) } },
      "__pow": { lua in try TensorMath.power(lua) },
      "__unm": { lua in pushed(lua, try lua.tensor(1, "unm").neg()) },
      // Each push makes a new userdata, so `==` compares the Swift objects: a tensor
      // returned by requires_grad_() equals the one it was called on.
      "__eq": { lua in
        lua.push(
          lua.anyObject(1).map { ObjectIdentifier($0) }
            == lua.anyObject(2).map { ObjectIdentifier($0) })
        return 1
      },
      "__len": { lua in
        let t = try lua.tensor(1, "len")
        guard let n = t.shape.first else { throw LuaError("len: a 0-d tensor has no length") }
        lua.push(n)
        return 1
      },
      "__tostring": { lua in
        lua.push(try lua.tensor(1, "tostring").description)
        return 1
      },
    ]
    spec.getField = { lua, key in
      let t = try lua.tensor(1, "__index")
      switch key {
      case "grad": if let g = t.grad { lua.push(g) } else { lua.pushNil() }
      case "requires_grad": lua.push(t.requiresGrad)
      case "is_leaf": lua.push(t.isLeaf)
      // The name of the op that made the tensor ("BatchNorm2d+ReLU"), nil for leaves.
      case "grad_fn": if let node = t.node { lua.push(node.name) } else { lua.pushNil() }
      default: throw LuaError("tensor has no field '\(key)'")
      }
      return 1
    }
    spec.setField = { lua, key in
      let t = try lua.tensor(1, "__newindex")
      if key == "requires_grad" {
        guard lua.type(3) == LUA_TBOOLEAN else {
          throw LuaError(
            "Tensor: field 'requires_grad' takes true or false, got \(lua.typeName(3))")
        }
        try setRequiresGrad(t, lua_toboolean(lua.L, 3) != 0)
        return
      }
      guard key == "grad" else { throw LuaError("Tensor: can't set field '\(key)'") }
      if lua.isNoneOrNil(3) {
        t.grad = nil
        return
      }
      let g = try lua.tensor(3, "grad")
      guard g.shape == t.shape else {
        throw LuaError(
          "grad: gradient shape \(describeShape(g.shape)) doesn't match tensor shape \(describeShape(t.shape))"
        )
      }
      t.grad = g
    }
    TensorIndexing.extend(&spec)
    spec.methods.merge(TensorPad.methods()) { a, _ in a }
    return spec
  }

  /// shape, sizes, values, copies and views.
  /// `t:name()`, one number per dimension as a list, or `t:name(d)`, dimension d's.
  static func perDimension(_ name: String, _ values: @escaping (Tensor) -> [Int]) -> LuaFunction {
    return { lua in
      let t = try lua.tensor(1, name)
      if lua.isNoneOrNil(2) {
        lua.push(integers: values(t))
      } else {
        lua.push(values(t)[try dimension(lua, 2, of: t, name)])
      }
      return 1
    }
  }

  static func inspectionMethods() -> [String: LuaFunction] {
    [
      "shape": { lua in
        lua.push(integers: try lua.tensor(1, "shape").shape)
        return 1
      },
      "size": perDimension("size") { $0.shape },
      "numel": { lua in
        lua.push(try lua.tensor(1, "numel").count)
        return 1
      },
      "dim": { lua in
        lua.push(try lua.tensor(1, "dim").rank)
        return 1
      },
      "item": { lua in
        lua.push(try lua.tensor(1, "item").item())
        return 1
      },
      "totable": { lua in
        try pushTable(lua, try lua.tensor(1, "totable"))
        return 1
      },
      "clone": { lua in pushed(lua, try lua.tensor(1, "clone").clone()) },
      "detach": { lua in pushed(lua, try lua.tensor(1, "detach").detach()) },
      "reshape": { lua in
        let t = try lua.tensor(1, "reshape")
        return pushed(lua, try t.reshape(try shapeArgument(lua, "reshape", from: 2)))
      },
      "t": { lua in pushed(lua, try lua.tensor(1, "t").transposed()) },
    ]
  }

  /// Arithmetic, reductions and activations.
  static func mathMethods() -> [String: LuaFunction] {
    var methods: [String: LuaFunction] = [
      "matmul": { lua in
        pushed(lua, try lua.tensor(1, "matmul").matmul(try lua.tensor(2, "matmul")))
      },
      "sum": { lua in
        try reduction(lua, "sum", all: { $0.sum() }, along: { try $0.sum(dim: $1, keepDim: $2) })
      },
      "mean": { lua in
        try reduction(lua, "mean", all: { $0.mean() }, along: { try $0.mean(dim: $1, keepDim: $2) })
      },
      // max(d) also returns the 1-based positions, like PyTorch's (values, indices).
      "max": { lua in
        let t = try lua.tensor(1, "max")
        if lua.isNoneOrNil(2) { return pushed(lua, try t.max()) }
        let d = try dimension(lua, 2, of: t, "max")
        let keep = try lua.optBoolean(3, "max", false)
        let (values, positions) = try t.maxWithIndices(dim: d, keepDim: keep)
        lua.push(values)
        lua.push(positions.add(1))
        return 2
      },
      "argmax": { lua in try positions(lua, "argmax") { try $0.argmax(dim: $1) } },
      "pow": { lua in try TensorMath.power(lua) },
      "softmax": { lua in
        let t = try lua.tensor(1, "softmax")
        return pushed(lua, try t.softmax(dim: try dimension(lua, 2, of: t, "softmax")))
      },
      "log_softmax": { lua in
        let t = try lua.tensor(1, "log_softmax")
        return pushed(lua, try t.logSoftmax(dim: try dimension(lua, 2, of: t, "log_softmax")))
      },
    ]
    let unary: [(String, (Tensor) -> Tensor)] = [
      ("exp", { $0.exp() }), ("log", { $0.log() }), ("sqrt", { $0.sqrt() }), ("abs", { $0.abs() }),
      ("relu", { $0.relu() }), ("sigmoid", { $0.sigmoid() }), ("tanh", { $0.tanh() }),
    ]
    for (name, op) in unary {
      methods[name] = { lua in pushed(lua, op(try lua.tensor(1, name))) }
    }
    return methods
  }

  /// The autograd surface: requires_grad_, backward, zero_grad (and fields `grad`,
  /// `requires_grad`, `is_leaf`, `grad_fn`).
  static func gradMethods() -> [String: LuaFunction] {
    [
      // PyTorch's in-place setter: `t:requires_grad_()` or `t:requires_grad_(false)`;
      // `t.requires_grad` reads the flag (a query has no side effect).
      "requires_grad_": { lua in
        let t = try lua.tensor(1, "requires_grad_")
        try setRequiresGrad(t, try lua.optBoolean(2, "requires_grad_", true))
        return pushed(lua, t)
      },
      "backward": { lua in
        try backward(lua)
        return 0
      },
      "zero_grad": { lua in
        try lua.tensor(1, "zero_grad").zeroGrad()
        return 0
      },
    ]
  }

  /// t:backward([gradient] [, options]) or t:backward{gradient =, retain_graph =}: PyTorch's
  /// keyword arguments as a table, the gradient also positional as before.
  static func backward(_ lua: Lua) throws {
    let t = try lua.tensor(1, "backward")
    let optionsAt: Int32 = lua.type(2) == LUA_TTABLE ? 2 : 3
    try lua.checkOptions(
      optionsAt, "backward",
      allowed: optionsAt == 2 ? ["gradient", "retain_graph"] : ["retain_graph"])
    let gradient =
      optionsAt == 2
      ? try lua.option(2, "gradient", "backward") { try lua.tensor($0, "backward") }
      : lua.isNoneOrNil(2) ? nil : try lua.tensor(2, "backward")
    let retainGraph = try lua.booleanOption(optionsAt, "retain_graph", "backward") ?? false
    try t.backward(gradient, retainGraph: retainGraph)
  }

  /// sum/mean: over everything without a dimension, else along it (optionally keeping it).
  static func reduction(
    _ lua: Lua, _ name: String, all: (Tensor) -> Tensor, along: (Tensor, Int, Bool) throws -> Tensor
  ) throws -> Int32 {
    let t = try lua.tensor(1, name)
    if lua.isNoneOrNil(2) { return pushed(lua, all(t)) }
    let d = try dimension(lua, 2, of: t, name)
    return pushed(lua, try along(t, d, try lua.optBoolean(3, name, false)))
  }

  /// argmax/argmin: 1-based positions over all elements, or along dimension d (with
  /// `keepdim` as the third argument).
  static func positions(_ lua: Lua, _ name: String, along: (Tensor, Int) throws -> Tensor) throws
    -> Int32
  {
    let t = try lua.tensor(1, name)
    if lua.isNoneOrNil(2) { return pushed(lua, try along(t.reshape([-1]), 0).add(1)) }
    let d = try dimension(lua, 2, of: t, name)
    let p = try along(t, d)
    return pushed(lua, try (lua.optBoolean(3, name, false) ? p.unsqueeze(dim: d) : p).add(1))
  }

  /// A nested table of the values (a number for a 0-d tensor).
  static func pushTable(_ lua: Lua, _ t: Tensor) throws {
    try reserveStack(lua, t.rank + 2, "totable")
    guard t.rank > 0 else {
      lua.push(t.data[0])
      return
    }
    let strides = Shape.strides(t.shape)
    func build(_ d: Int, _ offset: Int) {
      let n = t.shape[d]
      lua.newTable(array: n)
      for k in 0..<n {
        if d == t.rank - 1 {
          lua.push(t.data[offset + k])
        } else {
          build(d + 1, offset + k * strides[d])
        }
        lua.setIndex(-2, k + 1)
      }
    }
    build(0, 0)
  }

  /// A binary operator where either side may be a number.
  static func binary(_ lua: Lua, _ name: String, _ op: (Tensor, Tensor) throws -> Tensor) throws
    -> Int32
  {
    func operand(_ i: Int32) throws -> Tensor {
      if lua.type(i) == LUA_TNUMBER { return Tensor(scalar: Float(try lua.number(i, name))) }
      return try lua.tensor(i, name)
    }
    return pushed(lua, try op(operand(1), operand(2)))
  }
}
