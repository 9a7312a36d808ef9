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
  /// --slurm: submit that script with sbatch (and, unless `wait` is off, wait and merge).
  public var slurm: SlurmOptions?
  /// #SBATCH settings of the script (--partition, --time, --mem, --array-parallel).
  public var slurmSettings = SlurmSettings()
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

/// The #SBATCH lines `moonlab sweep --slurm` and `--emit-slurm` add to the array script;
/// nil leaves the cluster's default.
public struct SlurmSettings {
  public var partition: String?
  /// Wall-time limit per task, in any form sbatch takes ("30", "2:00:00", "1-0").
  public var time: String?
  /// Memory per task ("4G").
  public var memory: String?
  /// At most this many array tasks at once (sbatch's `--array=0-N%K`).
  public var arrayParallel: Int?

  public init() {}
}

/// How `moonlab sweep --slurm` follows its job (docs/scale-out.md).
public struct SlurmOptions {
  /// Wait for the array job, showing progress, then merge; false returns after sbatch.
  public var wait = true
  /// Seconds between two looks at squeue and the sweep folder.
  public var pollSeconds = 5.0

  public init() {}
}
