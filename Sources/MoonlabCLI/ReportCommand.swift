import ArgumentParser
import Foundation
import MoonlabLab
import MoonlabTensor

extension SweepTable.Format: ExpressibleByArgument {}

struct ReportCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "report",
    abstract: "Render report.html and report.md of a run directory again from its files.",
    discussion:
      "With --format, print a sweep folder's results table instead (mean ± std when the sweep has repeats)."
  )

  @Argument(help: "The run directory or sweep folder.") var runDir: String
  @Option(
    help:
      "Print the sweep's results table as markdown, latex or csv instead of rendering the report.")
  var format: SweepTable.Format?
  @Option(help: "With --format: write the table to this file instead of standard output.")
  var output: String?

  func run() throws {
    let dir = URL(fileURLWithPath: runDir)
    do {
      if let format {
        let table = try SweepTable.render(dir, as: format)
        if let output {
          try AtomicFile.write(table, to: URL(fileURLWithPath: output))
        } else {
          print(table, terminator: "")
        }
        return
      }
      guard output == nil else { throw LabError("--output goes with --format") }
      try ReportWriter.rerender(dir)
      print(dir.appendingPathComponent("report.html").path)
    } catch {
      throw fail(String(describing: error), code: 1)
    }
  }
}
