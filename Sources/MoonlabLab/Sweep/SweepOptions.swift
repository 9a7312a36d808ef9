import Foundation

/// How `moonlab sweep` runs the script's `lab.sweep` (docs/lab.md, "Sweeps").
public struct SweepOptions {
  /// Worker processes; 1 runs the trials in this process.
  public var jobs = 1
  /// Only trials whose index ≡ shard.index (mod shard.count).
  public var shard: (index: Int, count: Int)?
  /// Gather the finished trials' results; run nothing.
  public var merge = false
  /// Write an sbatch array script running `slurmShards` shards (default: one per trial).
  public var emitSlurm = false
  public var slurmShards: Int?
  /// --resume: the sweep folder must already exist (resuming is the default anyway).
  public var requireExisting = false
  /// The sweep folder; nil = runs/NAME.
  public var out: String?
  /// Hidden: run only this trial (a worker process), into `trialDir` when given.
  public var trial: String?
  public var trialDir: String?
  /// The `moonlab` binary for worker processes (default: this process's executable), and
  /// the options they get besides --trial/--out (seed, threads, --set, limits).
  public var executable: String?
  public var childOptions: [String] = []

  public init() {}
}
