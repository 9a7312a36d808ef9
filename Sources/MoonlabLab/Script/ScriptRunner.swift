import CLua
import Foundation
import MoonlabLua
import MoonlabTensor

/// What `moonlab run` was asked to do.
public struct RunRequest {
  public var scriptPath: String
  public var arguments: [String] = []
  public var seed: UInt64 = 0
  public var threads = ProcessInfo.processInfo.activeProcessorCount
  public var config: [(key: String, value: ConfigValue)] = []
  public var sandbox = false
  public var memoryLimitBytes = 512 << 20
  public var timeLimitSeconds = 0.0

  public init(scriptPath: String) { self.scriptPath = scriptPath }
}

/// A `--set key=value` value: numbers, booleans and strings are told apart like Lua would.
public enum ConfigValue: Equatable {
  case number(Double)
  case boolean(Bool)
  case string(String)

  public init(parsing text: String) {
    if text == "true" {
      self = .boolean(true)
    } else if text == "false" {
      self = .boolean(false)
    } else if let d = Double(text) {
      self = .number(d)
    } else {
      self = .string(text)
    }
  }

  func push(_ lua: Lua) {
    switch self {
    case .number(let d):
      if let i = Int(exactly: d) { lua.push(i) } else { lua.push(d) }
    case .boolean(let b): lua.push(b)
    case .string(let s): lua.push(s)
    }
  }
}

/// Runs one script: seeds the generator, sets thread counts, builds the Lua host with
/// every library, fills `lab.config`, and executes the file.
public enum ScriptRunner {
  public static func makeHost(_ request: RunRequest) throws -> LuaHost {
    Parallel.setThreads(request.threads)
    Generator.seedGlobal(request.seed)
    let host = try LuaHost(
      options: .init(
        sandbox: request.sandbox, memoryLimitBytes: request.memoryLimitBytes,
        timeLimitSeconds: request.timeLimitSeconds))
    host.libraryTable("lab")
    let lua = Lua(host.state)
    lua.newTable()
    for (key, value) in request.config {
      value.push(lua)
      lua.setField(-2, key)
    }
    lua.setField(-2, "config")
    lua.pop()
    return host
  }

  public static func run(_ request: RunRequest) throws {
    let host = try makeHost(request)
    try host.runScript(path: request.scriptPath, arguments: request.arguments)
  }
}
