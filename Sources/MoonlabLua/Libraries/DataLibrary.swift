import CLua
import LuaShim
import MoonlabData
import MoonlabTensor

extension LuaClass {
  public static let dataset = LuaClass("moonlab.Dataset")
  public static let transform = LuaClass("moonlab.Transform")
  public static let loader = LuaClass("moonlab.Loader")
}

/// The `data` library (docs/data.md): datasets, transforms, loaders. Labels are 0-based
/// in Swift and 1-based in Lua: pushing a target adds 1, taking one from Lua subtracts 1,
/// so `data.tensors(x, y)` hands back exactly the y it was given.
enum DataLibrary {
  static func install(_ host: LuaHost) throws {
    host.register(.dataset, datasetClass())
    host.register(.transform, transformClass())
    host.register(.loader, loaderClass())
    host.registerLibrary(
      "data",
      [
        "cifar10": { [unowned host] lua in
          let (split, root) = try splitAndRoot(lua, "cifar10")
          lua.push(try open(host, "cifar10", split: split, root: root), as: .dataset)
          return 1
        },
        "mnist": { [unowned host] lua in
          let (split, root) = try splitAndRoot(lua, "mnist")
          lua.push(try open(host, "mnist", split: split, root: root), as: .dataset)
          return 1
        },
        "synth": { lua in
          try lua.checkOptions(1, "synth", allowed: ["n", "seed", "kind", "noise", "classes"])
          var o = Synthetic.Options()
          o.n = try lua.integerOption(1, "n", "synth") ?? o.n
          o.seed = try seedOption(lua, 1, "synth")
          o.kind = try lua.stringOption(1, "kind", "synth") ?? o.kind
          o.noise = try lua.numberOption(1, "noise", "synth")
          o.classes = try lua.integerOption(1, "classes", "synth") ?? o.classes
          lua.push(try Synthetic.make(o), as: .dataset)
          return 1
        },
        "tensors": { lua in
          lua.push(
            try tensors(try lua.tensor(1, "tensors"), try lua.tensor(2, "tensors")), as: .dataset)
          return 1
        },
        "PadCrop": { lua in
          try lua.checkOptions(1, "PadCrop", allowed: ["pad", "size", "fill"])
          let fillName = try lua.stringOption(1, "fill", "PadCrop") ?? "zero"
          guard let fill = PadCrop.Fill(rawValue: fillName) else {
            throw LuaError("PadCrop: fill must be 'zero' or 'reflect', got '\(fillName)'")
          }
          let t = try PadCrop(
            pad: try lua.integerOption(1, "pad", "PadCrop") ?? 4,
            size: try lua.integerOption(1, "size", "PadCrop") ?? 32,
            fill: fill)
          lua.push(Transform(t), as: .transform)
          return 1
        },
        "HFlip": { lua in
          try lua.checkOptions(1, "HFlip", allowed: ["p"])
          lua.push(
            Transform(try HFlip(p: try lua.numberOption(1, "p", "HFlip") ?? 0.5)), as: .transform)
          return 1
        },
        // A name of its own rather than an HFlip option: no p, and it needs the loader's
        // indices and epoch (docs/data.md, "Transforms").
        "AlternatingFlip": { lua in
          try lua.checkOptions(1, "AlternatingFlip", allowed: [])
          lua.push(Transform(AlternatingFlip()), as: .transform)
          return 1
        },
        "Normalize": { lua in
          try lua.checkOptions(1, "Normalize", allowed: ["mean", "std"], required: true)
          guard
            let mean = try lua.option(
              1, "mean", "Normalize", { try lua.numberList($0, "Normalize") }),
            let std = try lua.option(1, "std", "Normalize", { try lua.numberList($0, "Normalize") })
          else { throw LuaError("Normalize: options 'mean' and 'std' are required") }
          lua.push(Transform(try Normalize(mean: mean, std: std)), as: .transform)
          return 1
        },
        "Compose": { lua in
          try lua.checkTable(1, "Compose")
          var parts: [Transform] = []
          for k in stride(from: 1, through: lua.rawLength(1), by: 1) {
            lua.rawIndex(1, k)
            defer { lua.pop() }
            guard let t = lua.anyObject(-1) as? Transform else {
              throw LuaError("Compose: element \(k) is a \(lua.typeName(-1)), expected a transform")
            }
            parts.append(t)
          }
          lua.push(Transform.compose(parts), as: .transform)
          return 1
        },
        "Lambda": { [unowned host] lua in
          guard lua.type(1) == LUA_TFUNCTION else {
            throw LuaError(
              "bad argument #1 to 'Lambda' (function expected, got \(lua.typeName(1)))")
          }
          lua_pushvalue(lua.L, 1)
          lua.push(
            Transform([.mainThread(Lambda(LuaRef(host: host, popping: lua.L)))]), as: .transform)
          return 1
        },
        "Loader": { lua in
          let ds = try lua.object(1, .dataset, as: Dataset.self, "Loader")
          try lua.checkOptions(
            2, "Loader",
            allowed: ["batch_size", "shuffle", "seed", "transform", "drop_last", "prefetch"])
          var o = Loader.Options()
          o.batchSize = try lua.integerOption(2, "batch_size", "Loader") ?? o.batchSize
          o.shuffle = try lua.booleanOption(2, "shuffle", "Loader") ?? o.shuffle
          o.seed = try seedOption(lua, 2, "Loader")
          o.transform = try lua.option(2, "transform", "Loader") {
            try lua.object($0, .transform, as: Transform.self, "Loader")
          }
          o.dropLast = try lua.booleanOption(2, "drop_last", "Loader") ?? o.dropLast
          o.prefetch = try lua.integerOption(2, "prefetch", "Loader") ?? o.prefetch
          lua.push(try Loader(ds, o), as: .loader)
          return 1
        },
      ])
  }

  static func splitAndRoot(_ lua: Lua, _ fn: String) throws -> (String, String?) {
    try lua.checkOptions(1, fn, allowed: ["split", "root"])
    let root = try lua.stringOption(1, "root", fn)
    if root != nil, lua.sandboxFileRoot != nil {
      throw LuaError(
        "\(fn): option 'root' is not available in the sandbox (--sandbox); set MOONLAB_DATA instead"
      )
    }
    return (try lua.stringOption(1, "split", fn) ?? "train", root)
  }

  /// A dataset read from the root given, the rerun's pinned source or the default roots,
  /// and the host told which files that was.
  static func open(_ host: LuaHost, _ name: String, split: String, root: String?) throws
    -> Dataset
  {
    let (dataset, source) = try DataRoot.open(
      name, split: split, root: root, pinned: host.dataPins[DataSource.key(name, split)],
      notice: host.notice)
    try host.dataOpened(source)
    return dataset
  }

  /// Option `seed`, defaulting to the run's seed (`moonlab run --seed`, `tensor.seed`).
  static func seedOption(_ lua: Lua, _ table: Int32, _ fn: String) throws -> UInt64 {
    guard let s = try lua.integerOption(table, "seed", fn) else { return RunContext.current.seed }
    return UInt64(bitPattern: Int64(s))
  }

  /// A copy of `t` with `delta` added: labels cross the bridge 0-based ⇄ 1-based.
  static func shifted(_ t: Tensor, _ delta: Float) -> Tensor {
    let out = Tensor(zeros: t.shape)
    for i in 0..<t.count { out.data[i] = t.data[i] + delta }
    return out
  }

  static func tensors(_ x: Tensor, _ y: Tensor) throws -> Dataset {
    guard x.rank >= 1, y.rank >= 1, x.shape[0] == y.shape[0] else {
      throw LuaError(
        "tensors: x \(describeShape(x.shape)) and y \(describeShape(y.shape)) need the same first dimension"
      )
    }
    return try Dataset(
      name: "tensors", sampleShape: Array(x.shape.dropFirst()), storage: .floats(x.toArray()),
      targets: shifted(y, -1).toArray(), targetShape: Array(y.shape.dropFirst()))
  }

  // MARK: Dataset

  static func datasetClass() -> LuaClassSpec {
    var spec = LuaClassSpec()
    spec.methods = [
      "get": { lua in
        let ds = try lua.object(1, .dataset, as: Dataset.self, "get")
        let i = try lua.integer(2, "get")
        guard i >= 1, i <= ds.count else {
          throw LuaError("get: index \(i) is outside 1…\(ds.count)")
        }
        let (x, y) = try ds.get(i - 1)
        lua.push(x)
        if y.rank == 0 {
          let label = Double(y.data[0] + 1)
          if let n = Int(exactly: label) { lua.push(n) } else { lua.push(label) }
        } else {
          lua.push(shifted(y, 1))
        }
        return 2
      },
      "subset": { lua in
        let ds = try lua.object(1, .dataset, as: Dataset.self, "subset")
        let from = try lua.integer(2, "subset")
        let to = try lua.integer(3, "subset")
        guard from >= 1, to <= ds.count, from <= to + 1 else {
          throw LuaError("subset: range \(from)…\(to) is outside 1…\(ds.count)")
        }
        lua.push(try ds.subset((from - 1)..<to), as: .dataset)
        return 1
      },
      "split": { lua in
        let ds = try lua.object(1, .dataset, as: Dataset.self, "split")
        let fractions = try lua.numberList(2, "split")
        let seed =
          lua.isNoneOrNil(3)
          ? RunContext.current.seed : UInt64(bitPattern: Int64(try lua.integer(3, "split")))
        let parts = try ds.split(fractions, seed: seed)
        for p in parts { lua.push(p, as: .dataset) }
        return Int32(parts.count)
      },
    ]
    spec.metamethods = [
      "__len": { lua in
        lua.push(try lua.object(1, .dataset, as: Dataset.self, "__len").count)
        return 1
      },
      "__tostring": { lua in
        let ds = try lua.object(1, .dataset, as: Dataset.self, "tostring")
        lua.push("Dataset(\(ds.name), \(ds.count) samples of \(describeShape(ds.sampleShape)))")
        return 1
      },
    ]
    spec.getField = { lua, key in
      let ds = try lua.object(1, .dataset, as: Dataset.self, "__index")
      switch key {
      case "classes":
        guard let classes = ds.classes else { return 0 }
        lua.newTable(array: classes.count)
        for (k, c) in classes.enumerated() {
          lua.push(c)
          lua.setIndex(-2, k + 1)
        }
        return 1
      case "shape":
        lua.push(integers: ds.sampleShape)
        return 1
      default:
        return 0
      }
    }
    return spec
  }

  // MARK: Transforms

  static func transformClass() -> LuaClassSpec {
    var spec = LuaClassSpec()
    spec.metamethods = [
      "__tostring": { lua in
        let t = try lua.object(1, .transform, as: Transform.self, "tostring")
        let names = t.stages.map { stage -> String in
          switch stage {
          case .batch(let b): return String(describing: type(of: b))
          case .mainThread: return "Lambda"
          }
        }
        lua.push(names.count == 1 ? names[0] : "Compose{" + names.joined(separator: ", ") + "}")
        return 1
      }
    ]
    return spec
  }

  /// `data.Lambda(fn)`: a Lua function over a batch, `fn(x, y) → x[, y]` with y's labels
  /// 1-based. Called only from the loader's consumer, i.e. the Lua thread; the loader's
  /// worker never holds it, so its registry reference is also released on that thread.
  final class Lambda: MainThreadTransform {
    let function: LuaRef
    init(_ function: LuaRef) { self.function = function }

    func run(_ lua: Lua, _ batch: Batch) throws -> Batch {
      let base = lua.top
      function.push(lua.L)
      lua.push(batch.x)
      lua.push(shifted(batch.y, 1))
      guard moonlab_pcall(lua.L, 2, 2) == LUA_OK else {
        let message =
          moonlab_tostring(lua.L, -1).map { String(cString: $0) }
          ?? "(error object is not a string)"
        lua_settop(lua.L, base)
        throw LuaError("Lambda: \(message)")
      }
      defer { lua_settop(lua.L, base) }
      var out = batch
      guard let x = lua.anyObject(-2) as? Tensor else {
        throw LuaError("Lambda: the function must return a tensor x, got \(lua.typeName(-2))")
      }
      out.x = x
      if !lua.isNoneOrNil(-1) {
        guard let y = lua.anyObject(-1) as? Tensor, y.shape == batch.y.shape else {
          throw LuaError(
            "Lambda: a returned y must be a tensor of shape \(describeShape(batch.y.shape))")
        }
        out.y = shifted(y, -1)
      }
      return out
    }
  }

  // MARK: Loader

  static func loaderClass() -> LuaClassSpec {
    var spec = LuaClassSpec()
    spec.methods = [
      "batches": { lua in
        let epoch = try lua.object(1, .loader, as: Loader.self, "batches").nextEpoch()
        lua.push(function: "batches") { lua in
          guard let batch = try epoch.next(on: lua) else { return 0 }
          lua.push(batch.x)
          lua.push(shifted(batch.y, 1))
          return 2
        }
        return 1
      }
    ]
    spec.metamethods = [
      "__len": { lua in
        lua.push(try lua.object(1, .loader, as: Loader.self, "__len").count)
        return 1
      },
      "__tostring": { lua in
        let l = try lua.object(1, .loader, as: Loader.self, "tostring")
        lua.push(
          "Loader(\(l.dataset.count) samples, batch_size=\(l.options.batchSize), \(l.count) batches)"
        )
        return 1
      },
    ]
    spec.getField = { lua, key in
      let l = try lua.object(1, .loader, as: Loader.self, "__index")
      switch key {
      case "batch_size": lua.push(l.options.batchSize)
      case "epoch": lua.push(l.epoch)
      case "dataset": lua.push(l.dataset, as: .dataset)
      default: return 0
      }
      return 1
    }
    return spec
  }
}

extension Epoch {
  /// The next batch, running any `data.Lambda` stage on `lua`, the Lua thread that asks.
  /// For Swift code that drives a script's loader (e.g. a fit loop); labels stay 0-based.
  public func next(on lua: Lua) throws -> Batch? {
    try next { t, batch in
      guard let lambda = t as? DataLibrary.Lambda else {
        throw LuaError("Loader: unknown main-thread transform")
      }
      return try lambda.run(lua, batch)
    }
  }
}
