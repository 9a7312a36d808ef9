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

  func validate() throws {
    guard UInt64(seed) != nil else {
      throw ValidationError("--seed must be a whole number from 0 to 2^64-1, got '\(seed)'")
    }
    guard (1...256).contains(threads) else {
      throw ValidationError("--threads must be from 1 to 256, got \(threads)")
    }
    if let memoryLimit, memoryLimit <= 0 {
      throw ValidationError("--memory-limit must be a positive number of MB, got \(memoryLimit)")
    }
    if let timeLimit, !(timeLimit > 0 && timeLimit.isFinite) {
      throw ValidationError("--time-limit must be a positive number of seconds, got \(timeLimit)")
    }
    var seen: [Substring: Substring] = [:]
    for s in settings {
      guard let eq = s.firstIndex(of: "="), eq != s.startIndex else {
        throw ValidationError("--set expects key=value, got '\(s)'")
      }
      let (key, value) = (s[..<eq], s[s.index(after: eq)...])
      if let first = seen[key] {
        throw ValidationError("--set \(key) is given twice ('\(first)' and '\(value)')")
      }
      seen[key] = value
    }
  }

  func request() throws -> RunRequest {
    var request = RunRequest(scriptPath: script)
    request.arguments = scriptArguments
    request.seed = UInt64(seed) ?? 0
    request.threads = threads
    request.sandbox = sandbox
    request.memoryLimitBytes = (memoryLimit ?? (sandbox ? 512 : 0)) << 20
    request.timeLimitSeconds = timeLimit ?? (sandbox ? ScriptOptions.sandboxTimeLimit : 0)
    for s in settings {
      guard let eq = s.firstIndex(of: "=") else { continue }  // refused by validate()
      request.config.append(
        (String(s[..<eq]), ConfigValue(parsing: String(s[s.index(after: eq)...]))))
    }
    return request
  }

  /// The same options for a worker process or an sbatch script.
  var forwarded: [String] {
    var out = ["--seed", seed, "--threads", String(threads)]
    for s in settings { out += ["--set", s] }
    if sandbox { out.append("--sandbox") }
    if let memoryLimit { out += ["--memory-limit", String(memoryLimit)] }
    if let timeLimit { out += ["--time-limit", String(timeLimit)] }
    return out
  }
}
