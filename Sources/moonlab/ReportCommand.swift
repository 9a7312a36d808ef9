import ArgumentParser
import Foundation
import MoonlabLab

struct ReportCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "report",
    abstract: "Render report.html and report.md of a run directory again from its files.")

  @Argument(help: "The run directory.") var runDir: String

  func run() throws {
    do {
      try ReportWriter.rerender(URL(fileURLWithPath: runDir))
      print(URL(fileURLWithPath: runDir).appendingPathComponent("report.html").path)
    } catch {
      throw fail(String(describing: error), code: 1)
    }
  }
}
