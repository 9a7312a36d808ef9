import CLua
import LuaShim
import MoonlabNN
import MoonlabTensor

extension LuaClass {
  /// Every module and loss, built-in or Lua-defined, is this one class in Lua.
  public static let module = LuaClass("moonlab.Module")
}

/// The `nn` library (docs/nn.md): module and loss constructors, `nn.init.*`,
/// `nn.summary`, `nn.load`, and the Lua extension points `nn.define` and `nn.Function`.
/// Lua counts from 1: Softmax's dimension and CrossEntropyLoss's labels are converted here.
enum NNLibrary {
  static func install(_ host: LuaHost) throws {
    host.register(.module, NNModuleClass.spec(host))
    var functions = constructors().merging(LossLibrary.constructors()) { a, _ in a }
      .merging(NNLayerBindings.constructors()) { a, _ in a }
    functions["define"] = LuaModule.define(host)
    functions["Function"] = LuaFunctionOp.make(host)
    functions["summary"] = { [unowned host] lua in
      let m = try module(lua, 1, "summary")
      let shape = try lua.integerList(2, "summary")
      let text = try host.withCallbackThread(lua.L) { try m.summary(inputShape: shape) }
      // Printed through Lua's own print, so a host that redirects output sees it.
      try TensorLibrary.reserveStack(lua, 2, "summary")
      if lua_getglobal(lua.L, "print") == LUA_TFUNCTION {
        lua.push(text)
        try TensorLibrary.protectedCall(lua, arguments: 1, results: 0)
      } else {
        lua.pop()
      }
      lua.push(text)
      return 1
    }
    functions["load"] = { lua in
      let tensors = try Checkpoint.read(path: try lua.filePath(1, "load"))
      lua.newTable(hash: tensors.count)
      for (name, t) in tensors {
        lua.push(t)
        lua.setField(-2, name)
      }
      return 1
    }
    host.registerLibrary("nn", functions)
    host.libraryTable("nn")
    let lua = Lua(host.state)
    lua.newTable(hash: 5)
    for (name, f) in initializers().merging(whiteningInitializer(), uniquingKeysWith: { a, _ in a })
    {
      lua.push(function: "nn.init.\(name)", f)
      lua.setField(-2, name)
    }
    lua.setField(-2, "init")
    lua.pop()
  }

  static func module(_ lua: Lua, _ i: Int32, _ fn: String) throws -> Module {
    try lua.object(i, .module, as: Module.self, fn)
  }

  static func pushed(_ lua: Lua, _ m: Module) -> Int32 {
    lua.push(m, as: .module)
    return 1
  }

  /// Options table at `i` (absent is fine).
  /// The index of an optional options table, after checking its keys.
  static func options(_ lua: Lua, _ i: Int32, _ fn: String, allowed: Set<String>) throws -> Int32 {
    try lua.checkOptions(i, fn, allowed: allowed)
    return i
  }

  static func constructors() -> [String: LuaFunction] {
    [
      "Linear": { lua in
        let o = try options(lua, 3, "Linear", allowed: ["bias"])
        return pushed(
          lua,
          try Linear(
            try lua.integer(1, "Linear"), try lua.integer(2, "Linear"),
            bias: try lua.booleanOption(o, "bias", "Linear") ?? true))
      },
      "Conv2d": { lua in
        let fn = "Conv2d"
        let o = try options(lua, 4, fn, allowed: ["stride", "padding", "bias"])
        return pushed(
          lua,
          try Conv2d(
            try lua.integer(1, fn), try lua.integer(2, fn), kernelSize: try lua.integer(3, fn),
            stride: try lua.integerOption(o, "stride", fn) ?? 1,
            padding: try lua.integerOption(o, "padding", fn) ?? 0,
            bias: try lua.booleanOption(o, "bias", fn) ?? true))
      },
      "MaxPool2d": { lua in
        let k = try lua.integer(1, "MaxPool2d")
        return pushed(
          lua, try MaxPool2d(k, stride: lua.isNoneOrNil(2) ? nil : try lua.integer(2, "MaxPool2d")))
      },
      "AvgPool2d": { lua in
        let k = try lua.integer(1, "AvgPool2d")
        return pushed(
          lua, try AvgPool2d(k, stride: lua.isNoneOrNil(2) ? nil : try lua.integer(2, "AvgPool2d")))
      },
      "BatchNorm1d": { lua in
        let (n, momentum, eps) = try batchNormArguments(lua, "BatchNorm1d")
        return pushed(lua, try BatchNorm1d(n, momentum: momentum, eps: eps))
      },
      "BatchNorm2d": { lua in
        let (n, momentum, eps) = try batchNormArguments(lua, "BatchNorm2d")
        return pushed(lua, try BatchNorm2d(n, momentum: momentum, eps: eps))
      },
      "ReLU": { lua in pushed(lua, ReLU()) },
      "Sigmoid": { lua in pushed(lua, Sigmoid()) },
      "Tanh": { lua in pushed(lua, Tanh()) },
      "Softmax": { lua in
        // 1-based like every Lua dimension; negative counts from the end (-1 = last).
        let d = try lua.integer(1, "Softmax")
        guard d != 0 else {
          throw LuaError(
            "bad argument #1 to 'Softmax' (dimension 0 does not exist; dimensions count from 1)")
        }
        return pushed(lua, Softmax(dim: d > 0 ? d - 1 : d))
      },
      "Dropout": { lua in pushed(lua, try Dropout(Float(try lua.optNumber(1, "Dropout", 0.5)))) },
      "Flatten": { lua in pushed(lua, Flatten()) },
      "Identity": { lua in pushed(lua, Identity()) },
      "MulConstant": { lua in pushed(lua, try MulConstant(Float(try lua.number(1, "MulConstant"))))
      },
      "Sequential": { lua in
        let seq = Sequential()
        if try lua.optTable(1, "Sequential") {
          for k in stride(from: 1, through: lua.rawLength(1), by: 1) {
            lua.rawIndex(1, k)
            defer { lua.pop() }
            guard let m = lua.anyObject(-1) as? Module else {
              throw LuaError(
                "Sequential: element \(k) of the table is a \(lua.typeName(-1)), expected Module")
            }
            seq.add(m)
          }
        }
        return pushed(lua, seq)
      },
      "Residual": { lua in
        let block = try module(lua, 1, "Residual")
        let shortcut = lua.isNoneOrNil(2) ? nil : try module(lua, 2, "Residual")
        let o = try options(lua, 3, "Residual", allowed: ["relu"])
        return pushed(
          lua,
          Residual(
            block, shortcut: shortcut, relu: try lua.booleanOption(o, "relu", "Residual") ?? false))
      },
      "RNN": { lua in
        let o = try options(lua, 3, "RNN", allowed: ["nonlinearity", "num_layers", "batch_first"])
        let name = try lua.stringOption(o, "nonlinearity", "RNN") ?? "tanh"
        guard let nonlinearity = RNN.Nonlinearity(rawValue: name) else {
          throw LuaError("RNN: option 'nonlinearity' must be 'tanh' or 'relu', got '\(name)'")
        }
        return pushed(
          lua,
          try RNN(
            try lua.integer(1, "RNN"), try lua.integer(2, "RNN"), nonlinearity: nonlinearity,
            numLayers: try lua.integerOption(o, "num_layers", "RNN") ?? 1,
            batchFirst: try lua.booleanOption(o, "batch_first", "RNN") ?? false))
      },
      "BCELoss": { lua in pushed(lua, BCELoss()) },
      "BCEWithLogitsLoss": { lua in pushed(lua, BCEWithLogitsLoss()) },
      "MSELoss": { lua in pushed(lua, MSELoss()) },
    ]
  }

  static func batchNormArguments(_ lua: Lua, _ fn: String) throws -> (Int, Float, Float) {
    let o = try options(lua, 2, fn, allowed: ["momentum", "eps"])
    return (
      try lua.integer(1, fn), Float(try lua.numberOption(o, "momentum", fn) ?? 0.1),
      Float(try lua.numberOption(o, "eps", fn) ?? 1e-5)
    )
  }

  /// `nn.init.*(t, …)`: fill t in place and return it.
  static func initializers() -> [String: LuaFunction] {
    func filling(_ name: String, _ fill: @escaping (Lua, Tensor) throws -> Void) -> LuaFunction {
      return { lua in
        let t = try lua.tensor(1, name)
        try t.checkWritable(op: "nn.init." + name)
        try fill(lua, t)
        lua.push(t)
        return 1
      }
    }
    return [
      "normal": filling("normal") { lua, t in
        Init.normal(t, std: Float(try lua.optNumber(2, "normal", 1)))
      },
      "msra": filling("msra") { _, t in try Init.msra(t) },
      "xavier": filling("xavier") { _, t in try Init.xavier(t) },
      "zeros": filling("zeros") { _, t in Init.zeros(t) },
      "constant": filling("constant") { lua, t in
        Init.constant(t, Float(try lua.number(2, "constant")))
      },
      // dirac(w): w[i, i, centre] = 1, zeros elsewhere; w may be a view of a weight.
      "dirac": filling("dirac") { _, t in try Init.dirac(t) },
    ]
  }

  /// `nn.init.patch_whitening(conv, images [, {eps = 5e-4}])`: airbench's whitening
  /// weights for a Conv2d from the patches of `images` (Init.patchWhitening); returns conv.
  static func whiteningInitializer() -> [String: LuaFunction] {
    [
      "patch_whitening": { lua in
        let fn = "patch_whitening"
        guard let conv = try module(lua, 1, fn) as? Conv2d else {
          throw LuaError(
            "bad argument #1 to '\(fn)' (Conv2d expected, got \(try module(lua, 1, fn).typeName))")
        }
        let images = try lua.tensor(2, fn)
        let o = try options(lua, 3, fn, allowed: ["eps"])
        try Init.patchWhitening(
          conv, images: images, eps: try lua.numberOption(o, "eps", fn) ?? 5e-4)
        lua_pushvalue(lua.L, 1)
        return 1
      }
    ]
  }
}
