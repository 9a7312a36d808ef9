import Foundation
import TestSupport
import XCTest

@testable import MoonlabLab

/// lab.fit's early_stop, keep_best, accumulate and callbacks (docs/lab.md).
final class FitControlTests: XCTestCase {
  /// A 3-class problem on 20 points in batches of 5, a linear model.
  static let setup = """
    tensor.seed(3)
    local x = tensor.randn{20, 4}
    local y = x:matmul(tensor.randn{4, 3}):argmax(2)
    local loader = data.Loader(data.tensors(x, y), {batch_size = 5})
    local model = nn.Linear(4, 3)

    """

  /// Runs the setup and `code`; returns the run directory and its report.md.
  func run(_ code: String, file: StaticString = #filePath, line: UInt = #line) throws -> (
    URL, String
  ) {
    let folder = try TestPaths.temporaryDirectory()
    let script = try writeScript(Self.setup + code, "fit.lua", in: folder)
    let dir = folder.appendingPathComponent("run")
    do {
      try runInProcess(script, out: dir)
    } catch {
      XCTFail("\(error)", file: file, line: line)
    }
    return (dir, read(dir.appendingPathComponent("report.md")))
  }

  func testEarlyStopAfterPatienceEpochsWithoutImprovement() throws {
    // lr 0: the validation loss never improves on epoch 1, so patience 2 stops after 3.
    let (_, report) = try run(
      """
      local h = lab.fit{model = model, loss = nn.CrossEntropyLoss(), train = loader, val = loader,
        optimizer = optim.SGD(model:parameters(), {lr = 0}), epochs = 10,
        early_stop = {metric = 'val_loss', patience = 2}}
      assert(#h.train_loss == 3, 'epochs run: ' .. #h.train_loss)
      assert(h.best.metric == 'val_loss' and h.best.epoch == 1 and h.best.value == h.val_loss[1])
      """)
    XCTAssertTrue(
      report.contains(
        "Stopped after epoch 3: early_stop: val_loss has not improved for 2 epochs"),
      report)
  }

  func testKeepBestSavesTheBestEpochsWeights() throws {
    // A high lr makes the validation accuracy move; best.safetensors must hold the weights
    // of the epoch with the best val_acc (the first such epoch), not the last.
    let (dir, _) = try run(
      """
      local snapshots = {}
      local h = lab.fit{model = model, loss = nn.CrossEntropyLoss(), train = loader, val = loader,
        optimizer = optim.SGD(model:parameters(), {lr = 5, momentum = 0.9}), epochs = 6,
        keep_best = 'val_acc',
        on_epoch_end = function(epoch, metrics)
          snapshots[epoch] = model:named_parameters().weight:clone()
          assert(metrics.epoch == epoch and metrics.val_acc ~= nil)
        end}
      local best = 1
      for e, a in ipairs(h.val_acc) do if a > h.val_acc[best] then best = e end end
      assert(h.best.epoch == best and h.best.metric == 'val_acc', 'best epoch ' .. h.best.epoch)
      local saved = nn.load(lab.run_dir() .. '/best.safetensors')
      assert((saved.weight - snapshots[best]):abs():max():item() == 0, 'best weights')
      """)
    XCTAssertTrue(exists(dir, "best.safetensors"))
    XCTAssertEqual(leftoverTemporaryFiles(dir), [])
  }

  func testAccumulationEqualsABiggerBatch() throws {
    // MSE is a mean over the batch: two batches of 10 with their gradients halved and
    // summed are one batch of 20, so both fits take the same steps.
    _ = try run(
      """
      local xs, ys = tensor.randn{20, 3}, tensor.randn{20, 1}
      local function fit(batch, accumulate)
        tensor.seed(7)
        local m = nn.Linear(3, 1)
        local steps = 0
        lab.fit{model = m, loss = nn.MSELoss(), epochs = 3, accumulate = accumulate,
          optimizer = optim.SGD(m:parameters(), {lr = 0.1, momentum = 0.9}),
          train = data.Loader(data.tensors(xs, ys), {batch_size = batch}),
          on_step = function(step) steps = step end}
        return m:named_parameters().weight, steps
      end
      local a, steps_a = fit(10, 2)
      local b, steps_b = fit(20, 1)
      assert(steps_a == 3 and steps_b == 3, 'steps ' .. steps_a .. ' ' .. steps_b)
      local diff = (a - b):abs():max():item()
      assert(diff < 1e-6, 'weights differ by ' .. diff)
      """)
  }

  func testCallbacksStopTraining() throws {
    let (_, report) = try run(
      """
      local seen = {}
      local h = lab.fit{model = model, loss = nn.CrossEntropyLoss(), train = loader, epochs = 5,
        optimizer = optim.SGD(model:parameters(), {lr = 0.1}), accumulate = 2,
        on_step = function(step, loss)
          seen[#seen + 1] = step
          assert(type(loss) == 'number')
          if step == 3 then return 'stop' end
        end}
      -- 4 batches, accumulate 2: 2 steps an epoch, so step 3 is in epoch 2.
      assert(#seen == 3 and #h.train_loss == 2, #seen .. ' steps, ' .. #h.train_loss .. ' epochs')
      local epochs = 0
      lab.fit{model = model, loss = nn.CrossEntropyLoss(), train = loader, epochs = 5,
        optimizer = optim.SGD(model:parameters(), {lr = 0.1}),
        on_epoch_end = function(epoch) epochs = epoch; return epoch < 4 end}
      -- The second fit continues the epoch count: its epochs are 3 and 4.
      assert(epochs == 4, 'second fit: epochs ' .. epochs)
      """)
    XCTAssertTrue(report.contains("Stopped after epoch 2: on_step asked to stop"), report)
    XCTAssertTrue(report.contains("Stopped after epoch 4: on_epoch_end asked to stop"), report)
  }

  func testErrors() throws {
    let folder = try TestPaths.temporaryDirectory()
    let fit =
      "lab.fit{model = model, loss = nn.CrossEntropyLoss(), train = loader, epochs = 2, optimizer = optim.SGD(model:parameters(), {lr = 0.1}), "
    for (code, message) in [
      (fit + "accumulate = 0}", "fit.lua:6: lab.fit: option 'accumulate' must be ≥ 1, got 0"),
      (fit + "early_stop = 5}", "fit.lua:6: lab.fit: option 'early_stop' must be a table"),
      (
        fit + "early_stop = {patience = 2, metic = 'x'}}",
        "fit.lua:6: lab.fit early_stop: unknown option 'metic'"
      ),
      (fit + "keep_best = {mode = 'max'}}", "fit.lua:6: lab.fit keep_best: 'metric' is required"),
      (
        fit + "keep_best = 'val_acc'}",
        "fit.lua:6: lab.fit: keep_best metric 'val_acc' is not logged by this fit (it logs epoch, train_loss, train_acc, lr"
      ),
      (fit + "on_step = 3}", "fit.lua:6: lab.fit: option 'on_step' must be a function, got number"),
      (fit + "on_epoch_end = function()\n  error('boom')\nend}", "fit.lua:7: boom"),
    ] {
      let script = try writeScript(Self.setup + code, "fit.lua", in: folder)
      XCTAssertThrowsError(
        try runInProcess(script, out: folder.appendingPathComponent("run-\(UUID().uuidString)"))
      ) {
        XCTAssertTrue("\($0)".contains(message), "\($0)")
      }
    }
  }
}
