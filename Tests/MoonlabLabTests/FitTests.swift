import Foundation
import MoonlabTensor
import TestSupport
import XCTest

@testable import MoonlabLab

final class FitTests: XCTestCase {
  func testFitRecordsHistoryMetricsCheckpointsAndReport() throws {
    let folder = try TestPaths.temporaryDirectory()
    let script = try writeScript(
      """
      -- A Lua-defined model (nn.define) trained by the Swift loop.
      local Net = nn.define{name = "Net",
        init = function(self) self:module("fc1", nn.Linear(4, 12)); self:module("fc2", nn.Linear(12, 3)) end,
        forward = function(self, x) return self.fc2(self.fc1(x):relu()) end}
      local x = tensor.randn{60, 4}
      local y = x:matmul(tensor.randn{4, 3}):argmax(2)
      local train = data.Loader(data.tensors(x, y), {batch_size = 20, shuffle = true, seed = 1})
      local val = data.Loader(data.tensors(x, y), {batch_size = 30})
      local model = Net()
      local opt = optim.SGD(model:parameters(), {lr = 0.2, momentum = 0.9})
      local sched = optim.StepLR(opt, {step_size = 1, gamma = 0.5})
      local h = lab.fit{model = model, loss = nn.CrossEntropyLoss(), optimizer = opt, scheduler = sched,
        train = train, val = val, epochs = 4, checkpoint_every = 2}
      assert(#h.train_loss == 4 and #h.val_acc == 4 and #h.seconds == 4, "history per epoch")
      assert(h.lr[1] == 0.2 and h.lr[2] == 0.1 and h.lr[4] == 0.025, "lr per epoch")
      assert(h.train_loss[4] < h.train_loss[1], "training lowers the loss")
      local e = lab.evaluate(model, val)
      assert(e.loss == h.val_loss[4] and e.accuracy == h.val_acc[4], "evaluate matches the last validation")
      assert(e.accuracy > 0.5)
      """, "fit.lua", in: folder)
    let dir = folder.appendingPathComponent("run")
    try runInProcess(script, out: dir)
    let lines = MetricsLog.read(dir.appendingPathComponent("metrics.jsonl"))
    XCTAssertEqual(lines.map { $0["epoch"]?.double }, [1, 2, 3, 4])
    XCTAssertEqual(
      lines.first?.fields?.map(\.key),
      ["epoch", "train_loss", "train_acc", "val_loss", "val_acc", "lr", "seconds", "images_per_s"])
    XCTAssertTrue(exists(dir, "checkpoints/epoch-002.safetensors"))
    XCTAssertTrue(exists(dir, "checkpoints/epoch-004.safetensors"))
    XCTAssertFalse(exists(dir, "checkpoints/epoch-003.safetensors"))
    let html = read(dir.appendingPathComponent("report.html"))
    for title in [">Loss</text>", ">Accuracy</text>", ">Learning rate</text>"] {
      XCTAssertTrue(html.contains(title), title)
    }
    XCTAssertFalse(
      html.contains("<h2>Metrics</h2>"), "fit's curves replace the generic metrics section")
    XCTAssertEqual(leftoverTemporaryFiles(dir), [])
  }

  func testEpochSummaryLine() throws {
    var t = Fit.Totals()
    t.loss = 24.6912
    t.samples = 20
    // 9 of 20 right: every sample scores class 1 highest, 9 labels are class 1.
    var tally = ClassTally(classes: 2, k: 1)
    tally.add(
      try Tensor(shape: [20, 2], values: (0..<20).flatMap { _ in [1, 0] }),
      labels: (0..<20).map { $0 < 9 ? 0 : 1 })
    t.classes = tally
    var v = Fit.Totals()
    v.loss = 1.5
    v.samples = 1
    XCTAssertEqual(
      FitLibrary.summary(3, 10, t, v, lr: 0.01, seconds: 12.34),
      "epoch  3/10  train loss 1.2346 acc 45.00%  val loss 1.5000  lr 0.01  12.3 s")
  }

  func testFitOptionErrors() throws {
    let folder = try TestPaths.temporaryDirectory()
    for (code, message) in [
      ("lab.fit{}", "option 'model' is required"),
      (
        "lab.fit{model = nn.Linear(2, 2), loss = nn.MSELoss(), optimizer = 1, train = 1, epochs = 1}",
        "'optimizer' must be an optimizer"
      ),
      (
        "local m = nn.Linear(2, 2); lab.fit{model = m, loss = nn.MSELoss(), optimizer = optim.SGD(m:parameters(), {lr = 0.1}), train = {}, epochs = 1}",
        "'train' must be a data.Loader"
      ),
    ] {
      let script = try writeScript(code, "bad.lua", in: folder)
      XCTAssertThrowsError(
        try runInProcess(script, out: folder.appendingPathComponent("run-\(UUID().uuidString)"))
      ) {
        XCTAssertTrue(String(describing: $0).contains(message), "\(code): \($0)")
      }
    }
  }

  /// A batch whose loss is NaN (one NaN pixel in the data): the default stops the run
  /// before that step with the batch and epoch named; 'skip' drops the batch and says so;
  /// 'continue' trains on, and metrics.jsonl stays strict JSON (null plus a note).
  func testNonFiniteLossStopsSkipsOrContinues() throws {
    let folder = try TestPaths.temporaryDirectory()
    func script(_ option: String) throws -> String {
      try writeScript(
        """
        local rows = {}
        for i = 1, 40 do rows[i] = {math.sin(i), math.cos(i), i % 3 - 1} end
        rows[25][2] = 0 / 0
        local x = tensor.from(rows)
        local y = tensor.from((function() local t = {} for i = 1, 40 do t[i] = i % 2 + 1 end return t end)())
        local train = data.Loader(data.tensors(x, y), {batch_size = 10})
        local model = nn.Linear(3, 2)
        local opt = optim.SGD(model:parameters(), {lr = 0.1})
        lab.fit{model = model, loss = nn.CrossEntropyLoss(), optimizer = opt, train = train, epochs = 2\(option)}
        for _, p in ipairs(model:parameters()) do assert(p:sum():item() == p:sum():item(), 'weights stay finite') end
        """, "nan\(UUID().uuidString).lua", in: folder)
    }
    let stopped = folder.appendingPathComponent("stop")
    XCTAssertThrowsError(try runInProcess(try script(""), out: stopped)) {
      XCTAssertTrue(
        "\($0)".contains(
          "lab.fit: the loss is NaN at batch 3 of epoch 1; stopped before that step"),
        "\($0)")
    }
    XCTAssertEqual(MetricsLog.read(stopped.appendingPathComponent("metrics.jsonl")).count, 0)

    let skipped = folder.appendingPathComponent("skip")
    try runInProcess(try script(", on_nan = 'skip'"), out: skipped)
    let lines = try MetricsLog.readStrictly(skipped.appendingPathComponent("metrics.jsonl"))
    XCTAssertEqual(lines.map { $0["skipped_batches"]?.double }, [1, 1])
    XCTAssertTrue(lines.allSatisfy { $0["train_loss"]?.double?.isFinite == true })

    let continued = folder.appendingPathComponent("continue")
    XCTAssertThrowsError(try runInProcess(try script(", on_nan = 'continue'"), out: continued)) {
      XCTAssertTrue("\($0)".contains("weights stay finite"), "\($0)")
    }
    let text = read(continued.appendingPathComponent("metrics.jsonl"))
    for line in text.split(separator: "\n") {
      // Foundation's parser is strict JSON: no NaN tokens.
      let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
      XCTAssertTrue(object?["train_loss"] is NSNull, String(line))
      XCTAssertEqual(
        (object?["non_finite"] as? [String: String])?["train_loss"], "NaN", String(line))
    }

    let bad = try writeScript(
      "local m = nn.Linear(2, 2); lab.fit{model = m, loss = nn.MSELoss(), optimizer = optim.SGD(m:parameters(), {lr = 0.1}), train = data.Loader(data.tensors(tensor.zeros{4, 2}, tensor.ones{4}), {batch_size = 2}), epochs = 1, on_nan = 'ignore'}",
      "badopt.lua", in: folder)
    XCTAssertThrowsError(try runInProcess(bad, out: folder.appendingPathComponent("bad"))) {
      XCTAssertTrue(
        "\($0)".contains("option 'on_nan' must be 'stop', 'skip', 'continue', got 'ignore'"),
        "\($0)")
    }
  }
}
