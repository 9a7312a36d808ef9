import ArgumentParser
import Foundation
import MoonlabLab

struct RunCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "run", abstract: "Run a Lua experiment script, recording it in a run directory.")

  @OptionGroup var options: ScriptOptions
  @Option(help: "Run directory (default: runs/NAME-YYYYmmdd-HHMMSS).") var out: String?

  func run() throws {
    var request = try options.request()
    request.outDir = out
    try execute(request)
  }
}
