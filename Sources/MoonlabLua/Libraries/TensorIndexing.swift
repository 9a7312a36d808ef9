import CLua
import MoonlabTensor

/// Indexing, views, joining and splitting as Lua sees them (docs/tensor.md, "Indexing, views and copies"):
/// Torch7's `t[i]`, `t[{i, {a, b}, {}}]` and `t[mask]`, reading and assigning, and the
/// PyTorch-named methods. Positions, ranges and dimensions are 1-based and inclusive
/// here, negative ones counting from the end; this file converts them to Swift's 0-based
/// half-open ones.
enum TensorIndexing {
  // MARK: t[key] and t[key] = value

  /// `t[key]`: a number for a single element, else a tensor (a view where possible).
  static func get(_ lua: Lua) throws -> Int32 {
    let t = try lua.tensor(1, "index")
    if let mask = lua.anyObject(2) as? Tensor {
      return TensorLibrary.pushed(lua, try t.masked(mask))
    }
    let items = try indexItems(lua, 2, of: t)
    let positions = items.compactMap(position)
    if positions.count == t.rank {
      lua.push(t.data[zip(positions, Shape.strides(t.shape)).reduce(0) { $0 + $1.0 * $1.1 }])
      return 1
    }
    return TensorLibrary.pushed(lua, try t.index(items))
  }

  /// `t[key] = value` with a number or a tensor (broadcast to the selection; for a mask
  /// key, one value per selected element).
  static func set(_ lua: Lua) throws {
    let t = try lua.tensor(1, "index assignment")
    let value =
      lua.type(3) == LUA_TNUMBER
      ? Tensor(scalar: Float(try lua.number(3, "index assignment")))
      : try lua.tensor(3, "index assignment")
    if let mask = lua.anyObject(2) as? Tensor { return try t.assign(value, where: mask) }
    try t.assign(value, at: try indexItems(lua, 2, of: t))
  }

  private static func position(_ item: Tensor.Index) -> Int? {
    if case .at(let i) = item { return i }
    return nil
  }

  /// The Swift index for key `i`: a number (one position) or a table of numbers
  /// (positions) and tables (`{a, b}` inclusive range, `{a}` one position kept as a
  /// dimension, `{}` all).
  static func indexItems(_ lua: Lua, _ i: Int32, of t: Tensor) throws -> [Tensor.Index] {
    switch lua.type(i) {
    case LUA_TNUMBER:
      guard t.rank > 0 else { throw LuaError("index: a 0-d tensor has no positions to index") }
      return [.at(try position(lua, i, size: t.shape[0], dim: 0))]
    case LUA_TTABLE:
      let n = lua.rawLength(i)
      guard n <= t.rank else {
        throw LuaError("index: \(n) indices for a tensor of shape \(describeShape(t.shape))")
      }
      return try (0..<n).map { k in
        lua.rawIndex(i, k + 1)
        defer { lua.pop() }
        return try item(lua, size: t.shape[k], dim: k)
      }
    default:
      throw LuaError(
        "index: a tensor is indexed by a number, a table or a mask tensor, got \(lua.typeName(i))")
    }
  }

  /// One entry of an index table (at the top of the stack).
  private static func item(_ lua: Lua, size: Int, dim: Int) throws -> Tensor.Index {
    switch lua.type(-1) {
    case LUA_TNUMBER: return .at(try position(lua, -1, size: size, dim: dim))
    case LUA_TTABLE:
      let top = lua.absIndex(-1)
      let n = lua.rawLength(top)
      guard n > 0 else { return .all }
      guard n <= 2 else {
        throw LuaError(
          "index: range for dimension \(dim + 1) must be {}, {a} or {a, b}, got \(n) numbers")
      }
      lua.rawIndex(top, 1)
      lua.rawIndex(top, n)
      defer { lua.pop(2) }
      let a = try position(lua, -2, size: size, dim: dim)
      let b = try position(lua, -1, size: size, dim: dim)
      guard a <= b else {
        throw LuaError(
          "index: range {\(a + 1), \(b + 1)} for dimension \(dim + 1) is empty (start after end)")
      }
      return .range(a..<(b + 1))
    default:
      throw LuaError(
        "index: entry \(dim + 1) of the index table must be a number or a table, got \(lua.typeName(-1))"
      )
    }
  }

  /// A 1-based (or negative) position along a dimension of `size`, made 0-based.
  static func position(_ lua: Lua, _ i: Int32, size: Int, dim: Int, _ fn: String = "index")
    throws -> Int
  {
    let p = i > 0 ? try lua.integer(i, fn) : try entry(lua, i, dim: dim)
    guard let q = zeroBased(p, count: size) else {
      throw LuaError(
        "\(fn): index \(p) out of range for dimension \(dim + 1) of size \(size) (expected 1..\(size) or -\(size)..-1)"
      )
    }
    return q
  }

  /// A whole number inside an index table (argument-style messages would name a stack slot).
  private static func entry(_ lua: Lua, _ i: Int32, dim: Int) throws -> Int {
    let (v, _) = lua.numberValue(i)
    guard lua.type(i) == LUA_TNUMBER, v.rounded() == v, Swift.abs(v) < 1e15 else {
      let got = lua.type(i) == LUA_TNUMBER ? "\(v)" : lua.typeName(i)
      throw LuaError("index: position for dimension \(dim + 1) must be a whole number, got \(got)")
    }
    return Int(v)
  }

  /// Lua's p-th of n (1 … n, or -n … -1 from the end) as a 0-based position, nil if
  /// out of range.
  static func zeroBased(_ p: Int, count n: Int) -> Int? {
    if 1 <= p && p <= n { return p - 1 }
    if -n <= p && p <= -1 { return p + n }
    return nil
  }

  // MARK: Methods

  /// Adds indexing to the Tensor class: the methods below and the `t[key]` hooks.
  static func extend(_ spec: inout LuaClassSpec) {
    spec.methods.merge(methods()) { a, _ in a }
    spec.getKey = get
    spec.setKey = set
  }

  static func methods() -> [String: LuaFunction] {
    [
      "narrow": { lua in
        let t = try lua.tensor(1, "narrow")
        let d = try TensorLibrary.dimension(lua, 2, of: t, "narrow")
        let start = try position(lua, 3, size: t.shape[d], dim: d, "narrow")
        let length = try lua.integer(4, "narrow")
        return TensorLibrary.pushed(lua, try t.narrow(dim: d, start: start, length: length))
      },
      "select": { lua in
        let t = try lua.tensor(1, "select")
        let d = try TensorLibrary.dimension(lua, 2, of: t, "select")
        let i = try position(lua, 3, size: t.shape[d], dim: d, "select")
        return TensorLibrary.pushed(lua, try t.select(dim: d, index: i))
      },
      "view": { lua in
        let t = try lua.tensor(1, "view")
        // PyTorch's rule: only reshape may copy, so a view of a view stays a view.
        guard t.isContiguous else {
          throw LuaError(
            "view: the tensor is a strided view (from transpose, permute, expand or an inner-dimension slice), whose elements aren't one block; use reshape (which copies) or contiguous() first"
          )
        }
        return TensorLibrary.pushed(
          lua, try t.reshape(try TensorLibrary.shapeArgument(lua, "view", from: 2)))
      },
      "transpose": { lua in
        let t = try lua.tensor(1, "transpose")
        let a = try TensorLibrary.dimension(lua, 2, of: t, "transpose")
        let b = try TensorLibrary.dimension(lua, 3, of: t, "transpose")
        return TensorLibrary.pushed(lua, try t.transpose(a, b))
      },
      "permute": { lua in
        let t = try lua.tensor(1, "permute")
        return TensorLibrary.pushed(lua, try t.permute(try dimensions(lua, of: t, "permute")))
      },
      "flip": { lua in
        let t = try lua.tensor(1, "flip")
        return TensorLibrary.pushed(lua, try t.flip(try dimensions(lua, of: t, "flip")))
      },
      "squeeze": { lua in
        let t = try lua.tensor(1, "squeeze")
        let d = lua.isNoneOrNil(2) ? nil : try TensorLibrary.dimension(lua, 2, of: t, "squeeze")
        return TensorLibrary.pushed(lua, try t.squeeze(dim: d))
      },
      "unsqueeze": { lua in
        let t = try lua.tensor(1, "unsqueeze")
        let d = try newDimension(lua, 2, rank: t.rank, "unsqueeze")
        return TensorLibrary.pushed(lua, try t.unsqueeze(dim: d))
      },
      "expand": { lua in
        let t = try lua.tensor(1, "expand")
        return TensorLibrary.pushed(
          lua, try t.expand(try TensorLibrary.shapeArgument(lua, "expand", from: 2)))
      },
      "contiguous": { lua in TensorLibrary.pushed(lua, try lua.tensor(1, "contiguous").contiguous())
      },
      "is_contiguous": { lua in
        lua.push(try lua.tensor(1, "is_contiguous").isContiguous)
        return 1
      },
      // Strides in elements per dimension, as PyTorch's t.stride() (or one: t:stride(d)).
      "stride": TensorLibrary.perDimension("stride") { $0.strides },
      "storage_offset": { lua in
        lua.push(try lua.tensor(1, "storage_offset").offset)
        return 1
      },
      // Torch7's name: `repeat` is a Lua keyword, so t:repeat(2, 1) wouldn't parse.
      "repeatTensor": { lua in
        let t = try lua.tensor(1, "repeatTensor")
        return TensorLibrary.pushed(
          lua, try t.repeatTensor(try TensorLibrary.shapeArgument(lua, "repeatTensor", from: 2)))
      },
      "index_select": { lua in
        let t = try lua.tensor(1, "index_select")
        let d = try TensorLibrary.dimension(lua, 2, of: t, "index_select")
        let index = try indexTensor(lua, 3, below: t.shape[d], "index_select")
        return TensorLibrary.pushed(lua, try t.indexSelect(dim: d, index: index))
      },
      "gather": { lua in
        let t = try lua.tensor(1, "gather")
        let d = try TensorLibrary.dimension(lua, 2, of: t, "gather")
        let index = try indexTensor(lua, 3, below: t.shape[d], "gather")
        return TensorLibrary.pushed(lua, try t.gather(dim: d, index: index))
      },
      "scatter_add": { lua in
        let (t, d, index, source) = try scatterArguments(lua, "scatter_add")
        return TensorLibrary.pushed(lua, try t.scatterAdd(dim: d, index: index, source: source))
      },
      "scatter_add_": { lua in
        let (t, d, index, source) = try scatterArguments(lua, "scatter_add_")
        try t.scatterAddInPlace(dim: d, index: index, source: source)
        return TensorLibrary.pushed(lua, t)
      },
      "masked_fill": { lua in
        let t = try lua.tensor(1, "masked_fill")
        let mask = try lua.tensor(2, "masked_fill")
        return TensorLibrary.pushed(
          lua, try t.maskedFill(mask, Float(try lua.number(3, "masked_fill"))))
      },
      "split": { lua in
        let t = try lua.tensor(1, "split")
        let d = try optDimension(lua, 3, of: t, "split")
        // A piece size, or a table of sizes (PyTorch's split_size_or_sections).
        if lua.type(2) == LUA_TTABLE {
          return try pushedList(
            lua, try t.split(sizes: try lua.integerList(2, "split"), dim: d), "split")
        }
        return try pushedList(lua, try t.split(size: try lua.integer(2, "split"), dim: d), "split")
      },
      "chunk": { lua in
        let t = try lua.tensor(1, "chunk")
        let n = try lua.integer(2, "chunk")
        let d = try optDimension(lua, 3, of: t, "chunk")
        return try pushedList(lua, try t.chunk(n, dim: d), "chunk")
      },
    ]
  }

  // MARK: Library functions

  static func functions() -> [String: LuaFunction] {
    [
      "cat": { lua in
        let tensors = try nonEmptyList(lua, "cat")
        let d = try optDimension(lua, 2, of: tensors[0], "cat")
        return TensorLibrary.pushed(lua, try Tensor.cat(tensors, dim: d))
      },
      "stack": { lua in
        let tensors = try nonEmptyList(lua, "stack")
        let d = lua.isNoneOrNil(2) ? 0 : try newDimension(lua, 2, rank: tensors[0].rank, "stack")
        return TensorLibrary.pushed(lua, try Tensor.stack(tensors, dim: d))
      },
      "where": { lua in
        let condition = try lua.tensor(1, "where")
        func operand(_ i: Int32) throws -> Tensor {
          if lua.type(i) == LUA_TNUMBER { return Tensor(scalar: Float(try lua.number(i, "where"))) }
          return try lua.tensor(i, "where")
        }
        return TensorLibrary.pushed(
          lua, try Tensor.where(condition, try operand(2), try operand(3)))
      },
    ]
  }

  // MARK: Argument helpers

  /// t, dimension, index and source of t:scatter_add(d, index, src).
  static func scatterArguments(_ lua: Lua, _ fn: String) throws -> (Tensor, Int, Tensor, Tensor) {
    let t = try lua.tensor(1, fn)
    let d = try TensorLibrary.dimension(lua, 2, of: t, fn)
    return (t, d, try indexTensor(lua, 3, below: t.shape[d], fn), try lua.tensor(4, fn))
  }

  /// A 1-based index tensor checked against 1..bound, returned 0-based.
  static func indexTensor(_ lua: Lua, _ i: Int32, below bound: Int, _ fn: String) throws -> Tensor {
    let given = try lua.tensor(i, fn)
    let index = Autograd.noGrad { given.add(-1) }
    try Tensor.checkIndices(index, below: bound, op: fn, base: 1)
    return index
  }

  /// Dimensions given as numbers (d1, d2, …) or as one table.
  static func dimensions(_ lua: Lua, of t: Tensor, _ fn: String) throws -> [Int] {
    let raw =
      lua.type(2) == LUA_TTABLE
      ? try lua.integerList(2, fn) : try (2...Swift.max(2, lua.top)).map { try lua.integer($0, fn) }
    return try raw.map { d in
      guard let z = zeroBased(d, count: t.rank) else {
        throw LuaError(
          "\(fn): dimension \(d) out of range for a tensor of shape \(describeShape(t.shape)) (expected 1..\(t.rank) or -\(t.rank)..-1)"
        )
      }
      return z
    }
  }

  /// Dimension argument `i`, 1 when absent.
  static func optDimension(_ lua: Lua, _ i: Int32, of t: Tensor, _ fn: String) throws -> Int {
    lua.isNoneOrNil(i) ? 0 : try TensorLibrary.dimension(lua, i, of: t, fn)
  }

  /// Where a new dimension goes in a result of rank + 1 (unsqueeze, stack): 1 … rank + 1,
  /// or negative from the end of the result.
  static func newDimension(_ lua: Lua, _ i: Int32, rank: Int, _ fn: String) throws -> Int {
    let d = try lua.integer(i, fn)
    let r = rank + 1
    guard let z = zeroBased(d, count: r) else {
      throw LuaError("\(fn): dimension \(d) out of range (expected 1..\(r) or -\(r)..-1)")
    }
    return z
  }

  static func nonEmptyList(_ lua: Lua, _ fn: String) throws -> [Tensor] {
    let tensors = try TensorLibrary.tensorList(lua, 1, fn)
    guard !tensors.isEmpty else { throw LuaError("\(fn): expected a non-empty list of tensors") }
    return tensors
  }

  /// Pushes a Lua list of the tensors.
  static func pushedList(_ lua: Lua, _ tensors: [Tensor], _ fn: String) throws -> Int32 {
    try TensorLibrary.reserveStack(lua, 2, fn)
    lua.newTable(array: tensors.count)
    for (k, t) in tensors.enumerated() {
      lua.push(t)
      lua.setIndex(-2, k + 1)
    }
    return 1
  }
}
