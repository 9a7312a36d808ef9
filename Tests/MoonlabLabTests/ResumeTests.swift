import Foundation
import TestSupport
import XCTest

@testable import MoonlabLab

/// Issue 16, acceptance 2, through the `moonlab` executable: a lab.fit run killed with
/// SIGKILL after its 3rd of 6 epochs and continued with `moonlab resume` ends with the
/// metrics (timing aside) and the final checkpoint of an uninterrupted run, byte for byte;
/// so does a sweep trial killed mid-way and continued by running `moonlab sweep` again.
final class ResumeTests: XCTestCase {
  /// Scripts hang in the first step of epoch 4 while the file `hang` exists in their
  /// folder, so the kill lands after epoch 3's checkpoint and never later. `steps` is
  /// restored on resume, so the hook counts the run's steps, not the process's.
  static func hang(atStep step: Int) -> String {
    """
    on_step = function(step)
      local f = io.open('hang')
      if f and step == \(step) then f:close() while true do end end
    end
    """
  }

  /// SGD with momentum, shuffling, no schedule: 96 samples in batches of 16.
  static let plain = """
    local x = tensor.randn{96, 6}
    local y = x:matmul(tensor.randn{6, 3}):argmax(2)
    local train = data.Loader(data.tensors(x, y), {batch_size = 16, shuffle = true})
    local m = nn.Sequential{nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 3)}
    local opt = optim.SGD(m:parameters(), {lr = 0.1, momentum = 0.9})
    lab.log{before = 1}
    lab.fit{model = m, loss = nn.CrossEntropyLoss(), optimizer = opt, train = train, val = train,
      epochs = 6, checkpoint_every = 1, \(hang(atStep: 19))}
    lab.log{after = 1}
    """

  /// Adam, a cosine schedule, dropout, padded crops and flips, noise from the default
  /// stream in a main-thread transform, keep_best and early_stop: every kind of state.
  static let everything = """
    local x = tensor.randn{96, 3, 8, 8}
    local y = x:view(96, 192):matmul(tensor.randn{192, 4}):argmax(2)
    local noisy = data.Lambda(function(v) return v + tensor.randn(v:size()) * 0.01 end)
    local aug = data.Compose{data.PadCrop{pad = 1, size = 8}, data.HFlip{p = 0.5}, noisy}
    local train = data.Loader(data.tensors(x, y), {batch_size = 16, shuffle = true, transform = aug})
    local val = data.Loader(data.tensors(x, y), {batch_size = 32})
    local m = nn.Sequential{nn.Conv2d(3, 4, 3), nn.ReLU(), nn.Dropout(0.3), nn.Flatten(), nn.Linear(144, 4)}
    local opt = optim.Adam(m:parameters(), {lr = 0.01})
    lab.log{before = 1}
    lab.fit{model = m, loss = nn.CrossEntropyLoss(), optimizer = opt,
      scheduler = optim.CosineLR(opt, {t_max = 6}), train = train, val = val, epochs = 6,
      checkpoint_every = 1, keep_best = 'val_acc', early_stop = {patience = 10},
      \(hang(atStep: 19))}
    """

  func testKilledFitResumesToTheUninterruptedResult() throws {
    try checkKilledAndResumed(Self.plain, extraFiles: [])
  }

  func testKilledFitWithAdamCosineDropoutAndAugmentationResumesExactly() throws {
    try checkKilledAndResumed(Self.everything, extraFiles: ["best.safetensors"])
  }

  /// Runs `script` uninterrupted into `ref`, then killed after epoch 3 into `killed` and
  /// resumed; the two must end the same.
  func checkKilledAndResumed(_ script: String, extraFiles: [String]) throws {
    let folder = try TestPaths.temporaryDirectory()
    try writeScript(script, "fit.lua", in: folder)
    let ref = try runMoonlab(["run", "--threads", "1", "--out", "ref", "fit.lua"], in: folder)
    XCTAssertEqual(ref.status, 0, ref.output)

    let killed = folder.appendingPathComponent("killed")
    let epoch3 = killed.appendingPathComponent("train-state/epoch-003.json")
    try killWhenHanging(
      ["run", "--threads", "1", "--out", "killed", "fit.lua"], in: folder,
      until: { FileManager.default.fileExists(atPath: epoch3.path) },
      whileHanging: {
        // A run that is still going is not taken over.
        let early = try runMoonlab(["resume", "killed"], in: folder)
        XCTAssertEqual(early.status, 1, early.output)
        XCTAssertTrue(early.output.contains("in use by another moonlab process"), early.output)
      })
    XCTAssertFalse(exists(killed, "DONE"))
    let before = MetricsLog.read(killed.appendingPathComponent("metrics.jsonl"))
    XCTAssertEqual(before.count, 4, "the line before lab.fit and three epochs")

    // The same --out again is refused, pointing at `moonlab resume`.
    let again = try runMoonlab(["run", "--threads", "1", "--out", "killed", "fit.lua"], in: folder)
    XCTAssertEqual(again.status, 1, again.output)
    XCTAssertTrue(again.output.contains("moonlab resume"), again.output)

    let resumed = try runMoonlab(["resume", "killed"], in: folder)
    XCTAssertEqual(resumed.status, 0, resumed.output)
    XCTAssertTrue(resumed.output.contains("lab.fit: resumed after epoch 3/6"), resumed.output)
    XCTAssertFalse(resumed.output.contains("epoch 3/6  train"), "epoch 3 was not redone")
    try assertSameRun(folder.appendingPathComponent("ref"), killed, files: extraFiles)
    // Epochs 1–3 kept their original lines, timing included (they were not redone).
    let after = MetricsLog.read(killed.appendingPathComponent("metrics.jsonl"))
    XCTAssertEqual(Array(after.prefix(4)), before)
    let config = try XCTUnwrap(try JSON.read(killed.appendingPathComponent("config.json")))
    XCTAssertEqual(config["status"]?.text, "finished")
    XCTAssertEqual(config["resumed"]?.items?.first?["after_epoch"], .number(3))
    XCTAssertTrue(exists(killed, "DONE"))
    // train-state/ keeps the two newest checkpoints.
    XCTAssertEqual(
      try FileManager.default.contentsOfDirectory(
        atPath: killed.appendingPathComponent("train-state").path
      ).sorted(),
      ["epoch-005.json", "epoch-005.safetensors", "epoch-006.json", "epoch-006.safetensors"])
  }

  func testKilledSweepTrialContinuesFromItsCheckpoint() throws {
    try checkKilledSweep(jobs: 1)
  }

  /// Two workers, both killed with their parent in epoch 4: both trials continue.
  func testKilledSweepWorkersTrialsContinueFromTheirCheckpoints() throws {
    try checkKilledSweep(jobs: 2)
  }

  func checkKilledSweep(jobs: Int) throws {
    let script = """
      lab.sweep{name = "sw", grid = {lr = {0.1, 0.03}}, metric = "val_acc", run = function(cfg)
        local x = tensor.randn{64, 6}
        local y = x:matmul(tensor.randn{6, 3}):argmax(2)
        local train = data.Loader(data.tensors(x, y), {batch_size = 16, shuffle = true})
        local m = nn.Sequential{nn.Linear(6, 16), nn.ReLU(), nn.Dropout(0.2), nn.Linear(16, 3)}
        local opt = optim.SGD(m:parameters(), {lr = cfg.lr, momentum = 0.9})
        local h = lab.fit{model = m, optimizer = opt, loss = nn.CrossEntropyLoss(), train = train,
          val = train, epochs = 6, checkpoint_every = 1, \(Self.hang(atStep: 13))}
        return {val_acc = h.val_acc[#h.val_acc]}
      end}
      """
    let ref = try TestPaths.temporaryDirectory()
    let folder = try TestPaths.temporaryDirectory()
    for f in [ref, folder] { try writeScript(script, "sweep.lua", in: f) }
    let arguments = ["sweep", "sweep.lua", "--threads", "1", "--jobs", String(jobs)]
    let whole = try runMoonlab(arguments, in: ref)
    XCTAssertEqual(whole.status, 0, whole.output)

    // Each running trial hangs in epoch 4: find them by their checkpoints of epoch 3.
    let sweep = folder.appendingPathComponent("runs/sw")
    let hanging = {
      ((try? FileManager.default.contentsOfDirectory(atPath: sweep.path)) ?? []).filter {
        exists(sweep.appendingPathComponent($0), "train-state/epoch-003.json")
      }
    }
    try killWhenHanging(arguments, in: folder, until: { hanging().count == jobs })
    usleep(300_000)  // workers die with their parent (PR_SET_PDEATHSIG)
    let killed = hanging()
    for trial in killed {
      XCTAssertFalse(exists(sweep.appendingPathComponent(trial), "DONE"))
    }

    let resumed = try runMoonlab(arguments, in: folder)
    XCTAssertEqual(resumed.status, 0, resumed.output)
    for trial in killed {
      XCTAssertTrue(resumed.output.contains("trial \(trial): resuming"), resumed.output)
    }
    XCTAssertEqual(
      resumed.output.components(separatedBy: "lab.fit: resumed after epoch 3/6").count - 1, jobs,
      resumed.output)
    let refSweep = ref.appendingPathComponent("runs/sw")
    for id in try FileManager.default.contentsOfDirectory(atPath: refSweep.path)
    where exists(refSweep.appendingPathComponent(id), "DONE") {
      try assertSameRun(
        refSweep.appendingPathComponent(id), sweep.appendingPathComponent(id), files: [])
    }
    XCTAssertEqual(
      read(refSweep.appendingPathComponent("results.csv")),
      read(sweep.appendingPathComponent("results.csv")))
  }

  // MARK: Helpers

  /// Starts `moonlab ARGS` with the file `hang` present, waits until `ready` (the script
  /// then hangs in epoch 4), runs `whileHanging`, kills it with SIGKILL and removes `hang`.
  func killWhenHanging(
    _ arguments: [String], in folder: URL, until ready: () -> Bool,
    whileHanging: () throws -> Void = {}
  ) throws {
    let hang = folder.appendingPathComponent("hang")
    FileManager.default.createFile(atPath: hang.path, contents: nil)
    defer { try? FileManager.default.removeItem(at: hang) }
    let log = folder.appendingPathComponent("killed.log")
    let p = try startMoonlab(arguments, in: folder, log: log)
    let deadline = Date().addingTimeInterval(120)
    while !ready(), p.isRunning, Date() < deadline { usleep(50_000) }
    usleep(300_000)
    try whileHanging()
    let wasRunning = p.isRunning
    kill(p.processIdentifier, SIGKILL)
    p.waitUntilExit()
    XCTAssertTrue(wasRunning && ready(), "the run didn't reach its hang: \(read(log))")
    XCTAssertEqual(p.terminationReason, .uncaughtSignal)
  }

  /// The metrics (timing keys aside, as `moonlab rerun` compares them) and the final
  /// checkpoint, plus `files`, are the same in both run directories.
  func assertSameRun(_ a: URL, _ b: URL, files: [String]) throws {
    XCTAssertNil(try Rerun.firstDifference(a, b), "\(a.path) vs \(b.path)")
    for file in ["checkpoints/epoch-006.safetensors"] + files {
      let x = try Data(contentsOf: a.appendingPathComponent(file))
      let y = try Data(contentsOf: b.appendingPathComponent(file))
      XCTAssertTrue(x == y, "\(file) differs between \(a.path) and \(b.path)")
    }
  }
}
