import Foundation
import MoonlabTensor

/// `--emit-slurm`: an sbatch array script whose task k runs `moonlab sweep … --shard k/n`
/// into the same sweep folder; afterwards `moonlab sweep … --merge` gathers the results.
enum SlurmScript {
  static func write(_ sweep: Sweep) throws -> URL {
    let spec = sweep.spec
    let options = sweep.options
    let request = sweep.session.request
    let shards = max(1, min(options.slurmShards ?? spec.trials.count, spec.trials.count))
    let executable =
      options.executable
      ?? (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? "moonlab"
    let cwd = FileManager.default.currentDirectoryPath
    let dir = sweep.dir.standardizedFileURL.path
    let common = [request.scriptPath] + ["--out", dir] + options.childOptions
    let tail =
      request.arguments.isEmpty ? "" : " -- " + request.arguments.map(quote).joined(separator: " ")
    let merge =
      quote(executable) + " sweep " + common.map(quote).joined(separator: " ") + " --merge" + tail
    let text = """
      #!/bin/bash
      # Moonlab sweep '\(spec.name)': \(spec.trials.count) trials in \(shards) array tasks.
      # Submit: sbatch \(quote(dir + "/sweep.sbatch"))
      # When all tasks are done, gather the results (or submit it with --dependency=afterok:JOBID):
      #   \(merge)
      #SBATCH --job-name=moonlab-\(spec.name)
      #SBATCH --array=0-\(shards - 1)
      #SBATCH --ntasks=1
      #SBATCH --cpus-per-task=\(request.threads)
      #SBATCH --output=\(dir)/slurm-%A_%a.out
      set -euo pipefail
      cd \(quote(cwd))
      MOONLAB="${MOONLAB:-\(executable)}"
      "$MOONLAB" sweep \(common.map(quote).joined(separator: " ")) --shard "${SLURM_ARRAY_TASK_ID}/\(shards)"\(tail)

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
