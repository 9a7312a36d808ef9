import CLua
import LuaShim
import MoonlabNN
import MoonlabTensor

/// The Module class as Lua sees it (docs/nn.md): `m(x)`, `loss(logits, y)`, and the
/// methods below; `m.weight`, `m.training`, a child by name, and on nn.define modules any
/// field the script set on `self`.
enum NNModuleClass {
  static func spec(_ host: LuaHost) -> LuaClassSpec {
    var spec = LuaClassSpec()
    let call = self.call(host)
    spec.methods = methods().merging(NNLayerBindings.methods()) { old, _ in old }
    spec.methods["forward"] = call
    // m[i]: the i-th child (1-based), as m:get(i) — PyTorch's seq[i] / list[i].
    spec.getKey = spec.methods["get"]
    spec.metamethods = [
      "__call": call,
      "__tostring": { lua in
        lua.push(try NNLibrary.module(lua, 1, "tostring").treeDescription)
        return 1
      },
      "__len": { lua in
        lua.push(try NNLibrary.module(lua, 1, "__len").children.count)
        return 1
      },
    ]
    spec.getField = { lua, key in
      let m = try NNLibrary.module(lua, 1, "__index")
      if key == "training" {
        lua.push(m.training)
      } else if let p = m.parameterSlots.first(where: { $0.name == key }) {
        lua.push(p.tensor)
      } else if let b = m.bufferSlots.first(where: { $0.name == key }) {
        lua.push(b.tensor)
      } else if let c = m.children.first(where: { $0.name == key }) {
        lua.push(c.module, as: .module)
      } else if let lm = m as? LuaModule {
        lm.fields.push(lua.L)
        lua.rawField(-1, key)
        lua_rotate(lua.L, -2, 1)
        lua.pop()
      } else {
        return 0
      }
      return 1
    }
    spec.setField = { lua, key in
      let m = try NNLibrary.module(lua, 1, "__newindex")
      guard let lm = m as? LuaModule else {
        throw LuaError(
          "\(m.typeName): can't set field '\(key)' (only nn.define modules take new fields)")
      }
      lm.fields.push(lua.L)
      lua_pushvalue(lua.L, 3)
      lua.setField(-2, key)
      lua.pop()
    }
    return spec
  }

  /// `m(x)` / `m:forward(x)`; a loss takes `(input, target)`, and a class-label loss's
  /// (CrossEntropyLoss, NLLLoss) 1-based labels become the 0-based classes Swift uses.
  static func call(_ host: LuaHost) -> LuaFunction {
    { [unowned host] lua in
      let m = try NNLibrary.module(lua, 1, "forward")
      if let results = try NNLayerBindings.call(lua, m) { return results }
      let x = try lua.tensor(2, m.typeName)
      let y: Tensor = try host.withCallbackThread(lua.L) {
        guard let loss = m as? Loss else { return try m.forward(x) }
        var target = try lua.tensor(3, m.typeName)
        if loss is ClassLabelLoss { target = try zeroBasedLabels(target, logits: x, loss.typeName) }
        return try loss.forward(x, target)
      }
      lua.push(y)
      return 1
    }
  }

  /// Labels 1…C from Lua → 0…C−1; checked here so the message speaks Lua's numbering.
  static func zeroBasedLabels(_ labels: Tensor, logits: Tensor, _ op: String) throws -> Tensor {
    let classes = logits.rank == 2 ? logits.shape[1] : Int.max
    let out = Tensor(zeros: labels.shape)
    for i in 0..<labels.count {
      let v = labels.data[i]
      guard let k = Int(exactly: v), k >= 1, k <= classes else {
        throw LuaError(
          "\(op): label \(v) of sample \(i + 1) is not a class in 1..\(classes)")
      }
      out.data[i] = Float(k - 1)
    }
    return out
  }

  /// Pushes `tensors` as a list, or as a table by name iterated in order by pairs().
  static func pushTensors(_ lua: Lua, _ tensors: [(name: String, tensor: Tensor)], named: Bool)
    -> Int32
  {
    lua.newTable(array: named ? 0 : tensors.count, hash: named ? tensors.count : 0)
    for (k, (name, t)) in tensors.enumerated() {
      lua.push(t)
      if named { lua.setField(-2, name) } else { lua.setIndex(-2, k + 1) }
    }
    if named { lua.setOrderedPairs(-1, keys: tensors.map(\.name)) }
    return 1
  }

  static func methods() -> [String: LuaFunction] {
    [
      "parameters": { lua in
        pushTensors(lua, try NNLibrary.module(lua, 1, "parameters").namedParameters(), named: false)
      },
      "named_parameters": { lua in
        pushTensors(
          lua, try NNLibrary.module(lua, 1, "named_parameters").namedParameters(), named: true)
      },
      // Running statistics and counters (BatchNorm's), as PyTorch's buffers().
      "buffers": { lua in
        pushTensors(lua, try NNLibrary.module(lua, 1, "buffers").namedBuffers(), named: false)
      },
      "named_buffers": { lua in
        pushTensors(lua, try NNLibrary.module(lua, 1, "named_buffers").namedBuffers(), named: true)
      },
      "num_parameters": { lua in
        lua.push(try NNLibrary.module(lua, 1, "num_parameters").numParameters)
        return 1
      },
      "train": { lua in
        try NNLibrary.module(lua, 1, "train").train(try lua.optBoolean(2, "train", true))
        lua_settop(lua.L, 1)
        return 1
      },
      "eval": { lua in
        try NNLibrary.module(lua, 1, "eval").eval()
        lua_settop(lua.L, 1)
        return 1
      },
      "zero_grad": { lua in
        try NNLibrary.module(lua, 1, "zero_grad").zeroGrad()
        return 0
      },
      "save": { lua in
        try Checkpoint.save(try NNLibrary.module(lua, 1, "save"), to: try lua.filePath(2, "save"))
        return 0
      },
      "load": { lua in
        try Checkpoint.load(
          into: try NNLibrary.module(lua, 1, "load"), from: try lua.filePath(2, "load"))
        lua_settop(lua.L, 1)
        return 1
      },
      // fn(m) for every module, children before parents (PyTorch's order).
      "apply": { lua in
        let root = try NNLibrary.module(lua, 1, "apply")
        try TensorLibrary.checkFunction(lua, 2, "apply")
        func postOrder(_ m: Module) -> [Module] {
          m.children.flatMap { postOrder($0.module) } + [m]
        }
        for m in postOrder(root) {
          try TensorLibrary.reserveStack(lua, 2, "apply")
          lua_pushvalue(lua.L, 2)
          lua.push(m, as: .module)
          try TensorLibrary.protectedCall(lua, arguments: 1, results: 0)
        }
        lua_settop(lua.L, 1)
        return 1
      },
      "add": NNLayerBindings.append("add"),
      // The i-th child (1-based), e.g. a Sequential's first Conv2d.
      "get": { lua in
        let m = try NNLibrary.module(lua, 1, "get")
        let i = try lua.integer(2, "get")
        guard i >= 1, i <= m.children.count else {
          throw LuaError(
            "get: index \(i) out of range (\(m.typeName) has \(m.children.count) children)")
        }
        return NNLibrary.pushed(lua, m.children[i - 1].module)
      },
      "param": registration("param") { m, name, lua in
        lua.push(m.param(name, try lua.tensor(3, "param")))
      },
      "buffer": registration("buffer") { m, name, lua in
        lua.push(m.buffer(name, try lua.tensor(3, "buffer")))
      },
      "module": registration("module") { m, name, lua in
        let child = try NNLibrary.module(lua, 3, "module")
        try m.checkCanAdopt(child, "module")
        lua.push(m.module(name, child), as: .module)
      },
    ]
  }

  /// `self:param(name, t)` and friends, for nn.define modules; they return what they
  /// registered. A name is registered once (as PyTorch's register_parameter): a second
  /// `param('w', …)` would silently drop the first tensor from the state dict.
  static func registration(_ fn: String, _ body: @escaping (Module, String, Lua) throws -> Void)
    -> LuaFunction
  {
    return { lua in
      let m = try NNLibrary.module(lua, 1, fn)
      guard m is LuaModule else {
        throw LuaError(
          "\(fn): only modules made with nn.define register \(fn)s from Lua, not \(m.typeName)")
      }
      let name = try lua.string(2, fn)
      let taken =
        m.parameterSlots.contains { $0.name == name } || m.bufferSlots.contains { $0.name == name }
        || m.children.contains { $0.name == name }
      if taken {
        throw LuaError("\(fn): '\(name)' is already registered in \(m.typeName)")
      }
      try body(m, name, lua)
      return 1
    }
  }
}
