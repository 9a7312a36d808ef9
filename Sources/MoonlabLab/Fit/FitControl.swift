import CLua
import Foundation
import MoonlabLua
import MoonlabNN

/// lab.fit's options that decide when to step, save and stop (docs/lab.md):
/// `early_stop = {metric=, patience=, mode=, min_delta=}`, `keep_best = 'val_acc'` (or
/// `{metric=, mode=}`), `accumulate = n`, and the callbacks `on_epoch_end(epoch, metrics)`
/// and `on_step(step, loss)`, which stop training by returning false or 'stop'.
struct FitControl {
  static let options: Set<String> = [
    "early_stop", "keep_best", "accumulate", "on_epoch_end", "on_step",
  ]

  var earlyStop: BestMetric?
  var patience = 5
  var keepBest: BestMetric?
  var accumulate = 1
  /// Stack slots of the callbacks.
  var onEpochEnd: Int32?
  var onStep: Int32?

  /// Reads the options from the lab.fit table at slot 1 (pushing the callbacks, which
  /// stay on the stack while the fit runs).
  init(_ lua: Lua, _ fn: String) throws {
    if let n = try lua.integerOption(1, "accumulate", fn) {
      guard n >= 1 else { throw LuaError("\(fn): option 'accumulate' must be ≥ 1, got \(n)") }
      accumulate = n
    }
    if lua.rawField(1, "early_stop") == LUA_TTABLE {
      let t = lua.top
      let what = "\(fn) early_stop"
      try lua.checkOptions(t, what, allowed: ["metric", "patience", "mode", "min_delta"])
      patience = try lua.integerOption(t, "patience", what) ?? 5
      guard patience >= 0 else {
        throw LuaError("\(what): 'patience' must be ≥ 0, got \(patience)")
      }
      earlyStop = BestMetric(
        metric: try lua.stringOption(t, "metric", what) ?? "val_loss",
        mode: try Self.mode(lua, t, what),
        minDelta: try lua.numberOption(t, "min_delta", what) ?? 0)
    } else if !lua.isNoneOrNil(-1) {
      throw LuaError("\(fn): option 'early_stop' must be a table {metric=, patience=, mode=}")
    }
    lua.pop()
    switch lua.rawField(1, "keep_best") {
    case LUA_TSTRING: keepBest = BestMetric(metric: try lua.string(-1, fn), mode: nil)
    case LUA_TTABLE:
      let what = "\(fn) keep_best"
      try lua.checkOptions(-1, what, allowed: ["metric", "mode"])
      guard let metric = try lua.stringOption(lua.top, "metric", what) else {
        throw LuaError("\(what): 'metric' is required")
      }
      keepBest = BestMetric(metric: metric, mode: try Self.mode(lua, lua.top, what))
    case LUA_TNIL: break
    default:
      throw LuaError("\(fn): option 'keep_best' must be a metric name such as 'val_acc'")
    }
    lua.pop()
    onEpochEnd = try Self.function(lua, "on_epoch_end", fn)
    onStep = try Self.function(lua, "on_step", fn)
  }

  static func mode(_ lua: Lua, _ table: Int32, _ what: String) throws -> BestMetric.Mode? {
    guard let s = try lua.stringOption(table, "mode", what) else { return nil }
    guard let mode = BestMetric.Mode(rawValue: s) else {
      throw LuaError("\(what): 'mode' must be 'min' or 'max', got '\(s)'")
    }
    return mode
  }

  /// Pushes option `key` when it is a function and returns its slot.
  static func function(_ lua: Lua, _ key: String, _ fn: String) throws -> Int32? {
    switch lua.rawField(1, key) {
    case LUA_TFUNCTION: return lua.top
    case LUA_TNIL:
      lua.pop()
      return nil
    default:
      let type = lua.typeName(-1)
      lua.pop()
      throw LuaError("\(fn): option '\(key)' must be a function, got \(type)")
    }
  }

  /// The epoch's value of `metric`, or an error listing the metrics there are.
  static func value(_ metric: String, in line: [JSON.Field], _ what: String) throws -> Double {
    guard let field = line.first(where: { $0.key == metric }) else {
      throw LuaError(
        "lab.fit: \(what) metric '\(metric)' is not logged by this fit (it logs \(line.map(\.key).joined(separator: ", ")))"
      )
    }
    return field.value.double ?? .nan
  }
}
