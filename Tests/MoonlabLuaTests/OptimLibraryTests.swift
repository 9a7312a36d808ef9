import MoonlabLua
import MoonlabTensor
import XCTest

/// The Lua `optim` API of docs/optim.md. The update rules themselves are checked against
/// PyTorch in MoonlabNNTests; here: the binding, its fields and its errors.
final class OptimLibraryTests: XCTestCase {
  var host: LuaHost!

  override func setUpWithError() throws { host = try LuaHost() }

  func numbers(_ code: String) throws -> [Double] {
    try host.run(code).map { try XCTUnwrap(Double($0), $0) }
  }

  func testSGDWithMomentumTrainsFromLua() throws {
    // loss = Σ w², grad 2w; with lr 0.1, momentum 0.9 each element goes
    // 1 → 0.8 → 0.46 → 0.062 (buf 2, 3.4, 3.98), by hand.
    let w = try numbers(
      """
      local w = tensor.from{1, 2, 3}:requires_grad_()
      local opt = optim.SGD({w}, {lr = 0.1, momentum = 0.9})
      for _ = 1, 3 do
        opt:zero_grad();
        (w * w):sum():backward()
        opt:step()
      end
      local t = w:totable()
      return t[1], t[2], t[3]
      """)
    for (got, want) in zip(w, [0.062, 0.124, 0.186]) { XCTAssertEqual(got, want, accuracy: 1e-6) }
  }

  func testAdamFirstStepMovesByLR() throws {
    // Adam's first step is lr·sign(g) (bias-corrected m̂ = g, √v̂ = |g|).
    let w = try numbers(
      """
      local w = tensor.from{1, -2}:requires_grad_()
      local opt = optim.Adam({w}, {lr = 0.05, betas = {0.8, 0.99}, eps = 1e-8})
      local loss = (w * w):sum()
      loss:backward()
      opt:step()
      local adamw = optim.AdamW({tensor.zeros{1}:requires_grad_()})
      return w:totable()[1], w:totable()[2], adamw.lr
      """)
    XCTAssertEqual(w[0], 0.95, accuracy: 1e-6)
    XCTAssertEqual(w[1], -1.95, accuracy: 1e-6)
    XCTAssertEqual(w[2], 1e-3)
  }

  func testLRFieldAndSchedules() throws {
    let lrs = try numbers(
      """
      local opt = optim.SGD({tensor.zeros{2}:requires_grad_()}, {lr = 0.1})
      opt.lr = 0.2
      local first = opt.lr
      local sched = optim.MultiStepLR(opt, {milestones = {2, 3}, gamma = 0.5})
      local out = {first}
      for _ = 1, 3 do sched:step(); out[#out + 1] = opt.lr end
      out[#out + 1] = sched:get_lr()
      out[#out + 1] = sched.epoch
      return table.unpack(out)
      """)
    XCTAssertEqual(lrs, [0.2, 0.2, 0.1, 0.05, 0.05, 3])

    let warm = try numbers(
      """
      local opt = optim.SGD({tensor.zeros{1}:requires_grad_()}, {lr = 1})
      local sched = optim.Warmup(optim.StepLR(opt, {step_size = 3, gamma = 0.1}), {steps = 4})
      local out = {opt.lr}
      for _ = 1, 4 do sched:step(); out[#out + 1] = sched.lr end
      return table.unpack(out)
      """)
    // min(1, (t+1)/4) · 0.1^⌊t/3⌋ for t = 0…4
    for (got, want) in zip(warm, [0.25, 0.5, 0.75, 0.1, 0.1]) {
      XCTAssertEqual(got, want, accuracy: 1e-12)
    }

    let cosine = try numbers(
      """
      local opt = optim.Adam({tensor.zeros{1}:requires_grad_()}, {lr = 1})
      local sched = optim.CosineLR(opt, {t_max = 2, min_lr = 0.5})
      local a = opt.lr; sched:step(); local b = opt.lr; sched:step()
      return a, b, opt.lr
      """)
    XCTAssertEqual(cosine, [1, 0.75, 0.5])
  }

  func testErrorsNameTheOptionAndLine() throws {
    let cases: [(String, String)] = [
      ("optim.SGD({w}, {lr = -1})", "invalid learning rate"),
      ("optim.SGD({w}, {lr = 0.1, momentum = 1})", "momentum 1.0 must be in [0, 1)"),
      ("optim.SGD({w}, {lr = 0.1, moment = 0.9})", "SGD: unknown option 'moment'"),
      ("optim.SGD({w}, {0.1})", "SGD: unknown option [number key]"),
      ("optim.SGD({w}, {momentum = 0.9})", "SGD: option 'lr' is required"),
      ("optim.SGD({w})", "bad argument #2 to 'SGD' (table expected, got no value)"),
      ("optim.SGD(w, {lr = 1})", "bad argument #1 to 'SGD' (table expected, got Tensor)"),
      ("optim.SGD({w, 3}, {lr = 1})", "element 2 of the table is a number, expected Tensor"),
      ("optim.SGD({}, {lr = 1})", "SGD: the parameter list is empty"),
      (
        "optim.SGD({w}, {lr = 1, nesterov = 'yes'})",
        "SGD: option 'nesterov' (boolean expected, got string)"
      ),
      ("optim.Adam({w}, {betas = {0.9}})", "Adam: option 'betas' must hold 2 numbers, got 1"),
      ("optim.AdamW({w}, {betas = {0.9, 1.5}})", "AdamW: beta2 1.5 must be in [0, 1)"),
      ("optim.SGD({w}, {lr = 1}).lr = -2", "SGD.lr: invalid learning rate -2.0"),
      (
        "optim.SGD({w}, {lr = 1}).lr = 'fast'",
        "bad argument #3 to 'lr' (number expected, got string)"
      ),
      ("optim.SGD({w}, {lr = 1}).momentum = 0.5", "SGD: can't set field 'momentum'"),
      (
        "optim.MultiStepLR(optim.SGD({w}, {lr = 1}), {gamma = 0.5})",
        "option 'milestones' is required"
      ),
      (
        "optim.StepLR(optim.SGD({w}, {lr = 1}), {step_size = 0})", "StepLR: step_size 0 must be ≥ 1"
      ),
      ("optim.CosineLR(optim.SGD({w}, {lr = 1}), {t_max = 1.5})", "CosineLR: option 't_max'"),
      (
        "optim.Warmup(optim.SGD({w}, {lr = 1}), {steps = 2})",
        "bad argument #1 to 'Warmup' (LRScheduler expected, got Optimizer)"
      ),
    ]
    for (code, part) in cases {
      XCTAssertThrowsError(
        try host.run("local w = tensor.zeros{2}\n" + code, chunkname: "@exp.lua")
      ) { error in
        let message = "\(error)"
        XCTAssertTrue(message.contains(part), "\(code): '\(message)' should contain '\(part)'")
        XCTAssertTrue(message.contains("exp.lua:2:"), "\(code): '\(message)' should name the line")
      }
    }
  }

  func testToString() throws {
    XCTAssertEqual(
      try host.run(
        """
        local opt = optim.SGD({tensor.zeros{2}, tensor.zeros{3}}, {lr = 0.5})
        return tostring(opt), tostring(optim.StepLR(opt, {step_size = 2}))
        """),
      ["SGD(lr=0.5, 2 parameter tensors)", "StepLR(epoch=0, lr=0.5)"])
  }
}

/// optim with the nn binding: parameters from a module, checkpoints in between.
final class OptimWithModulesTests: XCTestCase {
  func testTrainingSaveAndLoadKeepTheOptimizerValid() throws {
    let host = try LuaHost()
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
      "moonlab-optim-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let out = try host.run(
      """
      tensor.seed(3)
      local m = nn.Linear(3, 1)
      local loss_fn = nn.MSELoss()
      local x, y = tensor.randn{16, 3}, tensor.randn{16, 1}
      local opt = optim.Adam(m:parameters(), {lr = 0.05})
      local sched = optim.StepLR(opt, {step_size = 10, gamma = 0.5})
      local function epoch()
        opt:zero_grad()
        local loss = loss_fn(m(x), y)
        loss:backward()
        opt:step()
        sched:step()
        return loss:item()
      end
      local first = epoch()
      for _ = 1, 20 do epoch() end
      local path = '\(dir.path)/m.safetensors'
      m:save(path)
      local saved = loss_fn(m(x), y):item()
      for _ = 1, 5 do epoch() end
      m:load(path)
      local reloaded = loss_fn(m(x), y):item()
      epoch()  -- the optimizer still updates the module's (reloaded) tensors
      return first > saved, saved == reloaded, loss_fn(m(x), y):item() < reloaded, opt.lr
      """)
    XCTAssertEqual(out, ["true", "true", "true", "0.0125"])
  }
}
