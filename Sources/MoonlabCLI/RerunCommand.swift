import ArgumentParser
import Foundation
import MoonlabLab

struct RerunCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "rerun",
    abstract:
      "Run a recorded run again from its saved script, config and data; say whether the metrics are bit-identical."
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
    // What can't be matched is said before running, so a difference in the metrics can be
    // told apart from a bug.
    let mismatches = Rerun.mismatches(runDir: original, script: request.scriptPath)
    for line in mismatches { print("note: \(line)") }
    // A rerun that fails (its data gone, say) is still compared as far as it got.
    var failure: Error?
    do { _ = try execute(request) } catch { failure = error }
    let newDir = URL(fileURLWithPath: request.outDir ?? request.sweep?.trialDir ?? "")
    let verdict: Rerun.Verdict
    do {
      verdict = try Rerun.compare(original, newDir)
    } catch {
      throw failure ?? fail(String(describing: error), code: 1)
    }
    print(Self.describe(verdict, newDir: newDir, mismatches: mismatches.count))
    if let failure { throw failure }
    if case .differs = verdict { throw ExitCode(1) }
  }

  /// The verdict line (and, when the metrics differ after noted mismatches, a pointer to them).
  static func describe(_ verdict: Rerun.Verdict, newDir: URL, mismatches: Int) -> String {
    switch verdict {
    case .bitIdentical:
      return "metrics are bit-identical; new run in \(newDir.path)"
    case .timingOnly(let keys):
      return
        "metrics differ only in timing fields (\(keys.joined(separator: ", "))); every other value is bit-identical; new run in \(newDir.path)"
    case .differs(let difference):
      let noted =
        mismatches == 0
        ? ""
        : "\n(\(mismatches) mismatch\(mismatches == 1 ? "" : "es") noted above, before the rerun)"
      return "metrics differ: \(difference)\(noted)"
    }
  }
}
