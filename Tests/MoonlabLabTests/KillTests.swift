import Foundation
import MoonlabNN
import TestSupport
import XCTest

@testable import MoonlabLab

/// SIGINT, SIGTERM and SIGKILL at seeded random moments of `lab.fit` with checkpoints and
/// of `moonlab sweep --jobs 2` over 50 trials: never a damaged checkpoint or metrics file,
/// SIGINT/SIGTERM recorded as interrupted (SIGKILL leaves "running" and no DONE, the
/// truth), and a sweep's finished trials are never redone or lost.
final class KillTests: XCTestCase {
  struct Rng {
    var state: UInt64
    mutating func next() -> UInt64 {
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      return state >> 33
    }
    mutating func uniform(_ lo: Double, _ hi: Double) -> Double {
      lo + (hi - lo) * Double(next() % 10_000) / 10_000
    }
  }

  func start(_ args: [String], in folder: URL) throws -> Process {
    guard FileManager.default.isExecutableFile(atPath: TestPaths.moonlab.path) else {
      throw XCTSkip("build the moonlab product first (swift build): \(TestPaths.moonlab.path)")
    }
    let p = Process()
    p.executableURL = TestPaths.moonlab
    p.arguments = args
    p.currentDirectoryURL = folder
    p.standardOutput = FileHandle.nullDevice
    p.standardError = FileHandle.nullDevice
    try p.run()
    return p
  }

  func testKilledFitLeavesWholeFilesAndTruthfulStatus() throws {
    let folder = try TestPaths.temporaryDirectory()
    try writeScript(
      """
      local x = tensor.randn{64, 6}
      local slow = data.Lambda(function(v) local t = os.clock() while os.clock() - t < 0.01 do end return v end)
      local train = data.Loader(data.tensors(x, tensor.ones{64}), {batch_size = 16, transform = slow})
      local m = nn.Sequential{nn.Linear(6, 32), nn.ReLU(), nn.Linear(32, 2)}
      lab.fit{model = m, optimizer = optim.SGD(m:parameters(), {lr = 0.1, momentum = 0.9}),
        loss = nn.CrossEntropyLoss(), train = train, epochs = 400, checkpoint_every = 1}
      """, "fit.lua", in: folder)
    var rng = Rng(state: 12)
    for round in 0..<6 {
      let signal = [SIGINT, SIGTERM, SIGKILL][round % 3]
      let dir = folder.appendingPathComponent("run\(round)")
      let p = try start(["run", "--threads", "1", "--out", dir.path, "fit.lua"], in: folder)
      usleep(UInt32(rng.uniform(0.4, 1.6) * 1e6))
      kill(p.processIdentifier, signal)
      p.waitUntilExit()
      let lines = try MetricsLog.readStrictly(dir.appendingPathComponent("metrics.jsonl"))
      // SIGKILL during a checkpoint's write leaves its hidden temporary file (the
      // atomic writer's `.NAME.tmp-…`); never a partial checkpoint under its own name.
      let files = try FileManager.default.contentsOfDirectory(
        atPath: dir.appendingPathComponent("checkpoints").path)
      let temporary = files.filter { $0.hasPrefix(".") && $0.contains(".tmp-") }
      XCTAssertTrue(
        temporary.isEmpty || signal == SIGKILL, "round \(round): leftover \(temporary)")
      XCTAssertLessThanOrEqual(temporary.count, 1, "round \(round): \(temporary)")
      let checkpoints = files.filter { !temporary.contains($0) }
      XCTAssertFalse(checkpoints.isEmpty, "round \(round): no epoch finished")
      for file in checkpoints {
        XCTAssertTrue(file.hasSuffix(".safetensors"), "round \(round): leftover \(file)")
        let loaded = try Checkpoint.read(
          path: dir.appendingPathComponent("checkpoints/\(file)").path)
        XCTAssertEqual(loaded.count, 4, "round \(round): \(file)")
      }
      XCTAssertGreaterThanOrEqual(lines.count, checkpoints.count - 1, "round \(round)")
      let config = try XCTUnwrap(try JSON.read(dir.appendingPathComponent("config.json")))
      let expected = signal == SIGKILL ? "running" : "interrupted"
      XCTAssertEqual(config["status"]?.text ?? "running", expected, "round \(round)")
      XCTAssertFalse(exists(dir, "DONE"), "round \(round)")
      if signal != SIGKILL {
        XCTAssertEqual(p.terminationStatus, 128 + signal, "round \(round)")
      }
    }
  }

  func testKilledSweepOfFiftyTrialsLosesAndRedoesNothing() throws {
    let folder = try TestPaths.temporaryDirectory()
    try writeScript(
      """
      lab.sweep{name = "fifty", grid = {a = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, b = {1, 2, 3, 4, 5}},
        metric = "score", run = function(cfg)
          local t = os.clock() while os.clock() - t < 0.03 do end
          lab.log{step = 1, score = cfg.a * cfg.b}
          return {score = cfg.a * cfg.b}
        end}
      """, "sweep.lua", in: folder)
    let sweep = folder.appendingPathComponent("runs/fifty")
    var rng = Rng(state: 7)
    var finished: [String: Date] = [:]  // trial → its DONE's time when first seen
    for round in 0..<8 {
      let p = try start(["sweep", "sweep.lua", "--jobs", "2", "--threads", "1"], in: folder)
      usleep(UInt32(rng.uniform(0.5, 2.0) * 1e6))
      kill(p.processIdentifier, [SIGINT, SIGTERM, SIGKILL][round % 3])
      p.waitUntilExit()
      usleep(200_000)  // workers of a SIGKILLed parent end with it
      for id in (try? FileManager.default.contentsOfDirectory(atPath: sweep.path)) ?? [] {
        let done = sweep.appendingPathComponent("\(id)/DONE")
        guard
          let date = (try? FileManager.default.attributesOfItem(atPath: done.path))?[
            .modificationDate] as? Date
        else { continue }
        if let first = finished[id] {
          XCTAssertEqual(first, date, "trial \(id) was run again in round \(round)")
        } else {
          finished[id] = date
          XCTAssertNoThrow(
            try MetricsLog.readStrictly(sweep.appendingPathComponent("\(id)/metrics.jsonl")))
        }
      }
    }
    let last = try start(["sweep", "sweep.lua", "--jobs", "2", "--threads", "1"], in: folder)
    last.waitUntilExit()
    XCTAssertEqual(last.terminationStatus, 0)
    let rows = read(sweep.appendingPathComponent("results.csv")).split(separator: "\n")
    XCTAssertEqual(rows.count, 51, "header and 50 trials")
    XCTAssertGreaterThan(finished.count, 0, "some trials finished before the last run")
  }
}
