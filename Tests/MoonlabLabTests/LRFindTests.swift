import Foundation
import TestSupport
import XCTest

@testable import MoonlabLab

/// lab.lr_find: the exponential sweep, the stop on divergence, weights put back, the chart.
final class LRFindTests: XCTestCase {
  func testSweepRestoresWeightsAndPlots() throws {
    let folder = try TestPaths.temporaryDirectory()
    let script = try writeScript(
      """
      tensor.seed(5)
      local x = tensor.randn{64, 4}
      local y = x:matmul(tensor.randn{4, 3}):argmax(2)
      local loader = data.Loader(data.tensors(x, y), {batch_size = 16})
      local model = nn.Sequential{nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3)}
      -- Parameters and BatchNorm statistics, through a checkpoint.
      model:save(lab.run_dir() .. '/before.safetensors')
      -- 4 batches per pass: 10 steps restart the loader twice.
      local r = lab.lr_find(model, nn.CrossEntropyLoss(), loader,
        {start_lr = 1e-4, end_lr = 1, steps = 10, diverge = 1e9})
      assert(#r.lrs == 10 and #r.losses == 10, 'points ' .. #r.lrs)
      assert(math.abs(r.lrs[1] - 1e-4) < 1e-12 and math.abs(r.lrs[10] - 1) < 1e-9, 'ends')
      assert(math.abs(r.lrs[2] / r.lrs[1] - 10 ^ (4 / 9)) < 1e-9, 'exponential')
      model:save(lab.run_dir() .. '/after.safetensors')
      local before, after = nn.load(lab.run_dir() .. '/before.safetensors'), nn.load(lab.run_dir() .. '/after.safetensors')
      local n = 0
      for name, t in pairs(before) do
        assert((t - after[name]):abs():max():item() == 0, name .. ' restored')
        n = n + 1
      end
      assert(n == 9, n .. ' tensors')  -- 6 parameters, 3 BatchNorm buffers
      -- A huge lr diverges: the sweep stops before the loss passes 4× its best.
      local d = lab.lr_find(model, nn.CrossEntropyLoss(), loader, {start_lr = 1, end_lr = 1e6, steps = 50})
      assert(#d.lrs < 50, 'stopped on divergence after ' .. #d.lrs)
      """, "lr.lua", in: folder)
    let dir = folder.appendingPathComponent("run")
    try runInProcess(script, out: dir)
    XCTAssertTrue(
      read(dir.appendingPathComponent("report.html")).contains(">Learning-rate range test</text>"))
  }

  func testErrors() throws {
    let folder = try TestPaths.temporaryDirectory()
    let setup =
      "local m = nn.Linear(2, 2); local l = data.Loader(data.tensors(tensor.zeros{4, 2}, tensor.ones{4}), {batch_size = 2})\n"
    for (code, message) in [
      (
        "lab.lr_find(m, nn.CrossEntropyLoss(), l, {start_lr = 1, end_lr = 0.1})",
        "lab.lr_find: expected 0 < start_lr < end_lr"
      ),
      (
        "lab.lr_find(m, nn.CrossEntropyLoss(), l, {steps = 1})",
        "lab.lr_find: option 'steps' must be ≥ 2"
      ),
      (
        "lab.lr_find(m, nn.CrossEntropyLoss(), {})",
        "bad argument #3 to 'lab.lr_find' (Loader expected, got table)"
      ),
      ("lab.lr_find(m, nn.CrossEntropyLoss(), l, {lr = 1})", "lab.lr_find: unknown option 'lr'"),
    ] {
      let script = try writeScript(setup + code, "bad.lua", in: folder)
      XCTAssertThrowsError(
        try runInProcess(script, out: folder.appendingPathComponent("run-\(UUID().uuidString)"))
      ) {
        XCTAssertTrue("\($0)".contains("bad.lua:2: \(message)"), "\($0)")
      }
    }
  }
}
