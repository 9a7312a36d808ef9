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
  @Flag(
    help:
      "Submit the shards as a Slurm array job with sbatch, wait for it (progress from squeue), then merge."
  )
  var slurm = false
  @Flag(
    name: .customLong("no-wait"),
    help: "With --slurm: return after submitting; gather later with --merge.")
  var noWait = false
  @Option(help: "Array tasks for --slurm and --emit-slurm (default: one per trial).") var shards:
    Int?
  @Option(help: "Slurm partition (sbatch --partition).") var partition: String?
  @Option(
    name: .customLong("array-parallel"),
    help: "At most this many array tasks at once (sbatch --array=…%N).")
  var arrayParallel: Int?
  @Option(help: "Time limit per array task, as sbatch takes it (e.g. 2:00:00).") var time: String?
  @Option(help: "Memory per array task, as sbatch takes it (e.g. 4G).") var mem: String?
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
    if let shards, shards < 1 { throw fail("--shards must be at least 1", code: 2) }
    sweep.slurmShards = shards
    if let arrayParallel, arrayParallel < 1 {
      throw fail("--array-parallel must be at least 1", code: 2)
    }
    // Each goes into an #SBATCH line of the script: no spaces, quotes or line breaks.
    let sbatchSafe = CharacterSet(
      charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:,+@%=")
    for (value, option) in [(partition, "--partition"), (time, "--time"), (mem, "--mem")] {
      if let value, value.isEmpty || !value.unicodeScalars.allSatisfy(sbatchSafe.contains) {
        throw fail("\(option) '\(value)' is not a value sbatch takes", code: 2)
      }
    }
    sweep.slurmSettings.partition = partition
    sweep.slurmSettings.arrayParallel = arrayParallel
    sweep.slurmSettings.time = time
    sweep.slurmSettings.memory = mem
    if slurm {
      let clash = [
        (merge, "--merge"), (emitSlurm, "--emit-slurm"), (shard != nil, "--shard"),
        (jobs > 1, "--jobs"), (trial != nil, "--trial"),
      ].filter { $0.0 }.map { $0.1 }
      if let first = clash.first { throw fail("--slurm can't be combined with \(first)", code: 2) }
      var follow = SlurmOptions()
      follow.wait = !noWait
      if let poll = ProcessInfo.processInfo.environment["MOONLAB_SLURM_POLL_SECONDS"],
        let seconds = Double(poll), seconds > 0
      {
        follow.pollSeconds = seconds
      }
      sweep.slurm = follow
    } else if noWait {
      throw fail("--no-wait goes with --slurm", code: 2)
    }
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
