import CLua
import MoonlabNN
import MoonlabTensor

extension LuaClass {
  public static let optimizer = LuaClass("moonlab.Optimizer")
  public static let scheduler = LuaClass("moonlab.LRScheduler")
}

/// The `optim` library (docs/optim.md): optimizers over a table of parameter tensors
/// (what `m:parameters()` returns) and learning-rate schedules over an optimizer.
///
///     local opt = optim.SGD(model:parameters(), {lr=0.1, momentum=0.9, weight_decay=5e-4})
///     local sched = optim.Warmup(optim.CosineLR(opt, {t_max=30}), {steps=2})
///     for epoch = 1, 30 do … opt:zero_grad(); loss:backward(); opt:step() … sched:step() end
///
/// Options are checked: unknown keys, wrong types and out-of-range values are errors.
enum OptimLibrary {
  static func install(_ host: LuaHost) throws {
    host.register(.optimizer, optimizerClass())
    host.register(.scheduler, schedulerClass(host))
    OptimTrainingLibrary.install(host)
    var functions = optimizers().merging(schedules()) { a, _ in a }.merging(
      OptimTrainingLibrary.functions()
    ) { a, _ in a }
    functions["LambdaLR"] = LambdaLRBinding.make(host)
    host.registerLibrary("optim", functions)
  }

  // MARK: Optimizers

  static func optimizers() -> [String: LuaFunction] {
    [
      "SGD": optimizer(
        "SGD", ["lr", "momentum", "weight_decay", "nesterov"], optionsRequired: true
      ) {
        lua, params, o in
        let fn = "SGD"
        guard let lr = try lua.numberOption(o, "lr", fn) else {
          throw LuaError("SGD: option 'lr' is required")
        }
        return try SGD(
          params, lr: lr, momentum: try lua.numberOption(o, "momentum", fn) ?? 0,
          weightDecay: try lua.numberOption(o, "weight_decay", fn) ?? 0,
          nesterov: try lua.booleanOption(o, "nesterov", fn) ?? false)
      },
      "Adam": adam("Adam", defaultWeightDecay: 0) {
        try Adam($0, lr: $1, betas: $2, eps: $3, weightDecay: $4)
      },
      "AdamW": adam("AdamW", defaultWeightDecay: 0.01) {
        try AdamW($0, lr: $1, betas: $2, eps: $3, weightDecay: $4)
      },
    ]
  }

  /// Adam and AdamW share their options: {lr=1e-3, betas={0.9, 0.999}, eps=1e-8, weight_decay=}.
  static func adam(
    _ fn: String, defaultWeightDecay: Double,
    _ make: @escaping ([Tensor], Double, (Double, Double), Double, Double) throws -> Optimizer
  ) -> LuaFunction {
    optimizer(fn, ["lr", "betas", "eps", "weight_decay"]) { lua, params, o in
      var betas = (0.9, 0.999)
      if let list = try lua.option(o, "betas", fn, { try lua.numberList($0, fn) }) {
        guard list.count == 2 else {
          throw LuaError("\(fn): option 'betas' must hold 2 numbers, got \(list.count)")
        }
        betas = (list[0], list[1])
      }
      return try make(
        params, try lua.numberOption(o, "lr", fn) ?? 1e-3, betas,
        try lua.numberOption(o, "eps", fn) ?? 1e-8,
        try lua.numberOption(o, "weight_decay", fn) ?? defaultWeightDecay)
    }
  }

  /// `optim.<fn>(params, {options})`: `make` builds the optimizer from a parameter list
  /// and the slot of its options table. `params` is a sequence of tensors, or of parameter
  /// groups `{params = {…}, lr = …}` whose options override the defaults (argument 2), one
  /// optimizer per group stepped together (ParamGroups).
  /// `optionsRequired`: the options table must be given (unless the groups carry them).
  static func optimizer(
    _ fn: String, _ options: Set<String>, optionsRequired: Bool = false,
    _ make: @escaping (Lua, [Tensor], Int32) throws -> Optimizer
  ) -> LuaFunction {
    { lua in
      try lua.checkTable(1, fn)
      lua.rawIndex(1, 1)
      let grouped = lua.type(-1) == LUA_TTABLE
      lua.pop()
      try lua.checkOptions(2, fn, allowed: options, required: optionsRequired && !grouped)
      guard grouped else {
        lua.push(try make(lua, try parameters(lua, fn), 2), as: .optimizer)
        return 1
      }
      var groups: [Optimizer] = []
      for k in 1...lua.rawLength(1) {
        let base = lua.top
        defer { lua.setTop(base) }
        lua.rawIndex(1, k)
        let group = lua.top
        let what = "\(fn) parameter group \(k)"
        guard lua.type(group) == LUA_TTABLE else {
          throw LuaError("\(what) is a \(lua.typeName(group)), expected a table {params = …}")
        }
        try lua.checkOptions(group, what, allowed: options.union(["params"]))
        guard lua.rawField(group, "params") == LUA_TTABLE else {
          throw LuaError("\(what): 'params' (a list of tensors) is required")
        }
        let params = try TensorLibrary.tensorList(lua, lua.top, what)
        // The group's options: the defaults, then the group's own values over them.
        lua.newTable()
        let merged = lua.top
        for source in [Int32(2), group] where lua.type(source) == LUA_TTABLE {
          try lua.forEachEntry(source) { key in
            guard let key, key != "params" else { return }
            lua.pushValue(-1)
            lua.setField(merged, key)
          }
        }
        groups.append(try make(lua, params, merged))
      }
      lua.push(try ParamGroups(groups), as: .optimizer)
      return 1
    }
  }

  /// Argument 1: a sequence of tensors.
  static func parameters(_ lua: Lua, _ fn: String) throws -> [Tensor] {
    try TensorLibrary.tensorList(lua, 1, fn)
  }

  static func optimizerClass() -> LuaClassSpec {
    var spec = LuaClassSpec()
    spec.methods = [
      "step": { lua in
        try lua.object(1, .optimizer, as: Optimizer.self, "step").step()
        return 0
      },
      "zero_grad": { lua in
        try lua.object(1, .optimizer, as: Optimizer.self, "zero_grad").zeroGrad()
        return 0
      },
    ]
    spec.metamethods = [
      "__tostring": { lua in
        let opt = try lua.object(1, .optimizer, as: Optimizer.self, "tostring")
        lua.push("\(opt.typeName)(lr=\(opt.lr), \(opt.parameters.count) parameter tensors)")
        return 1
      }
    ]
    spec.getField = { lua, key in
      let opt = try lua.object(1, .optimizer, as: Optimizer.self, "__index")
      switch key {
      case "lr": lua.push(opt.lr)
      // Each parameter group's lr, in group order (one for an optimizer without groups).
      case "group_lrs": lua.push(numbers: opt.groupLRs)
      default: return 0
      }
      return 1
    }
    spec.setField = { lua, key in
      let opt = try lua.object(1, .optimizer, as: Optimizer.self, "__newindex")
      guard key == "lr" else { throw LuaError("\(opt.typeName): can't set field '\(key)'") }
      let lr = try lua.number(3, "lr")
      try Optimizer.check(lr: lr, op: "\(opt.typeName).lr")
      opt.lr = lr
    }
    return spec
  }

  // MARK: Schedules

  static func schedules() -> [String: LuaFunction] {
    [
      "MultiStepLR": schedule("MultiStepLR", options: ["milestones", "gamma"]) { lua, opt, fn in
        let milestones = try lua.option(2, "milestones", fn) { try lua.integerList($0, fn) }
        return try MultiStepLR(
          opt, milestones: try required(milestones, "milestones", fn),
          gamma: try lua.numberOption(2, "gamma", fn) ?? 0.1)
      },
      "StepLR": schedule("StepLR", options: ["step_size", "gamma"]) { lua, opt, fn in
        try StepLR(
          opt, stepSize: try required(try lua.integerOption(2, "step_size", fn), "step_size", fn),
          gamma: try lua.numberOption(2, "gamma", fn) ?? 0.1)
      },
      "CosineLR": schedule("CosineLR", options: ["t_max", "min_lr"]) { lua, opt, fn in
        try CosineLR(
          opt, tMax: try required(try lua.integerOption(2, "t_max", fn), "t_max", fn),
          minLR: try lua.numberOption(2, "min_lr", fn) ?? 0)
      },
      "Warmup": { lua in
        let fn = "Warmup"
        let inner = try lua.object(1, .scheduler, as: LRSchedule.self, fn)
        try lua.checkOptions(2, fn, allowed: ["steps"], required: true)
        lua.push(
          try Warmup(
            inner, steps: try required(try lua.integerOption(2, "steps", fn), "steps", fn)),
          as: .scheduler)
        return 1
      },
    ]
  }

  /// `optim.<fn>(opt, {options})`: reads the optimizer, checks the option keys, and
  /// pushes what `make` builds from the options table (argument 2).
  static func schedule(
    _ fn: String, options: Set<String>,
    _ make: @escaping (Lua, Optimizer, String) throws -> LRSchedule
  ) -> LuaFunction {
    { lua in
      let opt = try lua.object(1, .optimizer, as: Optimizer.self, fn)
      try lua.checkOptions(2, fn, allowed: options, required: true)
      lua.push(try make(lua, opt, fn), as: .scheduler)
      return 1
    }
  }

  static func required<T>(_ value: T?, _ key: String, _ fn: String) throws -> T {
    guard let value else { throw LuaError("\(fn): option '\(key)' is required") }
    return value
  }

  static func schedulerClass(_ host: LuaHost) -> LuaClassSpec {
    var spec = LuaClassSpec()
    spec.methods = [
      "step": { [unowned host] lua in
        let s = try lua.object(1, .scheduler, as: LRSchedule.self, "step")
        // LambdaLR calls back into Lua: on this thread (a coroutine's, if it runs in one).
        try host.withCallbackThread(lua.L) { try s.step() }
        return 0
      },
      // The lr the schedule gives for its current epoch (PyTorch's get_last_lr).
      "get_lr": { lua in
        let s = try lua.object(1, .scheduler, as: LRSchedule.self, "get_lr")
        lua.push(s.currentLR)
        return 1
      },
    ]
    spec.metamethods = [
      "__tostring": { lua in
        let s = try lua.object(1, .scheduler, as: LRSchedule.self, "tostring")
        lua.push("\(s.typeName)(epoch=\(s.epoch), lr=\(s.currentLR))")
        return 1
      }
    ]
    spec.getField = { lua, key in
      let s = try lua.object(1, .scheduler, as: LRSchedule.self, "__index")
      switch key {
      case "lr": lua.push(s.currentLR)
      case "epoch": lua.push(s.epoch)
      case "optimizer": lua.push(s.optimizer, as: .optimizer)
      default: return 0
      }
      return 1
    }
    return spec
  }
}
