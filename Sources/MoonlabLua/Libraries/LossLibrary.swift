import MoonlabNN
import MoonlabTensor

/// Loss constructors with options (docs/nn.md "Losses"), merged into the `nn` library:
///
///     nn.CrossEntropyLoss{label_smoothing = 0.1, weight = tensor.from{1, 2, 1}}
///     nn.NLLLoss{weight = w}  nn.SmoothL1Loss{beta = 0.5}  nn.HuberLoss{delta = 2}
///     nn.KLDivLoss{reduction = 'batchmean', log_target = false}
///
/// `reduction` is 'mean' (default), 'sum' or 'none' ('batchmean' too for KLDivLoss).
enum LossLibrary {
  static func constructors() -> [String: LuaFunction] {
    [
      "CrossEntropyLoss": loss("CrossEntropyLoss", ["weight", "label_smoothing"]) { lua, fn, r in
        try CrossEntropyLoss(
          weight: try weight(lua, fn),
          labelSmoothing: Float(try lua.numberOption(1, "label_smoothing", fn) ?? 0), reduction: r)
      },
      "NLLLoss": loss("NLLLoss", ["weight"]) { lua, fn, r in
        try NLLLoss(weight: try weight(lua, fn), reduction: r)
      },
      "SmoothL1Loss": loss("SmoothL1Loss", ["beta"]) { lua, fn, r in
        try SmoothL1Loss(beta: Float(try lua.numberOption(1, "beta", fn) ?? 1), reduction: r)
      },
      "HuberLoss": loss("HuberLoss", ["delta"]) { lua, fn, r in
        try HuberLoss(delta: Float(try lua.numberOption(1, "delta", fn) ?? 1), reduction: r)
      },
      "KLDivLoss": loss("KLDivLoss", ["log_target"]) { lua, fn, r in
        KLDivLoss(reduction: r, logTarget: try lua.booleanOption(1, "log_target", fn) ?? false)
      },
    ]
  }

  /// `nn.<fn>([options])`: checks the option keys (plus `reduction`) and reads the
  /// reduction before `make` reads the rest of the options table (argument 1).
  static func loss(
    _ fn: String, _ options: Set<String>, _ make: @escaping (Lua, String, Reduction) throws -> Loss
  ) -> LuaFunction {
    { lua in
      try lua.checkOptions(1, fn, allowed: options.union(["reduction"]))
      let name = try lua.stringOption(1, "reduction", fn) ?? "mean"
      guard let reduction = Reduction(rawValue: name) else {
        throw LuaError("\(fn): option 'reduction' must be 'mean', 'sum' or 'none', got '\(name)'")
      }
      return NNLibrary.pushed(lua, try make(lua, fn, reduction))
    }
  }

  static func weight(_ lua: Lua, _ fn: String) throws -> Tensor? {
    try lua.option(1, "weight", fn) { try lua.tensor($0, fn) }
  }
}
