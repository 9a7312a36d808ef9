import Foundation
import TestSupport
import XCTest

@testable import MoonlabLab

/// Acceptance #3 through the `moonlab` executable: worker processes, SIGKILL and resume,
/// shards and merge, the sbatch script.
final class SweepTests: XCTestCase {
  /// Six trials; each spins `spin` CPU seconds so a kill lands mid-sweep, logs two
  /// epochs and returns score = a·b and `noise`, drawn from the trial's seeded generator
  /// and init stream (equal across --jobs, shards and order only if the seeds are).
  static let script = """
    local spin = lab.config.spin or 0
    local results = lab.sweep{
      name = "grid6", grid = {a = {1, 2, 3}, b = {10, 20}}, metric = "score", mode = "max",
      run = function(cfg)
        local t0 = os.clock()
        while os.clock() - t0 < spin do end
        for epoch = 1, 2 do lab.log{epoch = epoch, loss = cfg.a / (epoch * cfg.b)} end
        local init = nn.Linear(3, 1):parameters()[1]:sum():item()
        return {score = cfg.a * cfg.b, noise = tensor.randn{1}:item() + init}
      end,
    }
    print("best", results[1].trial, results[1].result.score)
    report.text("Best trial: **" .. results[1].trial .. "**")
    lab.log{best = results[1].result.score}
    """

  /// results.csv rows (header first) as cells.
  func csv(_ dir: URL) -> [[String]] {
    read(dir.appendingPathComponent("results.csv")).split(separator: "\n").map {
      $0.split(separator: ",").map(String.init)
    }
  }

  func assertCompleteResults(_ dir: URL, file: StaticString = #filePath, line: UInt = #line) {
    let rows = csv(dir)
    XCTAssertEqual(
      rows.first, ["rank", "trial", "seed", "a", "b", "score", "noise"], file: file, line: line)
    // Sorted by score, ties (20) in grid order: (a=1, b=20) before (a=2, b=10).
    XCTAssertEqual(
      rows.dropFirst().map { [$0[3], $0[4], $0[5]] },
      [
        ["3", "20", "60"], ["2", "20", "40"], ["3", "10", "30"], ["1", "20", "20"],
        ["2", "10", "20"], ["1", "10", "10"],
      ], file: file, line: line)
    XCTAssertEqual(
      Set(rows.dropFirst().map { $0[1] }).count, 6, "distinct trial ids", file: file, line: line)
    for r in rows.dropFirst() {
      XCTAssertTrue(exists(dir.appendingPathComponent(r[1]), "DONE"), file: file, line: line)
    }
  }

  func testKilledSweepResumesWithoutRedoingFinishedTrials() throws {
    let folder = try TestPaths.temporaryDirectory()
    try writeScript(Self.script, "sweep.lua", in: folder)
    let sweep = folder.appendingPathComponent("runs/grid6")
    let args = ["sweep", "sweep.lua", "--jobs", "2", "--threads", "1", "--set", "spin=0.4"]
    let log = folder.appendingPathComponent("first.log")
    let first = try startMoonlab(args, in: folder, log: log)
    let deadline = Date().addingTimeInterval(60)
    func finished() -> [String] {
      ((try? FileManager.default.contentsOfDirectory(atPath: sweep.path)) ?? []).filter {
        exists(sweep.appendingPathComponent($0), "DONE")
      }
    }
    while finished().count < 2, first.isRunning, Date() < deadline { usleep(20_000) }
    XCTAssertTrue(first.isRunning, "the sweep ended before the kill:\n\(read(log))")
    kill(first.processIdentifier, SIGKILL)
    first.waitUntilExit()
    // Workers die with their parent; wait until none is left in this test's folder.
    func workers() -> [String] {
      ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).filter {
        Int($0) != nil
          && (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\($0)/cwd"))
            == folder.path
      }
    }
    while !workers().isEmpty, Date() < deadline { usleep(50_000) }
    XCTAssertEqual(workers(), [])
    let done = finished()
    XCTAssertGreaterThanOrEqual(done.count, 2)
    XCTAssertLessThan(done.count, 6)
    XCTAssertFalse(exists(sweep, "results.csv"))
    let stamps = try done.map {
      try FileManager.default.attributesOfItem(
        atPath: sweep.appendingPathComponent("\($0)/DONE").path)[.modificationDate] as? Date
    }

    let second = try runMoonlab(args, in: folder)
    XCTAssertEqual(second.status, 0, second.output)
    XCTAssertTrue(
      second.output.contains("6 trials, \(done.count) already done, running \(6 - done.count)"),
      second.output)
    XCTAssertTrue(second.output.contains("best"), second.output)
    let after = try done.map {
      try FileManager.default.attributesOfItem(
        atPath: sweep.appendingPathComponent("\($0)/DONE").path)[.modificationDate] as? Date
    }
    XCTAssertEqual(after, stamps, "finished trials were not run again")
    assertCompleteResults(sweep)
    for file in [
      "results.md", "report.html", "sweep.json", "config.json", "script.lua", "metrics.jsonl",
      "DONE",
    ] {
      XCTAssertTrue(exists(sweep, file), file)
    }
    let report = read(sweep.appendingPathComponent("report.html"))
    XCTAssertTrue(
      report.contains("Best trial: <strong>"), "what the script reports after lab.sweep")
    XCTAssertEqual(
      report.components(separatedBy: "<polyline").count - 1, 7,
      "the loss curves of 6 trials, and the chart of the `best` logged after the sweep")
    XCTAssertEqual(leftoverTemporaryFiles(sweep), [])
  }

  func testWorkersAndShardsPlusMergeEqualOneUnshardedRunAndSlurmScriptRunsThem() throws {
    let folder = try TestPaths.temporaryDirectory()
    try writeScript(Self.script, "sweep.lua", in: folder)
    let whole = try runMoonlab(
      ["sweep", "sweep.lua", "--threads", "1", "--out", "whole"], in: folder)
    XCTAssertEqual(whole.status, 0, whole.output)
    let wholeDir = folder.appendingPathComponent("whole")
    assertCompleteResults(wholeDir)

    let workers = try runMoonlab(
      ["sweep", "sweep.lua", "--threads", "1", "--out", "workers", "--jobs", "3"], in: folder)
    XCTAssertEqual(workers.status, 0, workers.output)
    XCTAssertEqual(
      read(folder.appendingPathComponent("workers/results.csv")),
      read(wholeDir.appendingPathComponent("results.csv")))

    for shard in ["0/2", "1/2"] {
      let r = try runMoonlab(
        ["sweep", "sweep.lua", "--threads", "1", "--out", "sharded", "--shard", shard], in: folder)
      XCTAssertEqual(r.status, 0, r.output)
      XCTAssertTrue(r.output.contains("3 trials, 0 already done, running 3"), r.output)
      XCTAssertFalse(r.output.contains("best"), "a shard stops after lab.sweep")
    }
    let sharded = folder.appendingPathComponent("sharded")
    XCTAssertFalse(exists(sharded, "results.csv"), "a shard doesn't write the sweep's results")
    let merged = try runMoonlab(
      ["sweep", "sweep.lua", "--threads", "1", "--out", "sharded", "--merge"], in: folder)
    XCTAssertEqual(merged.status, 0, merged.output)
    XCTAssertEqual(
      read(sharded.appendingPathComponent("results.csv")),
      read(wholeDir.appendingPathComponent("results.csv")))
    // `moonlab report` redoes a sweep folder's report from its files.
    let report = read(sharded.appendingPathComponent("report.html"))
    try FileManager.default.removeItem(at: sharded.appendingPathComponent("report.html"))
    XCTAssertEqual(try runMoonlab(["report", "sharded"], in: folder).status, 0)
    XCTAssertEqual(read(sharded.appendingPathComponent("report.html")), report)

    // The sbatch script: two array tasks, each a shard; run them with bash, then merge.
    let emitted = try runMoonlab(
      ["sweep", "sweep.lua", "--threads", "1", "--out", "slurm", "--emit-slurm", "--shards", "2"],
      in: folder)
    XCTAssertEqual(emitted.status, 0, emitted.output)
    let slurm = folder.appendingPathComponent("slurm")
    let sbatch = read(slurm.appendingPathComponent("sweep.sbatch"))
    XCTAssertTrue(sbatch.contains("#SBATCH --array=0-1"), sbatch)
    XCTAssertTrue(sbatch.contains("--shard \"${SLURM_ARRAY_TASK_ID}/2\""), sbatch)
    XCTAssertTrue(sbatch.contains("--merge"), sbatch)
    XCTAssertEqual(
      try FileManager.default.contentsOfDirectory(atPath: slurm.path).sorted(),
      ["sweep.json", "sweep.sbatch"])
    for task in ["0", "1"] {
      let bash = Process()
      bash.executableURL = URL(fileURLWithPath: "/bin/bash")
      bash.arguments = [slurm.appendingPathComponent("sweep.sbatch").path]
      bash.environment = ProcessInfo.processInfo.environment.merging(
        ["SLURM_ARRAY_TASK_ID": task, "MOONLAB": try moonlabBinary().path]) { $1 }
      bash.standardOutput = FileHandle.nullDevice
      try bash.run()
      bash.waitUntilExit()
      XCTAssertEqual(bash.terminationStatus, 0)
    }
    let slurmMerge = try runMoonlab(
      ["sweep", "sweep.lua", "--threads", "1", "--out", "slurm", "--merge"], in: folder)
    XCTAssertEqual(slurmMerge.status, 0, slurmMerge.output)
    XCTAssertEqual(
      read(slurm.appendingPathComponent("results.csv")),
      read(wholeDir.appendingPathComponent("results.csv")))
  }

  func testReportingBeforeTheSweepIsAnError() throws {
    let folder = try TestPaths.temporaryDirectory()
    try writeScript("report.text('intro')\n" + Self.script, "sweep.lua", in: folder)
    let r = try runMoonlab(["sweep", "sweep.lua", "--out", "s"], in: folder)
    XCTAssertEqual(r.status, 1)
    XCTAssertTrue(r.output.contains("sweep.lua:1: report.text: under `moonlab sweep`"), r.output)
  }

  func testMergeNamesMissingTrialsAndResumeNeedsAFolder() throws {
    let folder = try TestPaths.temporaryDirectory()
    try writeScript(Self.script, "sweep.lua", in: folder)
    let resume = try runMoonlab(["sweep", "sweep.lua", "--out", "none", "--resume"], in: folder)
    XCTAssertEqual(resume.status, 1)
    XCTAssertTrue(resume.output.contains("nothing to resume"), resume.output)
    _ = try runMoonlab(
      ["sweep", "sweep.lua", "--threads", "1", "--out", "half", "--shard", "0/2"], in: folder)
    let merge = try runMoonlab(["sweep", "sweep.lua", "--out", "half", "--merge"], in: folder)
    XCTAssertEqual(merge.status, 1)
    XCTAssertTrue(merge.output.contains("3 of 6 trials are not finished"), merge.output)
  }

  func testSetValuesJoinTrialIdsAndAnEditedScriptIsNoted() throws {
    let folder = try TestPaths.temporaryDirectory()
    try writeScript(Self.script, "sweep.lua", in: folder)
    func sweep(_ extra: String) throws -> (output: String, ids: [String]) {
      let r = try runMoonlab(
        ["sweep", "sweep.lua", "--threads", "1", "--out", "s", "--set", "extra=\(extra)"],
        in: folder)
      XCTAssertEqual(r.status, 0, r.output)
      return (r.output, csv(folder.appendingPathComponent("s")).dropFirst().map { $0[1] })
    }
    let one = try sweep("1")
    XCTAssertTrue(one.output.contains("6 trials, 0 already done, running 6"), one.output)
    XCTAssertTrue(try sweep("1").output.contains("6 trials, 6 already done, running 0"))
    // Another value outside the grid: new trials in new folders, the old ones untouched.
    let two = try sweep("2")
    XCTAssertTrue(two.output.contains("6 trials, 0 already done, running 6"), two.output)
    XCTAssertTrue(Set(one.ids).isDisjoint(with: two.ids), "\(one.ids) vs \(two.ids)")
    for id in one.ids { XCTAssertTrue(exists(folder.appendingPathComponent("s/\(id)"), "DONE")) }
    XCTAssertFalse(two.output.contains("note:"), two.output)
    // An edited script keeps finished trials and says so.
    try writeScript("-- edited\n" + Self.script, "sweep.lua", in: folder)
    let edited = try sweep("2")
    XCTAssertTrue(edited.output.contains("6 trials, 6 already done, running 0"), edited.output)
    XCTAssertTrue(
      edited.output.contains("note: 6 finished trial(s) ran another version of the script"),
      edited.output)
  }

  /// Under `moonlab run` the trials belong to the run: inside its directory, computed
  /// again by a second run and by `moonlab rerun`, which finds the metrics bit-identical.
  func testSweepUnderRunLivesInTheRunDirectory() throws {
    let folder = try TestPaths.temporaryDirectory()
    try writeScript(Self.script, "sweep.lua", in: folder)
    let first = try runMoonlab(["run", "sweep.lua", "--threads", "1", "--out", "a"], in: folder)
    XCTAssertEqual(first.status, 0, first.output)
    XCTAssertTrue(first.output.contains("6 trials, 0 already done, running 6"), first.output)
    let a = folder.appendingPathComponent("a/sweeps/grid6")
    XCTAssertEqual(csv(a).count, 7, "six trials and a header in a/sweeps/grid6/results.csv")
    XCTAssertFalse(
      FileManager.default.fileExists(atPath: folder.appendingPathComponent("runs").path))
    let rerun = try runMoonlab(["rerun", "a", "--out", "b"], in: folder)
    XCTAssertEqual(rerun.status, 0, rerun.output)
    XCTAssertTrue(rerun.output.contains("6 trials, 0 already done, running 6"), rerun.output)
    XCTAssertTrue(rerun.output.contains("bit-identical"), rerun.output)
    XCTAssertEqual(
      read(a.appendingPathComponent("results.csv")),
      read(folder.appendingPathComponent("b/sweeps/grid6/results.csv")))
  }

  func testRandomSearchIsSeededAndTrialIdsAreStable() throws {
    let folder = try TestPaths.temporaryDirectory()
    let script = try writeScript(
      """
      local r = lab.sweep{name = "rnd", random = {lr = {log = {1e-4, 1e-1}}, depth = {int = {1, 4}}, act = {"relu", "tanh"}},
        n = 4, seed = 7, metric = "m", mode = "min", run = function(cfg) return {m = cfg.lr} end}
      assert(#r == 4)
      for i = 2, #r do assert(r[i - 1].result.m <= r[i].result.m) end
      for _, row in ipairs(r) do
        assert(row.cfg.lr >= 1e-4 and row.cfg.lr <= 1e-1 and row.cfg.depth >= 1 and row.cfg.depth <= 4)
      end
      """, "rnd.lua", in: folder)
    var ids: [[String]] = []
    for out in ["one", "two"] {
      try runInProcess(script, out: folder.appendingPathComponent("outer-\(out)")) {
        var s = SweepOptions()
        s.out = folder.appendingPathComponent(out).path
        $0.sweep = s
      }
      ids.append(csv(folder.appendingPathComponent(out)).dropFirst().map { $0[1] })
    }
    XCTAssertEqual(ids[0].count, 4)
    XCTAssertEqual(ids[0], ids[1])
  }
}
