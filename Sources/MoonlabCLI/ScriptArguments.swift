import ArgumentParser
import MoonlabLab

/// The values of the options every script-running command shares (`ScriptOptions`), as a
/// plain value: what `RunCommand.parsePlain` fills without ArgumentParser, and what
/// validation, the run request and the forwarded options are made from.
struct ScriptArguments: Equatable {
  var script: String
  var seed = ScriptOptions.defaultSeed
  var threads = ScriptOptions.cores
  var settings: [String] = []
  var sandbox = false
  var memoryLimit: Int?
  var timeLimit: Double?
  var scriptArguments: [String] = []

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
