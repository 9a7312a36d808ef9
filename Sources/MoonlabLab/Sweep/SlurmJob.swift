import Foundation
import MoonlabLua

/// `moonlab sweep --slurm`: submits the array script (SlurmScript) with sbatch, follows the
/// job with squeue until every task has left the queue, and names the tasks that did not
/// end well, with their logs (docs/scale-out.md, "Sweeps on a Slurm cluster"). A task's
/// verdict is the exit file its script leaves; Slurm's accounting (sacct) is not needed,
/// so clusters without it work the same.
enum SlurmJob {
  /// Submits the script; returns the job id. Refuses while a job of the same script is
  /// still queued: its unfinished trials would run twice, side by side.
  static func submit(_ script: URL) throws -> String {
    let earlier = queuedJobs(of: script)
    if !earlier.isEmpty {
      let list = earlier.joined(separator: " ")
      throw LuaError(
        "lab.sweep --slurm: slurm job \(list) of \(script.path) is still in the queue; submitting again now would run its unfinished trials twice. Wait for it (`moonlab sweep … --merge` gathers its results), or cancel it first: scancel \(list)"
      )
    }
    let r = ExternalCommand.run("sbatch", ["--parsable", script.path])
    if r.status == 127 {
      throw LuaError(
        "lab.sweep --slurm: sbatch is not installed here (run on the cluster's login node, or write the script with --emit-slurm)"
      )
    }
    // --parsable prints JOBID or JOBID;CLUSTER.
    let id = r.output.split(separator: ";").first.map {
      $0.trimmingCharacters(in: .whitespacesAndNewlines)
    }
    guard r.status == 0, let id, !id.isEmpty, id.allSatisfy(\.isNumber) else {
      throw LuaError(
        "lab.sweep --slurm: sbatch \(script.path) failed (exit \(r.status)): \(r.errors + r.output)"
          .trimmingCharacters(in: .whitespacesAndNewlines))
    }
    return id
  }

  /// The ids of queued jobs whose batch script is `script` (squeue's command field); none
  /// when squeue can't tell.
  static func queuedJobs(of script: URL) -> [String] {
    let r = ExternalCommand.run("squeue", ["-h", "-o", "%A|%o"])
    guard r.status == 0 else { return [] }
    let path = script.standardizedFileURL.path
    var ids: [String] = []
    for line in r.output.split(whereSeparator: \.isNewline) {
      let parts = line.split(separator: "|", maxSplits: 1).map(String.init)
      if parts.count == 2, parts[1] == path, !ids.contains(parts[0]) { ids.append(parts[0]) }
    }
    return ids
  }

  /// The job's array tasks still queued: pending, and running (or starting, completing,
  /// suspended). nil when squeue failed; a job Slurm has forgotten counts as none left.
  static func queued(_ job: String) -> (pending: Int, running: Int, error: String?) {
    let r = ExternalCommand.run("squeue", ["-h", "-r", "-j", job, "-o", "%t"])
    guard r.status == 0 else {
      if r.errors.contains("Invalid job id") { return (0, 0, nil) }
      return (0, 0, (r.errors + r.output).trimmingCharacters(in: .whitespacesAndNewlines))
    }
    let states = r.output.split(whereSeparator: \.isNewline).map {
      $0.trimmingCharacters(in: .whitespaces)
    }
    let pending = states.filter { $0 == "PD" }.count
    return (pending, states.count - pending, nil)
  }

  /// Waits until no task of `job` is queued, printing a progress line whenever it
  /// changes, then throws unless every task left exit status 0. Ctrl-C stops the waiting,
  /// not the job.
  static func wait(_ job: String, sweep: Sweep, pollSeconds: Double) throws {
    let tasks = SlurmScript.shards(sweep)
    let name = sweep.spec.name
    var last = ""
    var failedLooks = 0
    while true {
      if Interrupts.pending != nil {
        throw LuaError(
          "lab.sweep --slurm: stopped waiting; job \(job) goes on on the cluster (`scancel \(job)` stops it). Gather its results later with `moonlab sweep … --merge`, or run the same `moonlab sweep … --slurm` again to resubmit what is unfinished"
        )
      }
      let q = queued(job)
      if let error = q.error {
        failedLooks += 1
        // A controller that restarts answers again within a minute or so.
        if Double(failedLooks) * pollSeconds > 300 {
          throw LuaError(
            "lab.sweep --slurm: squeue keeps failing for job \(job): \(error); the job may still run (`moonlab sweep … --merge` gathers it later)"
          )
        }
      } else {
        failedLooks = 0
        let finished = sweep.spec.trials.filter { sweep.isDone($0) }.count
        let line =
          "sweep \(name): slurm job \(job): \(q.pending) pending, \(q.running) running, \(tasks - q.pending - q.running) of \(tasks) tasks ended; \(finished) of \(sweep.spec.trials.count) trials done"
        if line != last {
          print(line)
          last = line
        }
        if q.pending + q.running == 0 { break }
      }
      // Short naps, so Ctrl-C is answered at once.
      var slept = 0.0
      while slept < pollSeconds, Interrupts.pending == nil {
        usleep(100_000)
        slept += 0.1
      }
    }
    let failed = (0..<tasks).compactMap { task -> String? in
      let file = SlurmScript.exitStatus(sweep, job: job, task: task)
      let status = (try? String(contentsOf: file, encoding: .utf8))?
        .trimmingCharacters(in: .whitespacesAndNewlines)
      if status == "0" { return nil }
      let why = status.map { "exit \($0)" } ?? "no exit status: cancelled, out of time or killed"
      return "task \(task) (\(why); log \(SlurmScript.log(sweep, job: job, task: task).path))"
    }
    if !failed.isEmpty {
      throw LuaError(
        "lab.sweep --slurm: \(failed.count) of \(tasks) tasks of job \(job) failed: "
          + failed.joined(separator: ", ")
          + ". Finished trials are kept: run the same `moonlab sweep … --slurm` again to resubmit the rest"
      )
    }
  }
}
