import Foundation
import MoonlabLua
import MoonlabTensor

/// `--emit-slurm` and `--slurm`: an sbatch array script whose task k runs
/// `moonlab sweep … --shard k/n` into the same sweep folder and leaves its exit status in
/// `slurm/JOB_k.exit` there (a task that Slurm cancelled or killed leaves none);
/// afterwards `moonlab sweep … --merge` gathers the results (docs/scale-out.md).
enum SlurmScript {
  static func shards(_ sweep: Sweep) -> Int {
    max(1, min(sweep.options.slurmShards ?? sweep.spec.trials.count, sweep.spec.trials.count))
  }

  /// The task's log, as the script's --output names it.
  static func log(_ sweep: Sweep, job: String, task: Int) -> URL {
    sweep.dir.appendingPathComponent("slurm-\(job)_\(task).out")
  }

  static func exitStatus(_ sweep: Sweep, job: String, task: Int) -> URL {
    sweep.dir.appendingPathComponent("slurm/\(job)_\(task).exit")
  }

  static func write(_ sweep: Sweep) throws -> URL {
    let spec = sweep.spec
    let options = sweep.options
    let settings = options.slurmSettings
    let request = sweep.session.request
    let shards = shards(sweep)
    let executable =
      options.executable
      ?? (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? "moonlab"
    let cwd = FileManager.default.currentDirectoryPath
    let dir = sweep.dir.standardizedFileURL.path
    // The folder goes into an #SBATCH line in double quotes; a quote or a line break there
    // would end the line early or start a new one.
    guard
      !dir.unicodeScalars.contains(where: {
        $0 == "\"" || $0.properties.generalCategory == .control
      })
    else {
      throw LuaError(
        "lab.sweep: the sweep folder \(dir) holds a quote or a control character, which an sbatch script can't hold; choose another --out"
      )
    }
    // Slurm shows job names in squeue; the sweep's name may hold anything a folder can.
    let jobName = String(
      String.UnicodeScalarView(
        spec.name.unicodeScalars.map {
          $0.isASCII
            && (CharacterSet.alphanumerics.contains($0) || "-_.".unicodeScalars.contains($0))
            ? $0 : "_"
        }))
    let common = [request.scriptPath] + ["--out", dir] + options.childOptions
    let tail =
      request.arguments.isEmpty ? "" : " -- " + request.arguments.map(quote).joined(separator: " ")
    let merge =
      quote(executable) + " sweep " + common.map(quote).joined(separator: " ") + " --merge" + tail
    var directives = [
      "--job-name=moonlab-\(jobName)",
      "--array=0-\(shards - 1)" + (settings.arrayParallel.map { "%\($0)" } ?? ""),
      "--ntasks=1", "--cpus-per-task=\(request.threads)", "--output=\"\(dir)/slurm-%A_%a.out\"",
    ]
    if let p = settings.partition { directives.append("--partition=\(p)") }
    if let t = settings.time { directives.append("--time=\(t)") }
    if let m = settings.memory { directives.append("--mem=\(m)") }
    let text = """
      #!/bin/bash
      # Moonlab sweep '\(jobName)': \(spec.trials.count) trials in \(shards) array tasks.
      # Submit: sbatch \(quote(dir + "/sweep.sbatch"))   (or let `moonlab sweep --slurm` do it)
      # When all tasks are done, gather the results (or submit it with --dependency=afterok:JOBID):
      #   \(merge)
      \(directives.map { "#SBATCH " + $0 }.joined(separator: "\n"))
      set -uo pipefail
      cd \(quote(cwd)) || exit 1
      MOONLAB="${MOONLAB:-\(executable)}"
      "$MOONLAB" sweep \(common.map(quote).joined(separator: " ")) --shard "${SLURM_ARRAY_TASK_ID}/\(shards)"\(tail)
      code=$?
      # The task's verdict for `moonlab sweep --slurm`, written whole or not at all.
      status=\(quote(dir + "/slurm"))/"${SLURM_ARRAY_JOB_ID:-local}_${SLURM_ARRAY_TASK_ID}.exit"
      mkdir -p "${status%/*}" && echo "$code" > "$status.tmp" && mv -f "$status.tmp" "$status"
      exit "$code"

      """
    let url = sweep.dir.appendingPathComponent("sweep.sbatch")
    try AtomicFile.write(text, to: url)
    chmod(url.path, 0o755)
    return url
  }

  /// Single-quotes a word for bash unless it is plainly safe.
  static func quote(_ s: String) -> String {
    let safe = CharacterSet(
      charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,+@%")
    if !s.isEmpty, s.unicodeScalars.allSatisfy(safe.contains) { return s }
    return "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
  }
}
