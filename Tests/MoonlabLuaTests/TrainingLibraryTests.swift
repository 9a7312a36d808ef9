import MoonlabLua
import MoonlabTensor
import XCTest

/// The Lua side of the losses with options, RMSprop/Adagrad, gradient clipping and
/// ReduceLROnPlateau (the numbers are checked against PyTorch in MoonlabNNTests).
final class TrainingLibraryTests: XCTestCase {
  var host: LuaHost!

  override func setUpWithError() throws { host = try LuaHost() }

  func numbers(_ code: String) throws -> [Double] {
    try host.run(code).map { try XCTUnwrap(Double($0), $0) }
  }

  func assertError(_ code: String, _ expected: String, line: UInt = #line) {
    XCTAssertThrowsError(try host.run(code, chunkname: "@test.lua"), line: line) {
      let message = ($0 as? LuaError)?.message ?? "\($0)"
      XCTAssertTrue(message.hasPrefix("test.lua:1: \(expected)"), "got: \(message)", line: line)
    }
  }

  func testLossesTakeOptionsAndOneBasedLabels() throws {
    // Uniform logits: −log p = log 3 for every class. Weights 1 and 4 of the labelled
    // classes: 0.9·(1 + 4)·log 3 plus the smoothing 2·(0.1/3)·(1 + 2 + 4)·log 3, over
    // 1 + 4 (PyTorch's weighted mean) = 0.99333·log 3. NLLLoss picks −x[y], 1-based.
    let v = try numbers(
      """
      local z = tensor.zeros{2, 3}
      local y = tensor.from{1, 3}
      local ce = nn.CrossEntropyLoss{weight = tensor.from{1, 2, 4}, label_smoothing = 0.1}(z, y):item()
      local none = nn.CrossEntropyLoss{reduction = 'none'}(z, y)
      local nll = nn.NLLLoss{reduction = 'sum'}(tensor.from{{-1, -2, -3}, {-4, -5, -6}}, y):item()
      local huber = nn.HuberLoss{delta = 1}(tensor.from{3}, tensor.from{0}):item()
      local sl1 = nn.SmoothL1Loss{beta = 2}(tensor.from{1}, tensor.from{0}):item()
      local kl = nn.KLDivLoss{reduction = 'batchmean'}(tensor.from{{0, 0}}, tensor.from{{0.5, 0.5}}):item()
      return ce, none:size(1), nll, huber, sl1, kl
      """)
    XCTAssertEqual(v[0], (0.9 + 1.4 / 15) * log(3), accuracy: 1e-6)
    XCTAssertEqual(v[1], 2)
    XCTAssertEqual(v[2], 7, accuracy: 1e-6)
    XCTAssertEqual(v[3], 2.5, accuracy: 1e-6)
    XCTAssertEqual(v[4], 0.25, accuracy: 1e-6)
    XCTAssertEqual(v[5], log(0.5), accuracy: 1e-6)
  }

  func testLossErrors() {
    assertError(
      "nn.CrossEntropyLoss{smoothing = 0.1}", "CrossEntropyLoss: unknown option 'smoothing'")
    assertError("nn.NLLLoss{reduction = 'avg'}", "NLLLoss: option 'reduction' must be")
    assertError("nn.HuberLoss{delta = -1}", "HuberLoss: delta -1.0 must be")
    assertError(
      "nn.NLLLoss()(tensor.zeros{2, 3}, tensor.from{1, 4})",
      "NLLLoss: label 4.0 of sample 2 is not a class in 1..3")
    assertError(
      "nn.CrossEntropyLoss{weight = tensor.ones{2}}(tensor.zeros{2, 3}, tensor.from{1, 2})",
      "CrossEntropyLoss: weight has shape [2]")
    assertError("nn.KLDivLoss{log_target = 1}", "KLDivLoss: option 'log_target'")
  }

  func testClippingAndPlateau() throws {
    let v = try numbers(
      """
      local w = tensor.from{3, 4}:requires_grad_()
      local opt = optim.RMSprop({w}, {lr = 0.01, momentum = 0.5, centered = true})
      w.grad = nil
      ;(w * w):sum():backward()            -- grad {6, 8}, norm 10
      local norm = optim.clip_grad_norm({w}, 5)
      local g = w.grad:totable()
      optim.clip_grad_value({w}, 2)
      local g2 = w.grad:totable()
      local plateau = optim.ReduceLROnPlateau(opt, {patience = 1, factor = 0.5})
      plateau:step(1); plateau:step(1); plateau:step(tensor.from{1})
      return norm, g[1], g[2], g2[2], opt.lr, plateau.num_bad_epochs, plateau.best
      """)
    XCTAssertEqual(v[0], 10, accuracy: 1e-6)
    XCTAssertEqual(v[1], 3, accuracy: 1e-5)
    XCTAssertEqual(v[2], 4, accuracy: 1e-5)
    XCTAssertEqual(v[3], 2)
    XCTAssertEqual(v[4], 0.005, accuracy: 1e-12)
    XCTAssertEqual(v[5], 0)
    XCTAssertEqual(v[6], 1)
  }

  func testSchedulesFromLua() throws {
    // Closed forms (checked against PyTorch in MoonlabNNTests): exponential 0.1·0.5²;
    // LinearLR 1/4 → 1 over 3 epochs, then a cosine from 0.1 over 2 epochs: at epoch 4,
    // one epoch into the cosine, 0.05; OneCycleLR starts at max_lr / 25.
    let v = try numbers(
      """
      local function opt() return optim.SGD({tensor.ones{1}}, {lr = 0.1}) end
      local e = optim.ExponentialLR(opt(), {gamma = 0.5}); e:step(); e:step()
      local o = opt()
      local warm = optim.LinearLR(o, {start_factor = 0.25, total_iters = 3})
      local seq = optim.SequentialLR(o, {warm, optim.CosineLR(o, {t_max = 2})}, {milestones = {3}})
      local first = o.lr
      for _ = 1, 4 do seq:step() end
      local one = optim.OneCycleLR(opt(), {max_lr = 1, epochs = 2, steps_per_epoch = 5})
      return e.lr, first, o.lr, one.lr
      """)
    XCTAssertEqual(v[0], 0.025, accuracy: 1e-12)
    XCTAssertEqual(v[1], 0.025, accuracy: 1e-12)
    XCTAssertEqual(v[2], 0.05, accuracy: 1e-12)
    XCTAssertEqual(v[3], 0.04, accuracy: 1e-12)
  }

  func testEMAFromLua() throws {
    // decay 0.5: the first update copies w = 1, after a step to 0.8 the average is 0.9.
    let v = try numbers(
      """
      local m = nn.Linear(1, 1, {bias = false})
      local w = m:parameters()[1]
      nn.init.constant(w, 1)
      local ema = optim.EMA(m, 0.5)
      local opt = optim.SGD(m:parameters(), {lr = 0.1})
      ema:update()
      opt:zero_grad(); (w * w):sum():backward(); opt:step()     -- w = 1 − 0.1·2 = 0.8
      ema:update()
      ema:apply()
      local averaged = w:item()
      ema:restore()
      return averaged, w:item(), ema.num_updates
      """)
    XCTAssertEqual(v[0], 0.9, accuracy: 1e-6)
    XCTAssertEqual(v[1], 0.8, accuracy: 1e-6)
    XCTAssertEqual(v[2], 2)
    assertError("optim.EMA({tensor.ones{1}}, 1)", "EMA: decay 1.0 must be in [0, 1)")
    assertError(
      "optim.EMA({tensor.ones{1}}, 0.9):restore()", "EMA.restore: the averages are not applied")
  }

  func testFrozenParametersAreSkipped() throws {
    // requires_grad false: backward gives no gradient once zero_grad cleared the old one,
    // so the step leaves the weight alone and still moves the bias.
    let v = try numbers(
      """
      local m = nn.Linear(2, 1)
      local w, b = m:parameters()[1], m:parameters()[2]
      local opt = optim.RMSprop(m:parameters(), {lr = 0.1})
      m(tensor.ones{3, 2}):sum():backward()
      w.requires_grad = false
      opt:zero_grad()
      m(tensor.ones{3, 2}):sum():backward()
      local w0, b0 = w:clone(), b:clone()
      opt:step()
      return (w - w0):abs():max():item(), (b - b0):abs():max():item()
      """)
    XCTAssertEqual(v[0], 0)
    XCTAssertGreaterThan(v[1], 0)
  }

  func testOptimizerErrors() {
    assertError(
      "optim.RMSprop({tensor.ones{2}}, {alpha = 2})", "RMSprop: alpha 2.0 must be in [0, 1]")
    assertError("optim.Adagrad({tensor.ones{2}}, {lr_decay = -1})", "Adagrad: invalid lr_decay")
    assertError(
      "optim.Adagrad({tensor.ones{2}}, {momentum = 0.9})", "Adagrad: unknown option 'momentum'")
    assertError("optim.clip_grad_norm({tensor.ones{2}}, -1)", "clip_grad_norm: max_norm -1.0")
    assertError("optim.clip_grad_value({1}, 1)", "bad argument #1 to 'clip_grad_value'")
    assertError(
      "optim.ReduceLROnPlateau(optim.SGD({tensor.ones{1}}, {lr = 1}), {mode = 'up'})",
      "ReduceLROnPlateau: option 'mode' must be 'min' or 'max', got 'up'")
    assertError(
      "optim.ReduceLROnPlateau(optim.SGD({tensor.ones{1}}, {lr = 1})):step('x')",
      "bad argument #2 to 'step'")
    assertError(
      "optim.OneCycleLR(optim.SGD({tensor.ones{1}}, {lr = 1}), {max_lr = 1})",
      "OneCycleLR: option 'total_steps (or epochs and steps_per_epoch)' is required")
    assertError(
      "local o = optim.SGD({tensor.ones{1}}, {lr = 1}); optim.SequentialLR(o, {o}, {milestones = {}})",
      "bad argument #2 to 'SequentialLR' (element 1 is a Optimizer")
    assertError(
      "optim.ExponentialLR(optim.SGD({tensor.ones{1}}, {lr = 1}), {})",
      "ExponentialLR: option 'gamma' is required")
  }
}

/// Parameter groups: per-group options over the defaults, schedules per group.
final class ParamGroupTests: XCTestCase {
  func testGroupsOverrideDefaultsAndSchedulesScaleEachGroup() throws {
    // loss = Σ a² + Σ b²: grad 2a, 2b. Group 1: lr 0.1 with momentum 0.9 (default);
    // group 2: the default lr 0.01, no momentum. One step: a = 1 − 0.1·2 = 0.8,
    // b = 1 − 0.01·2 = 0.98. StepLR halves both groups' lrs.
    let host = try LuaHost()
    let v = try host.run(
      """
      local a, b = tensor.ones{2}:requires_grad_(), tensor.ones{3}:requires_grad_()
      local opt = optim.SGD({{params = {a}, lr = 0.1}, {params = {b}, momentum = 0}},
        {lr = 0.01, momentum = 0.9})
      opt:zero_grad(); ((a * a):sum() + (b * b):sum()):backward(); opt:step()
      local sched = optim.StepLR(opt, {step_size = 1, gamma = 0.5})
      sched:step()
      local lrs = opt.group_lrs
      local w = optim.Adam({{params = {tensor.ones{1}}}, {params = {tensor.ones{1}}, lr = 0.5}})
      return a:totable()[1], b:totable()[1], lrs[1], lrs[2], opt.lr, tostring(opt), w.group_lrs[1], w.group_lrs[2]
      """
    ).map { Double($0) ?? .nan }
    XCTAssertEqual(v[0], 0.8, accuracy: 1e-6)
    XCTAssertEqual(v[1], 0.98, accuracy: 1e-6)
    XCTAssertEqual(v[2], 0.05, accuracy: 1e-12)
    XCTAssertEqual(v[3], 0.005, accuracy: 1e-12)
    XCTAssertEqual(v[4], 0.05, accuracy: 1e-12)
    XCTAssertEqual(v[6], 1e-3, accuracy: 1e-12)
    XCTAssertEqual(v[7], 0.5, accuracy: 1e-12)
  }

  func testGroupErrors() throws {
    let host = try LuaHost()
    for (code, message) in [
      ("optim.SGD({{params = {tensor.ones{1}}}})", "SGD: option 'lr' is required"),
      (
        "optim.SGD({{lr = 1}}, {lr = 1})",
        "SGD parameter group 1: 'params' (a list of tensors) is required"
      ),
      (
        "optim.SGD({{params = {tensor.ones{1}}, moment = 1}}, {lr = 1})",
        "SGD parameter group 1: unknown option 'moment'"
      ),
      (
        "optim.SGD({{params = {tensor.ones{1}}}, 3}, {lr = 1})", "SGD parameter group 2 is a number"
      ),
      (
        "local w = tensor.ones{1}; optim.SGD({{params = {w}}, {params = {w}}}, {lr = 1})",
        "SGD: parameter 2 appears twice"
      ),
    ] {
      XCTAssertThrowsError(try host.run(code, chunkname: "@test.lua")) {
        let m = ($0 as? LuaError)?.message ?? "\($0)"
        XCTAssertTrue(m.hasPrefix("test.lua:1: \(message)"), "got: \(m)")
      }
    }
  }
}
