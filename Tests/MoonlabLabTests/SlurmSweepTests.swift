import Foundation
import TestSupport
import XCTest

@testable import MoonlabLab

/// `moonlab sweep --slurm` on a real Slurm: a single-node cluster on loopback started by
/// scripts/slurm_cluster.sh for this class (docs/scale-out.md, "Testing against a real
/// Slurm"). Where Slurm can't be installed the tests are skipped, and say so on stderr.
final class SlurmSweepTests: XCTestCase {
  nonisolated(unsafe) static var cluster: URL?
  nonisolated(unsafe) static var unavailable: String?

  static let clusterScript = TestPaths.repository.appendingPathComponent("scripts/slurm_cluster.sh")

  override class func setUp() {
    super.setUp()
    guard let folder = try? TestPaths.temporaryDirectory() else { return }
    let dir = folder.appendingPathComponent("cluster")
    let r = try? runProcess(
      URL(fileURLWithPath: "/bin/bash"), [clusterScript.path, "start", dir.path])
    if let r, r.status == 0 {
      cluster = dir
    } else {
      unavailable =
        r.map { "slurm_cluster.sh start exited \($0.status): \($0.stderr)" } ?? "can't run bash"
      FileHandle.standardError.write(
        Data("\n*** SKIPPING the Slurm tests: \(unavailable ?? "") ***\n\n".utf8))
    }
  }

  override class func tearDown() {
    if let cluster {
      _ = try? runProcess(
        URL(fileURLWithPath: "/bin/bash"), [clusterScript.path, "stop", cluster.path])
    }
    super.tearDown()
  }

  /// SLURM_CONF for sbatch/squeue/scancel, and a quick poll.
  func environment() throws -> [String: String] {
    guard let cluster = Self.cluster else {
      throw XCTSkip("no Slurm cluster: \(Self.unavailable ?? "setUp failed")")
    }
    return [
      "SLURM_CONF": cluster.appendingPathComponent("slurm.conf").path,
      "MOONLAB_SLURM_POLL_SECONDS": "0.3",
    ]
  }

  func slurm(_ arguments: [String]) throws -> (status: Int32, output: String) {
    let env = try environment()
    return try runProcess(
      URL(fileURLWithPath: "/usr/bin/env"), arguments,
      environment: ProcessInfo.processInfo.environment.merging(env) { $1 }
    ).asPair
  }

  /// Acceptance: a 6-trial sweep as 3 array tasks gives the results.csv of `--jobs 1`,
  /// byte for byte.
  func testSlurmSweepEqualsOneProcessSweep() throws {
    let env = try environment()
    let folder = try TestPaths.temporaryDirectory()
    try writeScript(SweepTests.script, "sweep.lua", in: folder)
    let whole = try runMoonlab(
      ["sweep", "sweep.lua", "--threads", "1", "--out", "whole"], in: folder)
    XCTAssertEqual(whole.status, 0, whole.output)

    let r = try runMoonlab(
      ["sweep", "sweep.lua", "--threads", "1", "--out", "sl", "--slurm", "--shards", "3"],
      in: folder, environment: env)
    XCTAssertEqual(r.status, 0, r.output)
    XCTAssertTrue(r.output.contains("with 3 array tasks"), r.output)
    XCTAssertTrue(r.output.contains("3 of 3 tasks ended; 6 of 6 trials done"), r.output)
    let results = folder.appendingPathComponent("sl/results.csv")
    XCTAssertEqual(read(results), read(folder.appendingPathComponent("whole/results.csv")))
    XCTAssertFalse(read(results).isEmpty)
    let sbatch = read(folder.appendingPathComponent("sl/sweep.sbatch"))
    XCTAssertTrue(sbatch.contains("#SBATCH --array=0-2"), sbatch)

    // Submitting a finished sweep again submits nothing and merges.
    let again = try runMoonlab(
      ["sweep", "sweep.lua", "--threads", "1", "--out", "sl", "--slurm", "--shards", "3"],
      in: folder, environment: env)
    XCTAssertEqual(again.status, 0, again.output)
    XCTAssertFalse(again.output.contains("submitted"), again.output)
    XCTAssertEqual(read(results), read(folder.appendingPathComponent("whole/results.csv")))
  }

  /// Acceptance: a task cancelled mid-way is reported with its log; resubmitting runs only
  /// the trials that were not finished.
  func testCancelledTaskIsReportedAndResubmissionResumes() throws {
    let env = try environment()
    let folder = try TestPaths.temporaryDirectory()
    try writeScript(SweepTests.script, "sweep.lua", in: folder)
    let sweep = folder.appendingPathComponent("sl")
    let args = [
      "sweep", "sweep.lua", "--threads", "1", "--out", "sl", "--slurm", "--shards", "3",
      "--set", "spin=1.5",
    ]
    let log = folder.appendingPathComponent("first.log")
    let first = try startMoonlab(args, in: folder, log: log, environment: env)
    func done() -> [String: Date] {
      let names = (try? FileManager.default.contentsOfDirectory(atPath: sweep.path)) ?? []
      var out: [String: Date] = [:]
      for n in names {
        let file = sweep.appendingPathComponent(n).appendingPathComponent("DONE")
        if let date = (try? FileManager.default.attributesOfItem(atPath: file.path))?[
          .modificationDate]
          as? Date
        {
          out[n] = date
        }
      }
      return out
    }
    let deadline = Date().addingTimeInterval(120)
    while done().isEmpty, first.isRunning, Date() < deadline { usleep(50_000) }
    let text = read(log)
    let job = try XCTUnwrap(
      text.range(of: #"submitted slurm job (\d+)"#, options: .regularExpression).map {
        String(text[$0].split(separator: " ").last!)
      }, text)
    // Tasks 0 and 1 start first (2 CPUs); each holds two trials, so one of them is mid-way.
    let trials = try XCTUnwrap(
      (try? JSON.parse(read(sweep.appendingPathComponent("sweep.json"))))?["trials"]?.items)
    let ids = trials.compactMap { $0["id"]?.text }
    XCTAssertEqual(ids.count, 6)
    let finished = done()
    let victim = try XCTUnwrap(
      (0..<2).first { task in
        ids.indices.filter { $0 % 3 == task }.contains { finished[ids[$0]] == nil }
      }, "every trial of tasks 0 and 1 already finished:\n\(read(log))")
    XCTAssertEqual(try slurm(["scancel", "\(job)_\(victim)"]).status, 0)
    first.waitUntilExit()
    let report = read(log)
    XCTAssertEqual(first.terminationStatus, 1, report)
    XCTAssertTrue(report.contains("task \(victim) ("), report)
    XCTAssertTrue(report.contains("slurm-\(job)_\(victim).out"), report)
    XCTAssertTrue(report.contains("run the same `moonlab sweep … --slurm` again"), report)

    let before = done()
    XCTAssertLessThan(before.count, 6, report)
    let second = try runMoonlab(args, in: folder, environment: env)
    XCTAssertEqual(second.status, 0, second.output)
    XCTAssertTrue(second.output.contains("\(before.count) already done"), second.output)
    let after = done()
    XCTAssertEqual(after.count, 6)
    for (id, date) in before {
      XCTAssertEqual(after[id], date, "finished trial \(id) ran again")
    }
    XCTAssertEqual(
      read(sweep.appendingPathComponent("results.csv")).split(separator: "\n").count, 7)
  }

  /// Submitting a sweep again while its earlier job is still queued is refused (its
  /// unfinished trials would run twice), naming the job to wait for or cancel.
  func testResubmittingWhileQueuedIsRefused() throws {
    let env = try environment()
    let folder = try TestPaths.temporaryDirectory()
    try writeScript(SweepTests.script, "sweep.lua", in: folder)
    let args = [
      "sweep", "sweep.lua", "--threads", "1", "--out", "q", "--slurm", "--shards", "3",
      "--set", "spin=1.5", "--no-wait",
    ]
    let first = try runMoonlab(args, in: folder, environment: env)
    XCTAssertEqual(first.status, 0, first.output)
    let job = try XCTUnwrap(
      first.output.range(of: #"submitted slurm job (\d+)"#, options: .regularExpression).map {
        String(first.output[$0].split(separator: " ").last!)
      }, first.output)
    defer {
      _ = try? slurm(["scancel", job])
      let deadline = Date().addingTimeInterval(30)
      while let q = try? slurm(["squeue", "-h", "-j", job]), q.status == 0,
        !q.output.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, Date() < deadline
      {
        usleep(100_000)
      }
    }
    let second = try runMoonlab(args, in: folder, environment: env)
    XCTAssertEqual(second.status, 1, second.output)
    XCTAssertTrue(second.output.contains("slurm job \(job) of"), second.output)
    XCTAssertTrue(second.output.contains("scancel \(job)"), second.output)
  }

  func testSlurmOptionsThatClashAreUsageErrors() throws {
    let folder = try TestPaths.temporaryDirectory()
    try writeScript(SweepTests.script, "sweep.lua", in: folder)
    for extra in [["--merge"], ["--jobs", "2"], ["--shard", "0/2"], ["--emit-slurm"]] {
      let r = try runMoonlab(["sweep", "sweep.lua", "--slurm"] + extra, in: folder)
      XCTAssertEqual(r.status, 2, r.output)
      XCTAssertTrue(r.output.contains("--slurm can't be combined with \(extra[0])"), r.output)
    }
    let r = try runMoonlab(["sweep", "sweep.lua", "--no-wait"], in: folder)
    XCTAssertEqual(r.status, 2, r.output)
    // Values that would break out of their #SBATCH line.
    for (option, value) in [("--partition", "a b"), ("--time", "1\nrm -rf ~"), ("--mem", "4G\"")] {
      let r = try runMoonlab(["sweep", "sweep.lua", "--emit-slurm", option, value], in: folder)
      XCTAssertEqual(r.status, 2, r.output)
      XCTAssertTrue(r.output.contains("is not a value sbatch takes"), r.output)
    }
  }

  /// A sweep name with a line break can't start a new line of the script.
  func testSweepNameCannotInjectIntoTheScript() throws {
    let folder = try TestPaths.temporaryDirectory()
    try writeScript(
      SweepTests.script.replacingOccurrences(
        of: #"name = "grid6""#, with: #"name = "g\necho pwned""#),
      "sweep.lua", in: folder)
    let r = try runMoonlab(["sweep", "sweep.lua", "--emit-slurm", "--out", "s"], in: folder)
    XCTAssertEqual(r.status, 0, r.output)
    let text = read(folder.appendingPathComponent("s/sweep.sbatch"))
    XCTAssertTrue(text.contains("#SBATCH --job-name=moonlab-g_echo_pwned"), text)
    XCTAssertFalse(text.split(separator: "\n").contains { $0.hasPrefix("echo pwned") }, text)
  }

  /// A Slurm job step launches a data-parallel run: `srun --mpi=pmix -n 2 moonlab run`
  /// records one run trained by 2 ranks, with the losses of `moonlab run --np 2`.
  func testSrunLaunchesDataParallelRun() throws {
    let env = try environment()
    if let reason = DataParallelTests.mpiUnavailable { throw XCTSkip(reason) }
    let folder = try TestPaths.temporaryDirectory()
    try writeScript(DataParallelTests.script, "dp.lua", in: folder)
    let args = ["run", "dp.lua", "--threads", "1", "--set", "steps=10"]
    let r = try runProcess(
      URL(fileURLWithPath: "/usr/bin/env"),
      ["srun", "--mpi=pmix", "-n", "2", try moonlabBinary().path] + args + ["--out", "srun"],
      environment: ProcessInfo.processInfo.environment.merging(env) { $1 },
      currentDirectory: folder)
    XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
    let np = try runMoonlab(args + ["--np", "2", "--out", "np"], in: folder)
    XCTAssertEqual(np.status, 0, np.output)
    let config = read(folder.appendingPathComponent("srun/config.json"))
    XCTAssertTrue(config.contains("\"mpi_ranks\": 2"), config)
    let losses = try DataParallelTests.losses(folder.appendingPathComponent("srun"))
    XCTAssertEqual(losses.count, 10)
    XCTAssertEqual(losses, try DataParallelTests.losses(folder.appendingPathComponent("np")))
  }

  /// Without sbatch on PATH, --slurm says what to do instead.
  func testSlurmWithoutSbatchSaysSo() throws {
    let folder = try TestPaths.temporaryDirectory()
    try writeScript(SweepTests.script, "sweep.lua", in: folder)
    let r = try runMoonlab(
      ["sweep", "sweep.lua", "--slurm", "--out", "x"], in: folder,
      environment: ["PATH": "/nonexistent"])
    XCTAssertEqual(r.status, 1, r.output)
    XCTAssertTrue(r.output.contains("sbatch is not installed here"), r.output)
  }
}

extension ProcessResult {
  fileprivate var asPair: (status: Int32, output: String) { (status, stdout + stderr) }
}
