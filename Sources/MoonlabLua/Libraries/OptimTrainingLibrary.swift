import CLua
import MoonlabNN
import MoonlabTensor

extension LuaClass {
  public static let plateau = LuaClass("moonlab.ReduceLROnPlateau")
  public static let ema = LuaClass("moonlab.EMA")
  public static let lookahead = LuaClass("moonlab.Lookahead")
}

/// The optimizers beyond SGD and Adam (RMSprop, Adagrad), the schedules beyond the step
/// and cosine ones (ExponentialLR, LinearLR, OneCycleLR, SequentialLR) and the training
/// helpers of the `optim` library (docs/optim.md): weight averaging (`optim.EMA`), gradient clipping
/// (PyTorch's `torch.nn.utils.clip_grad_norm_` / `clip_grad_value_`, here in `optim`) and
/// `optim.ReduceLROnPlateau`, stepped with a metric.
///
///     loss:backward()
///     local norm = optim.clip_grad_norm(model:parameters(), 1.0)
///     opt:step()
///     plateau:step(val_loss)
enum OptimTrainingLibrary {
  static func install(_ host: LuaHost) {
    host.register(.plateau, plateauClass())
    host.register(.ema, emaClass())
    host.register(.lookahead, lookaheadClass())
  }

  static func functions() -> [String: LuaFunction] {
    [
      "RMSprop": OptimLibrary.optimizer(
        "RMSprop", ["lr", "alpha", "eps", "weight_decay", "momentum", "centered"]
      ) { lua, params, o in
        let fn = "RMSprop"
        return try RMSprop(
          params, lr: try lua.numberOption(o, "lr", fn) ?? 0.01,
          alpha: try lua.numberOption(o, "alpha", fn) ?? 0.99,
          eps: try lua.numberOption(o, "eps", fn) ?? 1e-8,
          weightDecay: try lua.numberOption(o, "weight_decay", fn) ?? 0,
          momentum: try lua.numberOption(o, "momentum", fn) ?? 0,
          centered: try lua.booleanOption(o, "centered", fn) ?? false)
      },
      "Adagrad": OptimLibrary.optimizer("Adagrad", ["lr", "lr_decay", "weight_decay", "eps"]) {
        lua, params, o in
        let fn = "Adagrad"
        return try Adagrad(
          params, lr: try lua.numberOption(o, "lr", fn) ?? 0.01,
          lrDecay: try lua.numberOption(o, "lr_decay", fn) ?? 0,
          weightDecay: try lua.numberOption(o, "weight_decay", fn) ?? 0,
          eps: try lua.numberOption(o, "eps", fn) ?? 1e-10)
      },
      "ExponentialLR": OptimLibrary.schedule("ExponentialLR", options: ["gamma"]) { lua, opt, fn in
        try ExponentialLR(
          opt, gamma: try OptimLibrary.required(try lua.numberOption(2, "gamma", fn), "gamma", fn))
      },
      "LinearLR": OptimLibrary.schedule(
        "LinearLR", options: ["start_factor", "end_factor", "total_iters"]
      ) { lua, opt, fn in
        try LinearLR(
          opt, startFactor: try lua.numberOption(2, "start_factor", fn) ?? 1.0 / 3,
          endFactor: try lua.numberOption(2, "end_factor", fn) ?? 1,
          totalIters: try lua.integerOption(2, "total_iters", fn) ?? 5)
      },
      "OneCycleLR": OptimLibrary.schedule(
        "OneCycleLR",
        options: [
          "max_lr", "total_steps", "epochs", "steps_per_epoch", "pct_start", "anneal_strategy",
          "div_factor", "final_div_factor", "three_phase",
        ]
      ) { lua, opt, fn in
        // total_steps, or epochs × steps_per_epoch, as in PyTorch.
        var total = try lua.integerOption(2, "total_steps", fn)
        if total == nil, let e = try lua.integerOption(2, "epochs", fn),
          let s = try lua.integerOption(2, "steps_per_epoch", fn)
        {
          total = e * s
        }
        return try OneCycleLR(
          opt,
          maxLR: try OptimLibrary.required(try lua.numberOption(2, "max_lr", fn), "max_lr", fn),
          totalSteps: try OptimLibrary.required(
            total, "total_steps (or epochs and steps_per_epoch)", fn),
          pctStart: try lua.numberOption(2, "pct_start", fn) ?? 0.3,
          anneal: try choice(lua, "anneal_strategy", fn) ?? .cos,
          divFactor: try lua.numberOption(2, "div_factor", fn) ?? 25,
          finalDivFactor: try lua.numberOption(2, "final_div_factor", fn) ?? 1e4,
          threePhase: try lua.booleanOption(2, "three_phase", fn) ?? false)
      },
      // SequentialLR(opt, {schedules…}, {milestones = {…}}): argument 2 is the list.
      "SequentialLR": { lua in
        let fn = "SequentialLR"
        let opt = try lua.object(1, .optimizer, as: Optimizer.self, fn)
        try lua.checkTable(2, fn)
        let schedules = try (0..<lua.rawLength(2)).map { k -> LRSchedule in
          lua.rawIndex(2, k + 1)
          defer { lua.pop() }
          guard let s = lua.anyObject(-1) as? LRSchedule else {
            throw LuaError(
              "bad argument #2 to '\(fn)' (element \(k + 1) is a \(lua.typeName(-1)), expected a schedule)"
            )
          }
          return s
        }
        try lua.checkOptions(3, fn, allowed: ["milestones"], required: true)
        let milestones = try lua.option(3, "milestones", fn) { try lua.integerList($0, fn) }
        lua.push(
          try SequentialLR(
            opt, schedules: schedules,
            milestones: try OptimLibrary.required(milestones, "milestones", fn)),
          as: .scheduler)
        return 1
      },
      // EMA(model or parameter list, decay)
      "EMA": { lua in
        let fn = "EMA"
        let params =
          try (lua.anyObject(1) as? Module)?.parameters() ?? TensorLibrary.tensorList(lua, 1, fn)
        lua.push(try EMA(params, decay: try lua.number(2, fn)), as: .ema)
        return 1
      },
      // Lookahead(model or tensor list): airbench's LookaheadState.
      "Lookahead": { lua in
        let fn = "Lookahead"
        let la =
          try (lua.anyObject(1) as? Module).map { try Lookahead($0) }
          ?? Lookahead(try TensorLibrary.tensorList(lua, 1, fn))
        lua.push(la, as: .lookahead)
        return 1
      },
      "clip_grad_norm": { lua in
        let fn = "clip_grad_norm"
        let params = try TensorLibrary.tensorList(lua, 1, fn)
        let maxNorm = try lua.number(2, fn)
        let normType = try lua.optNumber(3, fn, 2)
        lua.push(try GradClip.byNorm(params, maxNorm: maxNorm, normType: normType))
        return 1
      },
      "clip_grad_value": { lua in
        let fn = "clip_grad_value"
        try GradClip.byValue(TensorLibrary.tensorList(lua, 1, fn), value: try lua.number(2, fn))
        return 0
      },
      "ReduceLROnPlateau": { lua in
        let fn = "ReduceLROnPlateau"
        let opt = try lua.object(1, .optimizer, as: Optimizer.self, fn)
        try lua.checkOptions(
          2, fn,
          allowed: [
            "mode", "factor", "patience", "threshold", "threshold_mode", "cooldown", "min_lr",
            "eps",
          ])
        lua.push(
          try ReduceLROnPlateau(
            opt, mode: try choice(lua, "mode", fn) ?? .min,
            factor: try lua.numberOption(2, "factor", fn) ?? 0.1,
            patience: try lua.integerOption(2, "patience", fn) ?? 10,
            threshold: try lua.numberOption(2, "threshold", fn) ?? 1e-4,
            thresholdMode: try choice(lua, "threshold_mode", fn) ?? .rel,
            cooldown: try lua.integerOption(2, "cooldown", fn) ?? 0,
            minLR: try lua.numberOption(2, "min_lr", fn) ?? 0,
            eps: try lua.numberOption(2, "eps", fn) ?? 1e-8),
          as: .plateau)
        return 1
      },
    ]
  }

  /// A string option of the options table (argument 2) naming one of `T`'s cases.
  static func choice<T: RawRepresentable & CaseIterable>(_ lua: Lua, _ key: String, _ fn: String)
    throws -> T? where T.RawValue == String
  {
    guard let s = try lua.stringOption(2, key, fn) else { return nil }
    guard let v = T(rawValue: s) else {
      let names = T.allCases.map { "'\($0.rawValue)'" }.joined(separator: " or ")
      throw LuaError("\(fn): option '\(key)' must be \(names), got '\(s)'")
    }
    return v
  }

  static func emaClass() -> LuaClassSpec {
    var spec = LuaClassSpec()
    func method(_ name: String, _ body: @escaping (EMA) throws -> Void) -> LuaFunction {
      { lua in
        try body(try lua.object(1, .ema, as: EMA.self, name))
        return 0
      }
    }
    spec.methods = [
      "update": method("update") { try $0.update() },
      "apply": method("apply") { try $0.apply() },
      "restore": method("restore") { try $0.restore() },
    ]
    spec.metamethods = [
      "__tostring": { lua in
        let e = try lua.object(1, .ema, as: EMA.self, "tostring")
        lua.push("EMA(decay=\(e.decay), \(e.updates) updates\(e.isApplied ? ", applied" : ""))")
        return 1
      }
    ]
    spec.getField = { lua, key in
      let e = try lua.object(1, .ema, as: EMA.self, "__index")
      switch key {
      case "decay": lua.push(e.decay)
      case "num_updates": lua.push(e.updates)
      case "applied": lua.push(e.isApplied)
      default: return 0
      }
      return 1
    }
    return spec
  }

  static func lookaheadClass() -> LuaClassSpec {
    var spec = LuaClassSpec()
    spec.methods = [
      // update(decay): ema ← lerp(ema, net, 1 − decay), then net ← ema.
      "update": { lua in
        let la = try lua.object(1, .lookahead, as: Lookahead.self, "update")
        try la.update(decay: try lua.number(2, "update"))
        return 0
      }
    ]
    spec.metamethods = [
      "__tostring": { lua in
        let la = try lua.object(1, .lookahead, as: Lookahead.self, "tostring")
        lua.push("Lookahead(\(la.tensors.count) tensors, \(la.updates) updates)")
        return 1
      }
    ]
    spec.getField = { lua, key in
      let la = try lua.object(1, .lookahead, as: Lookahead.self, "__index")
      guard key == "num_updates" else { return 0 }
      lua.push(la.updates)
      return 1
    }
    return spec
  }

  static func plateauClass() -> LuaClassSpec {
    var spec = LuaClassSpec()
    spec.methods = [
      // step(metric): a number or a one-element tensor (a loss).
      "step": { lua in
        let s = try lua.object(1, .plateau, as: ReduceLROnPlateau.self, "step")
        let metric =
          lua.type(2) == LUA_TNUMBER
          ? try lua.number(2, "step") : Double(try lua.tensor(2, "step").item())
        s.step(metric)
        return 0
      }
    ]
    spec.metamethods = [
      "__tostring": { lua in
        let s = try lua.object(1, .plateau, as: ReduceLROnPlateau.self, "tostring")
        lua.push(
          "ReduceLROnPlateau(lr=\(s.optimizer.lr), best=\(s.best), bad epochs=\(s.badSteps))")
        return 1
      }
    ]
    spec.getField = { lua, key in
      let s = try lua.object(1, .plateau, as: ReduceLROnPlateau.self, "__index")
      switch key {
      case "lr": lua.push(s.optimizer.lr)
      case "best": lua.push(s.best)
      case "num_bad_epochs": lua.push(s.badSteps)
      case "epoch": lua.push(s.epoch)
      case "optimizer": lua.push(s.optimizer, as: .optimizer)
      default: return 0
      }
      return 1
    }
    return spec
  }
}
