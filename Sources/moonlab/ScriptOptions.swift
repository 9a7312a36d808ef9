import ArgumentParser
import Foundation
import MoonlabLab

/// The options every command that runs a script shares (run, sweep).
struct ScriptOptions: ParsableArguments {
  @Argument(help: "The Lua script to run.") var script: String
  @Option(help: "Seed of the run's random generator.") var seed: UInt64 = 0
  @Option(help: "Threads for OpenBLAS and Moonlab's kernels.")
  var threads: Int = ProcessInfo.processInfo.activeProcessorCount
  @Option(name: .customLong("set"), help: "key=value into lab.config (repeatable).")
  var settings: [String] = []
  @Flag(help: "Restricted standard library, memory and time caps (scripts from elsewhere).")
  var sandbox = false
  @Option(
    name: .customLong("memory-limit"),
    help: "Cap on the Lua heap in MB (default 512 with --sandbox).")
  var memoryLimit: Int?
  @Option(name: .customLong("time-limit"), help: "Stop the script after this many seconds.")
  var timeLimit: Double?
  @Argument(parsing: .postTerminator, help: "Arguments passed to the script (after --).")
  var scriptArguments: [String] = []

  func request() throws -> RunRequest {
    var request = RunRequest(scriptPath: script)
    request.arguments = scriptArguments
    request.seed = seed
    request.threads = threads
    request.sandbox = sandbox
    request.memoryLimitBytes = (memoryLimit ?? (sandbox ? 512 : 0)) << 20
    request.timeLimitSeconds = timeLimit ?? 0
    for s in settings {
      guard let eq = s.firstIndex(of: "="), eq != s.startIndex else {
        throw fail("--set expects key=value, got '\(s)'", code: 2)
      }
      request.config.append(
        (String(s[..<eq]), ConfigValue(parsing: String(s[s.index(after: eq)...]))))
    }
    return request
  }

  /// The same options for a worker process or an sbatch script.
  var forwarded: [String] {
    var out = ["--seed", String(seed), "--threads", String(threads)]
    for s in settings { out += ["--set", s] }
    if sandbox { out.append("--sandbox") }
    if let memoryLimit { out += ["--memory-limit", String(memoryLimit)] }
    if let timeLimit { out += ["--time-limit", String(timeLimit)] }
    return out
  }
}
