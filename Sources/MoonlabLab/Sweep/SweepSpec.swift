import CLua
import Foundation
import MoonlabLua
import MoonlabTensor

/// One trial of a sweep: its configuration (keys sorted), which replicate of it, and an id
/// and seed that depend only on the sweep seed, that configuration and the replicate —
/// never on --jobs, sharding or order.
struct Trial {
  let index: Int
  let cfg: [JSON.Field]
  /// 0-based: lab.sweep{repeats = n} runs each configuration as replicates 0…n−1.
  let replicate: Int
  let id: String
  let seed: UInt64
  /// The id and seed sweeps gave this trial before ids used SHA-256 (replicate 0 only):
  /// a finished folder under that id is resumed, see `recognisingLegacyFolder`.
  private let legacy: (id: String, seed: UInt64)?

  /// `settings` are the run's `--set` values: those outside the grid change what a trial
  /// computes, so they join its id (a sweep run again with other values gets new trial
  /// folders instead of reusing results made with the old ones). Without any, ids are
  /// the sweep seed's and the configuration's alone; seeds never depend on them.
  /// Replicate 0 has the identity a trial had before repeats existed, so raising
  /// `repeats` keeps the finished replicates.
  init(index: Int, cfg: [JSON.Field], replicate: Int = 0, sweepSeed: UInt64, settings: [JSON.Field])
  {
    self.index = index
    self.cfg = cfg
    self.replicate = replicate
    let configuration =
      "sweep-seed=\(sweepSeed);"
      + cfg.map { "\($0.key)=\($0.value.serialized())" }.joined(separator: ";")
    let canonical = replicate == 0 ? configuration : configuration + ";replicate=\(replicate)"
    let outside = settings.filter { s in !cfg.contains { $0.key == s.key } }
      .sorted { $0.key < $1.key }
    let identity =
      outside.isEmpty
      ? canonical
      : canonical + ";set:"
        + outside.map { "\($0.key)=\($0.value.serialized())" }.joined(separator: ";")
    id = TrialIdentity.id(identity)
    // A `seed` key in the grid is the trial's seed; otherwise derive one that fits a JSON
    // number exactly.
    let given = cfg.first(where: { $0.key == "seed" })?.value.double.flatMap { UInt64(exactly: $0) }
    seed = given ?? TrialIdentity.seed("trial-seed;" + canonical)
    legacy =
      replicate == 0
      ? (
        TrialIdentity.legacyID(identity),
        given ?? TrialIdentity.legacySeed("trial-seed;" + canonical)
      )
      : nil
  }

  private init(_ t: Trial, id: String, seed: UInt64) {
    (index, cfg, replicate, legacy) = (t.index, t.cfg, t.replicate, nil)
    self.id = id
    self.seed = seed
  }

  /// This trial as recorded under its old id and seed when `sweepDir` holds a finished
  /// folder with that id and none with the new one: a sweep made before ids used SHA-256
  /// resumes instead of running every trial again.
  func recognisingLegacyFolder(in sweepDir: URL) -> Trial {
    let fm = FileManager.default
    guard let legacy, legacy.id != id,
      !fm.fileExists(atPath: sweepDir.appendingPathComponent(id).path),
      fm.fileExists(atPath: sweepDir.appendingPathComponent("\(legacy.id)/DONE").path)
    else { return self }
    return Trial(self, id: legacy.id, seed: legacy.seed)
  }

  /// "lr=0.1 bs=32", for legends and tables.
  var label: String {
    cfg.map { "\($0.key)=\(ReportWriter.cell($0.value))" }.joined(separator: " ")
  }
}

/// The lab.sweep{…} table: name, grid or random space, n, repeats, seed, metric, mode.
struct SweepSpec {
  var name: String
  var seed: UInt64
  /// Replicates of each configuration, each with its own seed (results: mean ± std).
  var repeats: Int
  var metric: String
  var maximize: Bool
  var trials: [Trial]
  /// The space as given, for sweep.json.
  var space: JSON
  /// The run's `--set` values (part of each trial's id, see `Trial`).
  var settings: [JSON.Field]

  init(_ lua: Lua, defaultSeed: UInt64, defaultName: String, settings: [JSON.Field]) throws {
    self.settings = settings
    let fn = "lab.sweep"
    try lua.checkOptions(
      1, fn, allowed: ["name", "seed", "metric", "mode", "run", "grid", "random", "n", "repeats"],
      required: true)
    name = try lua.stringOption(1, "name", fn) ?? defaultName
    guard !name.isEmpty, !name.contains("/"), name != ".", name != ".." else {
      throw LuaError("\(fn): name '\(name)' can't be a folder name")
    }
    seed = try lua.integerOption(1, "seed", fn).map { UInt64(bitPattern: Int64($0)) } ?? defaultSeed
    guard let metric = try lua.stringOption(1, "metric", fn) else {
      throw LuaError("\(fn): option 'metric' (the result key to sort trials by) is required")
    }
    self.metric = metric
    repeats = try lua.integerOption(1, "repeats", fn) ?? 1
    guard (1...1000).contains(repeats) else {
      throw LuaError("\(fn): option 'repeats' must be between 1 and 1000, got \(repeats)")
    }
    switch try lua.stringOption(1, "mode", fn) ?? "max" {
    case "max": maximize = true
    case "min": maximize = false
    case let m: throw LuaError("\(fn): option 'mode' must be 'max' or 'min', got '\(m)'")
    }
    guard lua.rawField(1, "run") == LUA_TFUNCTION else {
      throw LuaError("\(fn): option 'run' (function(cfg) … return {\(metric)=…} end) is required")
    }
    lua.pop()

    let configs: [[JSON.Field]]
    let hasGrid = lua.rawField(1, "grid") == LUA_TTABLE
    let hasRandom = lua.rawField(1, "random") == LUA_TTABLE
    lua.pop()
    if hasGrid == hasRandom {
      throw LuaError("\(fn): give either grid={key={values…}} or random={key=…} with n=")
    }
    if hasGrid {
      let grid = try SweepSpec.choices(lua, fn + " grid")
      space = .object([.init("grid", .object(grid.map { .init($0.key, .array($0.values)) }))])
      configs = grid.reduce([[]]) { partial, axis in
        partial.flatMap { cfg in axis.values.map { cfg + [JSON.Field(axis.key, $0)] } }
      }
    } else {
      lua.pop()
      lua.rawField(1, "random")
      let n = try lua.integerOption(1, "n", fn) ?? 0
      guard n > 0 else {
        throw LuaError("\(fn): random search needs option 'n' (number of trials) > 0")
      }
      let dims = try SweepSpec.randomSpace(lua, fn + " random")
      space = .object([
        .init("random", .object(dims.map { .init($0.key, $0.dim.json) })),
        .init("n", .number(Double(n))),
      ])
      let g = Generator(seed: seed, stream: "sweep/" + name)
      configs = (0..<n).map { _ in dims.map { JSON.Field($0.key, $0.dim.sample(g)) } }
    }
    lua.pop()
    if repeats > 1, configs.first?.contains(where: { $0.key == "seed" }) == true {
      throw LuaError(
        "\(fn): a 'seed' key in the space fixes each trial's seed, so repeats = \(repeats) would run the same trial \(repeats) times; drop one of them"
      )
    }
    var seen = Set<String>()
    var trials: [Trial] = []
    for cfg in configs {
      let first = Trial(index: trials.count, cfg: cfg, sweepSeed: seed, settings: settings)
      // Random search may draw a configuration twice.
      guard seen.insert(first.id).inserted else { continue }
      trials.append(first)
      for r in 1..<repeats {
        trials.append(
          Trial(index: trials.count, cfg: cfg, replicate: r, sweepSeed: seed, settings: settings))
      }
    }
    self.trials = trials
  }

  /// grid={lr={0.1, 0.01}, bs=32}: keys sorted, each a list of scalars (or one scalar).
  static func choices(_ lua: Lua, _ fn: String) throws -> [(key: String, values: [JSON])] {
    var axes: [(key: String, values: [JSON])] = []
    try lua.forEachField(fn) { key in
      var values: [JSON] = []
      if lua.type(-1) == LUA_TTABLE {
        for k in stride(from: 1, through: lua.rawLength(-1), by: 1) {
          lua.rawIndex(-1, k)
          defer { lua.pop() }
          guard let v = lua.scalarJSON(-1) else {
            throw LuaError("\(fn): '\(key)' value \(k) is not a number, boolean or string")
          }
          values.append(v)
        }
      } else if let v = lua.scalarJSON(-1) {
        values = [v]
      }
      guard !values.isEmpty else { throw LuaError("\(fn): '\(key)' has no values") }
      axes.append((key, values))
    }
    return axes.sorted { $0.key < $1.key }
  }

  /// One random dimension: a list to choose from, {log={lo, hi}}, {uniform={lo, hi}} or
  /// {int={lo, hi}} (inclusive).
  enum Dimension {
    case choice([JSON])
    case log(Double, Double)
    case uniform(Double, Double)
    case int(Int, Int)

    func sample(_ g: Generator) -> JSON {
      let u = Double(g.next() >> 11) * 0x1p-53
      switch self {
      case .choice(let values): return values[g.below(values.count)]
      case .log(let lo, let hi):
        return .number(
          Foundation.exp(Foundation.log(lo) + u * (Foundation.log(hi) - Foundation.log(lo))))
      case .uniform(let lo, let hi): return .number(lo + u * (hi - lo))
      case .int(let lo, let hi): return .number(Double(lo + g.below(hi - lo + 1)))
      }
    }

    var json: JSON {
      func pair(_ kind: String, _ a: Double, _ b: Double) -> JSON {
        .object([.init(kind, .array([.number(a), .number(b)]))])
      }
      switch self {
      case .choice(let v): return .array(v)
      case .log(let a, let b): return pair("log", a, b)
      case .uniform(let a, let b): return pair("uniform", a, b)
      case .int(let a, let b): return pair("int", Double(a), Double(b))
      }
    }
  }

  static func randomSpace(_ lua: Lua, _ fn: String) throws -> [(key: String, dim: Dimension)] {
    var dims: [(key: String, dim: Dimension)] = []
    try lua.forEachField(fn) { key in
      try lua.checkTable(-1, "\(fn) '\(key)'")
      var dim: Dimension?
      for kind in ["log", "uniform", "int"] {
        let present = lua.rawField(-1, kind) != LUA_TNIL
        defer { lua.pop() }
        guard present else { continue }
        let r = try lua.numberList(-1, "\(fn) '\(key)'.\(kind)")
        guard r.count == 2, r[0] <= r[1], kind != "log" || r[0] > 0 else {
          throw LuaError(
            "\(fn): '\(key)'.\(kind) must be {lo, hi} with lo ≤ hi\(kind == "log" ? " and lo > 0" : "")"
          )
        }
        switch kind {
        case "log": dim = .log(r[0], r[1])
        case "uniform": dim = .uniform(r[0], r[1])
        default:
          guard let lo = Int(exactly: r[0]), let hi = Int(exactly: r[1]) else {
            throw LuaError("\(fn): '\(key)'.int bounds must be integers")
          }
          dim = .int(lo, hi)
        }
      }
      if dim == nil {
        var values: [JSON] = []
        for k in stride(from: 1, through: lua.rawLength(-1), by: 1) {
          lua.rawIndex(-1, k)
          defer { lua.pop() }
          if let v = lua.scalarJSON(-1) { values.append(v) }
        }
        guard !values.isEmpty else {
          throw LuaError("\(fn): '\(key)' needs a list of values or {log=|uniform=|int={lo, hi}}")
        }
        dim = .choice(values)
      }
      if let dim { dims.append((key, dim)) }
    }
    return dims.sorted { $0.key < $1.key }
  }
}
