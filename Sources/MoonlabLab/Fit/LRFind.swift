import Foundation
import MoonlabData
import MoonlabLua
import MoonlabNN
import MoonlabTensor

/// lab.lr_find(model, loss, loader, {start_lr=, end_lr=, steps=, momentum=, diverge=})
/// (docs/lab.md): the learning-rate range test (Smith 2017,
/// https://arxiv.org/abs/1506.01186, section 3.3). One SGD step per batch with the lr
/// growing exponentially from start_lr to end_lr over `steps` batches (the loader is
/// restarted when it runs out), until the loss is non-finite or above `diverge` × the
/// lowest so far. Every parameter and buffer gets its value back afterwards, also on
/// error. Returns {lrs=, losses=} and adds a log-x chart to the report.
enum LRFind {
  static func run(_ lua: Lua, _ session: LabSession) throws -> Int32 {
    let fn = "lab.lr_find"
    guard lua.anyObject(3) is Loader else {
      throw LuaError("bad argument #3 to '\(fn)' (Loader expected, got \(lua.typeName(3)))")
    }
    try lua.checkOptions(4, fn, allowed: ["start_lr", "end_lr", "steps", "momentum", "diverge"])
    let start = try lua.numberOption(4, "start_lr", fn) ?? 1e-7
    let end = try lua.numberOption(4, "end_lr", fn) ?? 10
    let steps = try lua.integerOption(4, "steps", fn) ?? 100
    let diverge = try lua.numberOption(4, "diverge", fn) ?? 4
    guard start > 0, end > start, end.isFinite else {
      throw LuaError("\(fn): expected 0 < start_lr < end_lr, got \(start) and \(end)")
    }
    guard steps >= 2 else { throw LuaError("\(fn): option 'steps' must be ≥ 2, got \(steps)") }
    guard diverge > 1 else { throw LuaError("\(fn): option 'diverge' must be > 1, got \(diverge)") }
    let loaderIndex = lua.absIndex(3)
    let fit = try Fit(lua, session: session, modelIndex: 1, lossIndex: 2, fn: fn)
    let model = fit.model
    let opt = try SGD(
      model.parameters(), lr: start, momentum: try lua.numberOption(4, "momentum", fn) ?? 0.9)

    // The weights (and BatchNorm statistics) to put back, whatever happens.
    let state = (model.namedParameters() + model.namedBuffers()).map(\.tensor)
    let saved = state.map { $0.toArray() }
    let wasTraining = model.training
    defer {
      for (t, values) in zip(state, saved) {
        for (k, v) in values.enumerated() { t.data[k] = v }
        t.markWritten()
      }
      model.train(wasTraining)
    }
    model.train()

    var lrs: [Double] = []
    var losses: [Double] = []
    let base = lua.top
    var iterator = try fit.batches(loaderIndex)
    for i in 0..<steps {
      if try !fit.nextBatch(iterator) {
        lua.setTop(base)
        iterator = try fit.batches(loaderIndex)
        guard try fit.nextBatch(iterator) else {
          throw LuaError("\(fn): the loader has no batches")
        }
      }
      opt.lr = start * pow(end / start, Double(i) / Double(steps - 1))
      opt.zeroGrad()
      let (_, _, loss) = try fit.forward()
      let value = Double(try loss.item())
      if !value.isFinite || value > diverge * (losses.min() ?? .infinity) { break }
      lrs.append(opt.lr)
      losses.append(value)
      try loss.backward()
      try opt.step()
    }
    lua.setTop(base)

    if let record = session.record {
      var plot = Plot()
      plot.title = "Learning-rate range test"
      plot.xlabel = "learning rate"
      plot.ylabel = "loss"
      plot.logx = true
      plot.series = [Plot.Series(name: "training loss", x: lrs, y: losses)]
      record.add(.plot(plot))
    }
    lua.newTable(hash: 2)
    lua.push(numbers: lrs)
    lua.setField(-2, "lrs")
    lua.push(numbers: losses)
    lua.setField(-2, "losses")
    return 1
  }
}
