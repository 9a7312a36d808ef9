import CLua
import LuaShim
import MoonlabNN
import MoonlabTensor

/// Lua constructors, calls and methods of the layers and containers of docs/nn.md
/// "Embedding, normalisation, activations", "LSTM and GRU" and "Containers, sharing and
/// freezing". Indices and dimensions are 1-based in Lua and converted here.
enum NNLayerBindings {
  static func constructors() -> [String: LuaFunction] {
    [
      "GELU": { lua in
        let o = try NNLibrary.options(lua, 1, "GELU", allowed: ["approximate"])
        let mode = try lua.stringOption(o, "approximate", "GELU") ?? "none"
        guard mode == "none" || mode == "tanh" else {
          throw LuaError("GELU: option 'approximate' must be 'none' or 'tanh', got '\(mode)'")
        }
        return NNLibrary.pushed(lua, GELU(approximate: mode == "tanh"))
      },
      "SiLU": { lua in NNLibrary.pushed(lua, SiLU()) },
      "LeakyReLU": { lua in
        NNLibrary.pushed(lua, LeakyReLU(slope: Float(try lua.optNumber(1, "LeakyReLU", 0.01))))
      },
      "ELU": { lua in NNLibrary.pushed(lua, ELU(alpha: Float(try lua.optNumber(1, "ELU", 1)))) },
      "Softplus": { lua in
        let o = try NNLibrary.options(lua, 1, "Softplus", allowed: ["beta", "threshold"])
        return NNLibrary.pushed(
          lua,
          Softplus(
            beta: Float(try lua.numberOption(o, "beta", "Softplus") ?? 1),
            threshold: Float(try lua.numberOption(o, "threshold", "Softplus") ?? 20)))
      },
      "LogSoftmax": { lua in
        let d = try lua.integer(1, "LogSoftmax")
        guard d != 0 else {
          throw LuaError(
            "bad argument #1 to 'LogSoftmax' (dimension 0 does not exist; dimensions count from 1)"
          )
        }
        return NNLibrary.pushed(lua, LogSoftmax(dim: d > 0 ? d - 1 : d))
      },
      "Embedding": { lua in
        let fn = "Embedding"
        let o = try NNLibrary.options(lua, 3, fn, allowed: ["padding_idx"])
        let count = try lua.integer(1, fn)
        var padding = try lua.integerOption(o, "padding_idx", fn)
        if let p = padding {
          // 1-based like the indices; negative counts from the end, as PyTorch's.
          guard p != 0, abs(p) <= count else {
            throw LuaError("Embedding: padding_idx \(p) is not in 1..\(count) (or -\(count)..-1)")
          }
          padding = p > 0 ? p - 1 : count + p
        }
        return NNLibrary.pushed(
          lua, try Embedding(count, try lua.integer(2, fn), paddingIndex: padding))
      },
      "LayerNorm": { lua in
        let fn = "LayerNorm"
        let o = try NNLibrary.options(lua, 2, fn, allowed: ["eps", "elementwise_affine"])
        let shape =
          lua.type(1) == LUA_TTABLE ? try lua.integerList(1, fn) : [try lua.integer(1, fn)]
        return NNLibrary.pushed(
          lua,
          try LayerNorm(
            shape, eps: Float(try lua.numberOption(o, "eps", fn) ?? 1e-5),
            elementwiseAffine: try lua.booleanOption(o, "elementwise_affine", fn) ?? true))
      },
      "GroupNorm": { lua in
        let fn = "GroupNorm"
        let o = try NNLibrary.options(lua, 3, fn, allowed: ["eps", "affine"])
        return NNLibrary.pushed(
          lua,
          try GroupNorm(
            try lua.integer(1, fn), try lua.integer(2, fn),
            eps: Float(try lua.numberOption(o, "eps", fn) ?? 1e-5),
            affine: try lua.booleanOption(o, "affine", fn) ?? true))
      },
      "AdaptiveAvgPool2d": { lua in
        let fn = "AdaptiveAvgPool2d"
        let size = lua.type(1) == LUA_TTABLE ? try lua.integerList(1, fn) : [try lua.integer(1, fn)]
        guard size.count == 1 || size.count == 2 else {
          throw LuaError(
            "AdaptiveAvgPool2d: output size must be n or {h, w}, got \(size.count) numbers")
        }
        return NNLibrary.pushed(lua, try AdaptiveAvgPool2d(size[0], size.last!))
      },
      "Dropout2d": { lua in
        NNLibrary.pushed(lua, try Dropout2d(Float(try lua.optNumber(1, "Dropout2d", 0.5))))
      },
      "Upsample": { lua in
        let fn = "Upsample"
        let o = try NNLibrary.options(lua, 1, fn, allowed: ["scale_factor", "mode"])
        let mode = try lua.stringOption(o, "mode", fn) ?? "nearest"
        guard mode == "nearest" else {
          throw LuaError("Upsample: only mode 'nearest' is supported, got '\(mode)'")
        }
        guard let scale = try lua.numberOption(o, "scale_factor", fn) else {
          throw LuaError("Upsample: option 'scale_factor' is required")
        }
        return NNLibrary.pushed(lua, try Upsample(scaleFactor: scale))
      },
      "Conv1d": { lua in
        let fn = "Conv1d"
        let o = try NNLibrary.options(lua, 4, fn, allowed: ["stride", "padding", "bias"])
        return NNLibrary.pushed(
          lua,
          try Conv1d(
            try lua.integer(1, fn), try lua.integer(2, fn), kernelSize: try lua.integer(3, fn),
            stride: try lua.integerOption(o, "stride", fn) ?? 1,
            padding: try lua.integerOption(o, "padding", fn) ?? 0,
            bias: try lua.booleanOption(o, "bias", fn) ?? true))
      },
      "ConvTranspose2d": { lua in
        let fn = "ConvTranspose2d"
        let o = try NNLibrary.options(
          lua, 4, fn, allowed: ["stride", "padding", "output_padding", "bias"])
        return NNLibrary.pushed(
          lua,
          try ConvTranspose2d(
            try lua.integer(1, fn), try lua.integer(2, fn), kernelSize: try lua.integer(3, fn),
            stride: try lua.integerOption(o, "stride", fn) ?? 1,
            padding: try lua.integerOption(o, "padding", fn) ?? 0,
            outputPadding: try lua.integerOption(o, "output_padding", fn) ?? 0,
            bias: try lua.booleanOption(o, "bias", fn) ?? true))
      },
      "LSTM": recurrent("LSTM") { try LSTM($0, $1, numLayers: $2, batchFirst: $3) },
      "GRU": recurrent("GRU") { try GRU($0, $1, numLayers: $2, batchFirst: $3) },
      "ModuleList": { lua in
        let list = ModuleList()
        if try lua.optTable(1, "ModuleList") {
          for k in stride(from: 1, through: lua.rawLength(1), by: 1) {
            lua.rawIndex(1, k)
            defer { lua.pop() }
            guard let m = lua.anyObject(-1) as? Module else {
              throw LuaError(
                "ModuleList: element \(k) of the table is a \(lua.typeName(-1)), expected Module")
            }
            list.append(m)
          }
        }
        return NNLibrary.pushed(lua, list)
      },
      "ModuleDict": { lua in
        var entries: [(name: String, module: Module)] = []
        if try lua.optTable(1, "ModuleDict") {
          lua.pushNil()
          while lua_next(lua.L, 1) != 0 {
            defer { lua.pop() }
            guard lua.type(-2) == LUA_TSTRING, let m = lua.anyObject(-1) as? Module else {
              let key =
                lua.type(-2) == LUA_TSTRING
                ? "'\(try lua.string(-2, "ModuleDict"))'" : "a \(lua.typeName(-2)) key"
              throw LuaError(
                "ModuleDict: entry \(key) is a \(lua.typeName(-1)); expected name = Module")
            }
            entries.append((try lua.string(-2, "ModuleDict"), m))
          }
        }
        // A Lua table has no order: entries are registered by name, sorted.
        return NNLibrary.pushed(lua, try ModuleDict(entries.sorted { $0.name < $1.name }))
      },
    ]
  }

  static func recurrent(
    _ fn: String, _ make: @escaping (Int, Int, Int, Bool) throws -> Module
  ) -> LuaFunction {
    { lua in
      let o = try NNLibrary.options(lua, 3, fn, allowed: ["num_layers", "batch_first"])
      return NNLibrary.pushed(
        lua,
        try make(
          try lua.integer(1, fn), try lua.integer(2, fn),
          try lua.integerOption(o, "num_layers", fn) ?? 1,
          try lua.booleanOption(o, "batch_first", fn) ?? false))
    }
  }

  /// `out, h, c = lstm(x [, h0, c0])` (or `lstm(x, {h0, c0})`), `out, h = gru(x [, h0])`,
  /// and `emb(indices)` with 1-based indices; nil for every other module.
  static func call(_ lua: Lua, _ m: Module) throws -> Int32? {
    switch m {
    case let rnn as RecurrentStack:
      let x = try lua.tensor(2, rnn.typeName)
      var states: [Tensor] = []
      if lua.type(3) == LUA_TTABLE {
        for k in 1...rnn.stateCount {
          lua.rawIndex(3, k)
          defer { lua.pop() }
          guard let t = lua.anyObject(-1) as? Tensor else {
            throw LuaError(
              "\(rnn.typeName): element \(k) of the state table is a \(lua.typeName(-1)), expected Tensor"
            )
          }
          states.append(t)
        }
      } else if !lua.isNoneOrNil(3) {
        states = try (0..<Int32(rnn.stateCount)).map { try lua.tensor(3 + $0, rnn.typeName) }
      }
      let outputs = try rnn.forward(x, states: states)
      for t in outputs { lua.push(t) }
      return Int32(outputs.count)
    case let embedding as Embedding:
      lua.push(try embedding(try zeroBasedIndices(try lua.tensor(2, "Embedding"), embedding.count)))
      return 1
    default:
      return nil
    }
  }

  /// Indices 1…n from Lua → 0…n−1, checked here so the message speaks Lua's numbering.
  static func zeroBasedIndices(_ indices: Tensor, _ n: Int) throws -> Tensor {
    let out = Tensor(zeros: indices.shape)
    for i in 0..<indices.count {
      let v = indices.data[i]
      guard let k = Int(exactly: v), k >= 1, k <= n else {
        throw LuaError("Embedding: index \(v) at position \(i + 1) is not in 1..\(n)")
      }
      out.data[i] = Float(k - 1)
    }
    return out
  }

  static func methods() -> [String: LuaFunction] {
    [
      "freeze": returningSelf("freeze") { $0.freeze() },
      "unfreeze": returningSelf("unfreeze") { $0.unfreeze() },
      "append": append("append"),
    ]
  }

  /// `m:freeze()` and friends: do `body` to the module and return it, for chaining.
  static func returningSelf(_ fn: String, _ body: @escaping (Module) -> Void) -> LuaFunction {
    { lua in
      body(try NNLibrary.module(lua, 1, fn))
      lua_settop(lua.L, 1)
      return 1
    }
  }

  /// `seq:add(m)` / `list:append(m)` (either name on either container), returning it.
  static func append(_ fn: String) -> LuaFunction {
    { lua in
      let container = try NNLibrary.module(lua, 1, fn)
      guard container is Sequential || container is ModuleList else {
        throw LuaError(
          "\(fn): only a Sequential or ModuleList takes new modules, got \(lua.typeName(1))")
      }
      let child = try NNLibrary.module(lua, 2, fn)
      try container.checkCanAdopt(child, fn)
      (container as? Sequential)?.add(child)
      (container as? ModuleList)?.append(child)
      lua_settop(lua.L, 1)
      return 1
    }
  }
}
