import Foundation
import TestSupport
import XCTest

@testable import MoonlabLab

/// optim.LambdaLR as lab.fit's scheduler: stepped once per epoch, its Lua function called
/// from the fit loop, an error in it stopping the run with the function's line.
final class FitLambdaLRTests: XCTestCase {
  func testFitStepsALambdaSchedule() throws {
    let folder = try TestPaths.temporaryDirectory()
    let script = try writeScript(
      """
      local x = tensor.randn{40, 4}
      local y = x:matmul(tensor.randn{4, 3}):argmax(2)
      local train = data.Loader(data.tensors(x, y), {batch_size = 20})
      local model = nn.Sequential{nn.Linear(4, 3), nn.MulConstant(0.5)}
      local opt = optim.SGD(model:parameters(), {lr = 0.4, momentum = 0.9, nesterov = true})
      local calls = 0
      local sched = optim.LambdaLR(opt, function(e) calls = calls + 1; return 1 / (e + 1) end)
      local h = lab.fit{model = model, loss = nn.CrossEntropyLoss{label_smoothing = 0.2, reduction = 'sum'},
        optimizer = opt, scheduler = sched, train = train, epochs = 3}
      assert(h.lr[1] == 0.4 and h.lr[2] == 0.2 and math.abs(h.lr[3] - 0.4 / 3) < 1e-12, "lr per epoch")
      assert(calls == 4, "epoch 0 and one call per step, got " .. calls)
      """, "fit.lua", in: folder)
    XCTAssertNoThrow(try runInProcess(script, out: folder.appendingPathComponent("run")))
  }

  func testAnErrorInTheLambdaStopsTheFit() throws {
    let folder = try TestPaths.temporaryDirectory()
    let script = try writeScript(
      """
      local x = tensor.randn{8, 4}
      local train = data.Loader(data.tensors(x, x:sum(2):gt(0) + 1), {batch_size = 4})
      local model = nn.Linear(4, 2)
      local opt = optim.SGD(model:parameters(), {lr = 0.1})
      local sched = optim.LambdaLR(opt, function(e)
        if e == 2 then error('no lr for epoch 2') end
        return 1 end)
      lab.fit{model = model, loss = nn.CrossEntropyLoss(), optimizer = opt, scheduler = sched,
        train = train, epochs = 3}
      """, "fit.lua", in: folder)
    XCTAssertThrowsError(try runInProcess(script, out: folder.appendingPathComponent("run"))) {
      XCTAssertTrue("\($0)".contains("fit.lua:6: no lr for epoch 2"), "\($0)")
    }
  }
}
