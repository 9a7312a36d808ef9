import CLua
import MoonlabTensor

/// The `tensor` library's math surface beyond TensorLibrary.swift: comparisons, rounding,
/// clamp, reductions with indices (min, sort, topk), statistics, cumulative sums, ranges
/// and `*_like` factories (docs/tensor.md, "Math"). Dimensions and positions are 1-based in
/// Lua, negative dimensions count from the end; the Swift API counts from 0.
enum TensorMath {
  typealias Library = TensorLibrary

  // MARK: Library functions

  static func functions() -> [String: LuaFunction] {
    [
      // arange(end), arange(start, end [, step]): end excluded, as in PyTorch.
      "arange": { lua in
        let one = lua.isNoneOrNil(2)
        let start = one ? 0 : try lua.number(1, "arange")
        let end = try lua.number(one ? 1 : 2, "arange")
        let step = try lua.optNumber(3, "arange", 1)
        return Library.pushed(lua, try Tensor.arange(start: start, end: end, step: step))
      },
      "linspace": { lua in
        let (start, end) = (try lua.number(1, "linspace"), try lua.number(2, "linspace"))
        let steps = try lua.integer(3, "linspace")
        return Library.pushed(lua, try Tensor.linspace(start, end, steps: steps))
      },
      "eye": { lua in
        let n = try lua.integer(1, "eye")
        let m = lua.isNoneOrNil(2) ? nil : try lua.integer(2, "eye")
        return Library.pushed(lua, try Tensor.eye(n, m))
      },
      "zeros_like": { lua in
        Library.pushed(lua, try Tensor.zeros(try lua.tensor(1, "zeros_like").shape))
      },
      "ones_like": { lua in
        Library.pushed(lua, try Tensor.ones(try lua.tensor(1, "ones_like").shape))
      },
      "rand_like": { lua in
        Library.pushed(lua, try Tensor.rand(try lua.tensor(1, "rand_like").shape))
      },
      "randn_like": { lua in
        Library.pushed(lua, try Tensor.randn(try lua.tensor(1, "randn_like").shape))
      },
      "full_like": { lua in
        let shape = try lua.tensor(1, "full_like").shape
        return Library.pushed(lua, try Tensor.full(shape, Float(try lua.number(2, "full_like"))))
      },
    ]
  }

  // MARK: Tensor methods

  static func methods() -> [String: LuaFunction] {
    var methods: [String: LuaFunction] = [
      // Bounds are numbers, or tensors broadcast with t (then both are taken as tensors).
      "clamp": { lua in
        let t = try lua.tensor(1, "clamp")
        if lua.anyObject(2) is Tensor || lua.anyObject(3) is Tensor {
          func bound(_ i: Int32) throws -> Tensor? {
            if lua.isNoneOrNil(i) { return nil }
            if let b = lua.anyObject(i) as? Tensor { return b }
            return Tensor(scalar: Float(try lua.number(i, "clamp")))
          }
          return Library.pushed(lua, try t.clamp(min: try bound(2), max: try bound(3)))
        }
        let lower = lua.isNoneOrNil(2) ? nil : Float(try lua.number(2, "clamp"))
        let upper = lua.isNoneOrNil(3) ? nil : Float(try lua.number(3, "clamp"))
        return Library.pushed(lua, t.clamp(min: lower, max: upper))
      },
      // min(d) also returns the 1-based positions, like PyTorch's (values, indices).
      "min": { lua in
        let t = try lua.tensor(1, "min")
        if lua.isNoneOrNil(2) { return Library.pushed(lua, try t.minimum()) }
        let d = try Library.dimension(lua, 2, of: t, "min")
        let (values, positions) = try t.minWithIndices(
          dim: d, keepDim: try lua.optBoolean(3, "min", false))
        return pushed(lua, values, positions)
      },
      "argmin": { lua in try Library.positions(lua, "argmin") { try $0.argmin(dim: $1) } },
      "prod": { lua in
        try Library.reduction(
          lua, "prod", all: { $0.prod() }, along: { try $0.prod(dim: $1, keepDim: $2) })
      },
      "any": { lua in
        try Library.reduction(
          lua, "any", all: { $0.any() }, along: { try $0.any(dim: $1, keepDim: $2) })
      },
      "all": { lua in
        try Library.reduction(
          lua, "all", all: { $0.all() }, along: { try $0.all(dim: $1, keepDim: $2) })
      },
      "var": { lua in
        try spread(
          lua, "var", all: { $0.variance(correction: $1) },
          along: { try $0.variance(dim: $1, keepDim: $2, correction: $3) })
      },
      "std": { lua in
        try spread(
          lua, "std", all: { $0.std(correction: $1) },
          along: { try $0.std(dim: $1, keepDim: $2, correction: $3) })
      },
      // norm([p [, d [, keepdim]]]), p = 2 by default; math.huge is the max norm.
      "norm": { lua in
        let t = try lua.tensor(1, "norm")
        let p = Float(try lua.optNumber(2, "norm", 2))
        if lua.isNoneOrNil(3) { return Library.pushed(lua, try t.norm(p: p)) }
        let d = try Library.dimension(lua, 3, of: t, "norm")
        return Library.pushed(
          lua, try t.norm(p: p, dim: d, keepDim: try lua.optBoolean(4, "norm", false)))
      },
      "cumsum": { lua in
        let t = try lua.tensor(1, "cumsum")
        return Library.pushed(
          lua, try t.cumsum(dim: try Library.dimension(lua, 2, of: t, "cumsum")))
      },
      // sort([d [, descending]]) → values, 1-based positions; d = -1 by default.
      "sort": { lua in
        let t = try lua.tensor(1, "sort")
        let d = lua.isNoneOrNil(2) ? -1 : try Library.dimension(lua, 2, of: t, "sort")
        let (values, positions) = try t.sort(
          dim: d, descending: try lua.optBoolean(3, "sort", false))
        return pushed(lua, values, positions)
      },
      // topk(k [, d [, largest]]) → values, 1-based positions; d = -1, largest by default.
      "topk": { lua in
        let t = try lua.tensor(1, "topk")
        let k = try lua.integer(2, "topk")
        let d = lua.isNoneOrNil(3) ? -1 : try Library.dimension(lua, 3, of: t, "topk")
        let (values, positions) = try t.topk(
          k, dim: d, largest: try lua.optBoolean(4, "topk", true))
        return pushed(lua, values, positions)
      },
      "tolist": { lua in
        try Library.pushTable(lua, try lua.tensor(1, "tolist"))
        return 1
      },
    ]
    let comparisons: [(String, (Tensor, Tensor) throws -> Tensor)] = [
      ("eq", { try $0.eq($1) }), ("ne", { try $0.ne($1) }), ("lt", { try $0.lt($1) }),
      ("le", { try $0.le($1) }), ("gt", { try $0.gt($1) }), ("ge", { try $0.ge($1) }),
    ]
    for (name, op) in comparisons {
      methods[name] = { lua in try Library.binary(lua, name, op) }
    }
    let unary: [(String, (Tensor) -> Tensor)] = [
      ("sign", { $0.sign() }), ("floor", { $0.floor() }), ("ceil", { $0.ceil() }),
      ("round", { $0.round() }), ("log1p", { $0.log1p() }),
    ]
    for (name, op) in unary {
      methods[name] = { lua in Library.pushed(lua, op(try lua.tensor(1, name))) }
    }
    return methods
  }

  /// `t:pow(p)` / `t ^ p` with a number exponent (one scalar kernel) or a tensor one; with
  /// a tensor exponent the base may be a number too (`2 ^ t`).
  static func power(_ lua: Lua) throws -> Int32 {
    if lua.type(2) == LUA_TNUMBER, lua.anyObject(1) is Tensor {
      return Library.pushed(lua, try lua.tensor(1, "pow").pow(Float(try lua.number(2, "pow"))))
    }
    return try Library.binary(lua, "pow") { try $0.pow($1) }
  }

  /// Pushes values and 1-based positions, the two results of min/sort/topk.
  static func pushed(_ lua: Lua, _ values: Tensor, _ positions: Tensor) -> Int32 {
    lua.push(values)
    lua.push(positions.add(1))
    return 2
  }

  /// var/std: `t:var([d [, keepdim]] [, {unbiased =, correction =}])`, the options table
  /// last (PyTorch's keywords); unbiased (correction 1) by default.
  static func spread(
    _ lua: Lua, _ name: String, all: (Tensor, Int) -> Tensor,
    along: (Tensor, Int, Bool, Int) throws -> Tensor
  ) throws -> Int32 {
    let t = try lua.tensor(1, name)
    let optionsAt: Int32 = lua.type(2) == LUA_TTABLE ? 2 : lua.type(3) == LUA_TTABLE ? 3 : 4
    try lua.checkOptions(optionsAt, name, allowed: ["unbiased", "correction"])
    let unbiased = try lua.booleanOption(optionsAt, "unbiased", name)
    let correction = try lua.integerOption(optionsAt, "correction", name)
    guard unbiased == nil || correction == nil else {
      throw LuaError("\(name): give either option 'unbiased' or 'correction', not both")
    }
    let c = correction ?? (unbiased == false ? 0 : 1)
    if optionsAt == 2 || lua.isNoneOrNil(2) { return Library.pushed(lua, all(t, c)) }
    let d = try Library.dimension(lua, 2, of: t, name)
    let keep = optionsAt == 3 ? false : try lua.optBoolean(3, name, false)
    return Library.pushed(lua, try along(t, d, keep, c))
  }
}
