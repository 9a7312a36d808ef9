import Foundation
import MoonlabTensor

/// What `moonlab rerun` says before running: each part of the recorded run it cannot
/// match here — the script, the kernels, OpenBLAS and the thread count, the data
/// (docs/lab.md, "Provenance"). A difference in any of them can change the metrics, so
/// naming it first tells a changed input from a bug.
extension Rerun {
  /// Every mismatch, one line each ("data changed: FILE (…)"); empty when all match.
  public static func mismatches(runDir: URL, script: String) -> [String] {
    guard let config = try? JSON.read(runDir.appendingPathComponent("config.json")) else {
      return []
    }
    var notes = [scriptChange(runDir: runDir, script: script), kernelChange(runDir: runDir)]
      .compactMap { $0 }
    notes += threadChanges(config)
    guard let datasets = config["datasets"]?.items else {
      return notes + [
        "config.json records no datasets (made before Moonlab recorded them): the rerun reads the data roots as they are now"
      ]
    }
    let digests = FileDigests()
    defer { digests.save() }
    return notes + datasets.flatMap { DatasetRecord.mismatches($0, digests: digests) }
  }

  /// The recorded sha256 when the script about to run differs from it.
  public static func scriptChange(runDir: URL, script: String) -> String? {
    guard
      let recorded = (try? JSON.read(runDir.appendingPathComponent("config.json")))??["script"]?[
        "sha256"]?.text,
      let now = FileManager.default.contents(atPath: script)
    else { return nil }
    let hash = SHA256.hex(now)
    return hash == recorded
      ? nil
      : "the script differs from the recorded one (sha256 \(hash.prefix(12))… vs \(recorded.prefix(12))…)"
  }

  /// A note when the run was recorded by a build whose kernels were compiled differently
  /// (portable vs AVX2/FMA): its metrics can then differ in the last bits.
  public static func kernelChange(runDir: URL) -> String? {
    guard
      let recorded = (try? JSON.read(runDir.appendingPathComponent("config.json")))??["kernels"]?
        .text,
      recorded != KernelBuild.name
    else { return nil }
    return
      "the run was recorded with \(recorded) kernels, this build has \(KernelBuild.name) ones: expect last-bit differences (docs/architecture.md, \"Build targets\")"
  }

  /// The thread count and OpenBLAS: our kernels split work by the thread count alone
  /// (OpenBLAS itself runs on one thread, RunContext), but each OpenBLAS core type and
  /// version has its own kernels.
  static func threadChanges(_ config: JSON) -> [String] {
    var notes: [String] = []
    let now = Provenance.openBLAS
    guard let threads = config["threads"]?.double, threads >= 1 else {
      return ["config.json records no thread count: the rerun uses 1 thread"]
    }
    if let recorded = config["openblas"], recorded["core"] != nil {
      func describe(_ j: JSON) -> String {
        "\(j["version"]?.text ?? "?") (\(j["core"]?.text ?? "?") core)"
      }
      if recorded["core"] != now["core"] || recorded["version"] != now["version"] {
        notes.append(
          "the run was recorded with OpenBLAS \(describe(recorded)), this machine has \(describe(now)): expect last-bit differences in matrix products"
        )
      }
    }
    return notes
  }
}
