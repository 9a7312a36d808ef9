import Foundation
import MoonlabTensor

/// `moonlab run --np N`: replaces this process with Open MPI's `mpirun` starting N copies
/// of `moonlab run` (docs/scale-out.md, "Training across processes"). mpirun then owns
/// the job: it forwards Ctrl-C to every rank and stops them all when one dies.
public enum MPIRun {
  public static func exec(ranks: Int, arguments: [String]) throws -> Never {
    if MPIWorld.launched {
      throw LabError("moonlab run --np: this process already runs under mpirun; drop --np")
    }
    let cores = RunContext.processorCount
    // Outside a Slurm allocation every rank runs here: thousands of copies of the process
    // would only exhaust the machine's memory.
    if ProcessInfo.processInfo.environment["SLURM_JOB_ID"] == nil, ranks > 4 * cores {
      throw LabError(
        "moonlab run --np \(ranks): this machine has \(cores) cores, and --np starts every rank on it (at most \(4 * cores) here); for more, run mpirun with a hostfile, or --np inside a Slurm allocation"
      )
    }
    var argv = ["mpirun", "-np", String(ranks), "--bind-to", "none"]
    // Open MPI refuses more ranks than cores, and root, unless told.
    if ranks > cores { argv.append("--oversubscribe") }
    if getuid() == 0 { argv.append("--allow-run-as-root") }
    argv += [executable()] + arguments
    // Containers often forbid the cross-memory attach of Open MPI's shared-memory transport.
    setenv("OMPI_MCA_btl_vader_single_copy_mechanism", "none", 0)
    FileHandle.standardError.write(Data("moonlab: \(argv.joined(separator: " "))\n".utf8))
    let cArgs = argv.map { strdup($0) } + [nil]
    execvp("mpirun", cArgs)
    let reason = String(cString: strerror(errno))
    throw LabError(
      "moonlab run --np: can't start mpirun (\(reason)); install Open MPI (Debian/Ubuntu: apt-get install openmpi-bin libopenmpi3)"
    )
  }

  /// This executable's path, for the ranks.
  static func executable() -> String {
    (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
      ?? CommandLine.arguments[0]
  }
}
