import ArgumentParser
import Foundation
import MoonlabLab

struct CompareCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "compare",
    abstract:
      "Compare runs (what differs in their configurations, final and best metrics, overlaid curves) or sweeps (configurations aligned, mean ± std with repeats).",
    discussion:
      "Prints the tables as Markdown and writes compare.html and compare.md (charts in compare-plots/) into --out."
  )

  @Argument(help: "Run directories, or sweep folders.") var folders: [String]
  @Flag(help: "Show every configuration key, not only the ones that differ.") var all = false
  @Option(help: "Folder for compare.html and compare.md (default: the current directory).")
  var out = "."

  func run() throws {
    do {
      let comparison = try Comparison(paths: folders, all: all)
      let dir = URL(fileURLWithPath: out)
      print(try comparison.write(to: dir), terminator: "")
      print(
        "written: \(dir.appendingPathComponent("compare.html").path), \(dir.appendingPathComponent("compare.md").path)"
      )
    } catch {
      throw fail(String(describing: error), code: 1)
    }
  }
}
