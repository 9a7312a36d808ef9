import ArgumentParser
import Foundation
import MoonlabLab

struct RerunCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "rerun",
    abstract:
      "Run a recorded run again from its saved script and config; say whether the metrics are bit-identical."
  )

  @Argument(help: "The run directory to repeat.") var runDir: String
  @Option(help: "Directory of the new run (default: runs/NAME-rerun-YYYYmmdd-HHMMSS).") var out:
    String?
  @Option(help: "Run this script instead of the saved copy (to see what a change does).")
  var script: String?

  func run() throws {
    let original = URL(fileURLWithPath: runDir)
    let request: RunRequest
    do {
      request = try Rerun.request(runDir: original, script: script, out: out)
      // A damaged or hand-edited record is named before anything runs.
      _ = try MetricsLog.readStrictly(original.appendingPathComponent("metrics.jsonl"))
    } catch {
      throw fail(String(describing: error), code: 2)
    }
    if let change = Rerun.scriptChange(runDir: original, script: request.scriptPath) {
      print("note: \(change)")
    }
    if let change = Rerun.kernelChange(runDir: original) { print("note: \(change)") }
    try execute(request)
    let newDir = URL(fileURLWithPath: request.outDir ?? request.sweep?.trialDir ?? "")
    let difference: String?
    do {
      difference = try Rerun.firstDifference(original, newDir)
    } catch {
      throw fail(String(describing: error), code: 1)
    }
    if let difference {
      print("metrics differ: \(difference)")
      throw ExitCode(1)
    }
    print("metrics are bit-identical (timing keys ignored); new run in \(newDir.path)")
  }
}
