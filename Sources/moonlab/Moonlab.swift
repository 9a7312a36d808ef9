import ArgumentParser
import Foundation
import MoonlabLab
import MoonlabLua

@main
struct Moonlab: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "moonlab",
    abstract: "Run Lua deep-learning experiments on a Swift engine.",
    version: MoonlabVersion.string,
    subcommands: [RunCommand.self, ReplCommand.self, DataCommand.self])
}

/// Prints an error for the user and leaves with `code`: 1 for script errors, 2 for a
/// missing script or bad usage.
func fail(_ message: String, code: Int32) -> ExitCode {
  FileHandle.standardError.write(Data(("moonlab: " + message + "\n").utf8))
  return ExitCode(code)
}

struct RunCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "run", abstract: "Run a Lua experiment script.")

  @Argument(help: "The Lua script to run.") var script: String
  @Option(help: "Seed of the run's random generator.") var seed: UInt64 = 0
  @Option(help: "Threads for OpenBLAS and Moonlab's kernels.")
  var threads: Int = ProcessInfo.processInfo.activeProcessorCount
  @Option(name: .customLong("set"), help: "key=value into lab.config (repeatable).")
  var settings: [String] = []
  @Flag(help: "Restricted standard library, memory and time caps (scripts from elsewhere).")
  var sandbox = false
  @Argument(parsing: .postTerminator, help: "Arguments passed to the script (after --).")
  var scriptArguments: [String] = []

  func run() throws {
    var request = RunRequest(scriptPath: script)
    request.arguments = scriptArguments
    request.seed = seed
    request.threads = threads
    request.sandbox = sandbox
    for s in settings {
      guard let eq = s.firstIndex(of: "="), eq != s.startIndex else {
        throw fail("--set expects key=value, got '\(s)'", code: 2)
      }
      request.config.append((String(s[..<eq]), ConfigValue(parsing: String(s[s.index(after: eq)...]))))
    }
    do {
      try ScriptRunner.run(request)
    } catch let e as ScriptNotFound {
      throw fail(e.description, code: 2)
    } catch {
      FileHandle.standardError.write(Data((String(describing: error) + "\n").utf8))
      throw ExitCode(1)
    }
  }
}

struct ReplCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "repl", abstract: "Read Lua from standard input, line by line.")

  func run() throws {
    let host = try ScriptRunner.makeHost(RunRequest(scriptPath: "stdin"))
    Repl.run(host: host)
  }
}
