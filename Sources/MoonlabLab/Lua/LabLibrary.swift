import CLua
import Foundation
import MoonlabLua

/// The `lab` library (docs/lab.md): lab.log, lab.run_dir, lab.sweep, lab.fit,
/// lab.evaluate and lab.lr_find; lab.config is filled by LabSession.
enum LabLibrary {
  static func install(_ owner: LabSession) {
    let live = owner.weakly
    owner.host.registerLibrary(
      "lab",
      [
        "log": { lua in
          let record = try live().requireRecord("lab.log")
          try record.metrics.append(try lua.objectJSON(1, "lab.log"))
          return 0
        },
        // Wall-clock seconds (monotonic) for timing inside scripts; os.clock is CPU time.
        "clock": { lua in
          var ts = timespec()
          clock_gettime(CLOCK_MONOTONIC, &ts)
          lua.push(Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9)
          return 1
        },
        "run_dir": { lua in
          if let dir = try live().record?.dir.path { lua.push(dir) } else { lua.pushNil() }
          return 1
        },
        // {rank=, size=} of a data-parallel run ({rank=0, size=1} in one process) and its
        // gradient sums so far: count, seconds and bytes sent per rank.
        "distributed": { lua in
          let parallel = try DataParallel.joined()
          lua.push(
            json: .object([
              .init("rank", .number(Double(parallel?.world.rank ?? 0))),
              .init("size", .number(Double(parallel?.world.size ?? 1))),
              .init("gradient_sums", .number(Double(parallel?.sums ?? 0))),
              .init("gradient_sum_seconds", .number(parallel?.sumSeconds ?? 0)),
              .init("gradient_sum_bytes", .number(Double(parallel?.sumBytes ?? 0))),
            ]))
          return 1
        },
        "fit": { lua in try FitLibrary.fit(lua, try live()) },
        "evaluate": { lua in try FitLibrary.evaluate(lua, try live()) },
        "lr_find": { lua in try LRFind.run(lua, try live()) },
        "sweep": { lua in
          let results = try Sweep(lua, session: try live()).run()
          if try live().earlyExit != nil {
            // A worker's trial or --emit-slurm: nothing after lab.sweep runs.
            throw LuaError("lab.sweep: the script stops here")
          }
          lua.push(json: results)
          return 1
        },
      ])
  }
}
