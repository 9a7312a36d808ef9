import ArgumentParser
import Foundation
import MoonlabLab

struct SweepCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "sweep",
    abstract:
      "Run the trials of a script's lab.sweep (resuming finished ones), here, in worker processes, or as shards."
  )

  @OptionGroup var options: ScriptOptions
  @Option(help: "Worker processes running trials at once.") var jobs = 1
  @Option(help: "Run only every n-th trial starting at i (i/n, i from 0).") var shard: String?
  @Flag(help: "Gather the results of every trial from the sweep folder; run nothing.") var merge =
    false
  @Flag(
    name: .customLong("emit-slurm"),
    help: "Write an sbatch array script running the shards; run nothing.")
  var emitSlurm = false
  @Option(help: "Array tasks in the --emit-slurm script (default: one per trial).") var shards: Int?
  @Flag(
    help:
      "Continue the sweep in an existing folder (the default when it exists; this makes it required)."
  )
  var resume = false
  @Option(help: "Sweep folder (default: runs/NAME from lab.sweep{name=}).") var out: String?
  @Option(help: .hidden) var trial: String?
  @Option(name: .customLong("trial-dir"), help: .hidden) var trialDir: String?

  func run() throws {
    var request = try options.request()
    var sweep = SweepOptions()
    guard jobs >= 1 else { throw fail("--jobs must be at least 1", code: 2) }
    sweep.jobs = jobs
    if let shard {
      let parts = shard.split(separator: "/").compactMap { Int($0) }
      guard parts.count == 2, parts[1] >= 1, (0..<parts[1]).contains(parts[0]) else {
        throw fail("--shard expects i/n with 0 ≤ i < n, got '\(shard)'", code: 2)
      }
      sweep.shard = (parts[0], parts[1])
    }
    sweep.merge = merge
    sweep.emitSlurm = emitSlurm
    sweep.slurmShards = shards
    sweep.requireExisting = resume
    sweep.out = out
    sweep.trial = trial
    sweep.trialDir = trialDir
    sweep.childOptions = options.forwarded
    if trial != nil { TrialProcesses.exitWithParent() }
    request.sweep = sweep
    try execute(request)
  }
}
