import ArgumentParser
import Foundation
import MoonlabLab
import MoonlabTensor

/// The options every command that runs a script shares (run, sweep).
struct ScriptOptions: ParsableArguments {
  @Argument(help: "The Lua script to run.") var script: String
  // `.unconditional`: a value such as "-5" is read as the value (and refused by
  // `validate`), not taken for an unknown flag ("Missing value for '--seed'").
  @Option(parsing: .unconditional, help: "Seed of the run's random generator (0 to 2^64-1).")
  var seed: String = ScriptOptions.defaultSeed
  @Option(parsing: .unconditional, help: "Threads for OpenBLAS and Moonlab's kernels (1 to 256).")
  var threads: Int = ScriptOptions.cores
  @Option(name: .customLong("set"), help: "key=value into lab.config (repeatable).")
  var settings: [String] = []
  @Flag(help: "Restricted standard library, memory and time caps (scripts from elsewhere).")
  var sandbox = false
  @Option(
    name: .customLong("memory-limit"), parsing: .unconditional,
    help: "Cap in MB on the Lua heap and on live tensors (default 512 with --sandbox).")
  var memoryLimit: Int?
  @Option(
    name: .customLong("time-limit"), parsing: .unconditional,
    help: "Stop the script after this many seconds.")
  var timeLimit: Double?
  @Argument(parsing: .postTerminator, help: "Arguments passed to the script (after --).")
  var scriptArguments: [String] = []

  /// The default of `--threads` (ArgumentParser makes several instances while parsing).
  static let cores = RunContext.processorCount
  static let defaultSeed = "0"

  /// The wall-time cap of `--sandbox` without `--time-limit`: a script from elsewhere that
  /// never ends still ends.
  static let sandboxTimeLimit = 3600.0

  /// The parsed values.
  var arguments: ScriptArguments {
    ScriptArguments(
      script: script, seed: seed, threads: threads, settings: settings, sandbox: sandbox,
      memoryLimit: memoryLimit, timeLimit: timeLimit, scriptArguments: scriptArguments)
  }

  func validate() throws { try arguments.validate() }
  func request() throws -> RunRequest { try arguments.request() }
  var forwarded: [String] { arguments.forwarded }
}
