import ArgumentParser
import Foundation
import MoonlabLab

struct ResumeCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "resume",
    abstract:
      "Continue an interrupted or killed run from its last checkpoint, into the same run directory."
  )

  @Argument(help: "The run directory to continue (a sweep trial's too).") var runDir: String

  func run() throws {
    let request: RunRequest
    do {
      request = try RunResume.request(runDir: URL(fileURLWithPath: runDir))
    } catch {
      throw fail(String(describing: error), code: 2)
    }
    if let change = Rerun.kernelChange(runDir: URL(fileURLWithPath: runDir)) {
      print("note: \(change)")
    }
    try execute(request)
  }
}
