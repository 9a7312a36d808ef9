import Foundation
import TestSupport
import XCTest

@testable import MoonlabLab

/// The lab library called from inside a coroutine: its bindings call back into Lua on the
/// coroutine's own stack (they used to call through the main state: "(error object is not
/// a string)" from lab.fit and lab.evaluate, a crash from lab.sweep).
final class CoroutineTests: XCTestCase {
  func testFitEvaluateAndSweepInsideACoroutine() throws {
    let folder = try TestPaths.temporaryDirectory()
    let script = try writeScript(
      """
      local x = tensor.randn{8, 2}
      local loader = data.Loader(data.tensors(x, tensor.ones{8}), {batch_size = 4})
      local m = nn.Linear(2, 2)
      local co = coroutine.create(function()
        local h = lab.fit{model = m, optimizer = optim.SGD(m:parameters(), {lr = 0.1}),
          loss = nn.CrossEntropyLoss(), train = loader, epochs = 1}
        coroutine.yield(h.train_loss[1])
        coroutine.yield(lab.evaluate(m, loader).loss)
        local r = lab.sweep{name = 'co', grid = {a = {1, 2}}, metric = 'm',
          run = function(cfg) coroutine.yield('no yield across the sweep') return {m = cfg.a} end}
        return 'unreachable'
      end)
      local ok, loss = coroutine.resume(co)
      assert(ok and type(loss) == 'number', tostring(loss))
      local ok2, val = coroutine.resume(co)
      assert(ok2 and type(val) == 'number', tostring(val))
      local ok3, err = coroutine.resume(co)
      assert(not ok3 and tostring(err):find('trial%(s%) failed'), 'a yield across Swift fails the trials: ' .. tostring(err))
      -- and a sweep that doesn't yield runs to the end inside a coroutine
      local co2 = coroutine.wrap(function()
        return #lab.sweep{name = 'co2', grid = {a = {1, 2}}, metric = 'm', run = function(cfg) return {m = cfg.a} end}
      end)
      assert(co2() == 2)
      """, "co.lua", in: folder)
    try runInProcess(script, out: folder.appendingPathComponent("run"))
  }
}
