import ArgumentParser
import MoonlabLab
import MoonlabLua

struct ReplCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "repl", abstract: "Read Lua from standard input, line by line.")

  func run() throws {
    let host = try ScriptRunner.makeHost(RunRequest(scriptPath: "stdin"))
    Repl.run(host: host)
  }
}
