import MoonlabLua
import MoonlabTensor
import XCTest

/// The Lua surface of the airbench94 pieces (docs/nn.md, docs/optim.md, docs/tensor.md):
/// tensor.eigh / tensor.linalg.eigh, nn.init.dirac and patch_whitening, nn.MulConstant,
/// optim.Lookahead and optim.LambdaLR, with their errors. The numbers themselves are
/// checked against PyTorch in EighTests and SpeedrunFixtureTests.
final class SpeedrunLibraryTests: XCTestCase {
  var host: LuaHost!

  override func setUpWithError() throws { host = try LuaHost() }

  func numbers(_ code: String) throws -> [Double] {
    try host.run(code).map { try XCTUnwrap(Double($0), $0) }
  }

  func assertError(
    _ code: String, _ part: String, file: StaticString = #filePath, line: UInt = #line
  ) {
    XCTAssertThrowsError(try host.run(code, chunkname: "@exp.lua"), file: file, line: line) {
      let message = "\($0)"
      XCTAssertTrue(
        message.contains(part), "'\(message)' should contain '\(part)'", file: file, line: line)
      XCTAssertTrue(
        message.contains("exp.lua:"), "'\(message)' should name the line", file: file, line: line)
    }
  }

  func testEighFromLua() throws {
    let r = try numbers(
      """
      local a = tensor.from{{2, 1}, {1, 2}}
      local values, vectors = tensor.eigh(a)
      local v2, V2 = tensor.linalg.eigh(a)
      local rebuilt = vectors:matmul(tensor.eye(2) * values):matmul(vectors:t())
      return values[1], values[2], (rebuilt - a):abs():max():item(), v2[2], V2:size(1)
      """)
    XCTAssertEqual(r[0], 1, accuracy: 1e-6)
    XCTAssertEqual(r[1], 3, accuracy: 1e-6)
    XCTAssertEqual(r[2], 0, accuracy: 1e-6)
    XCTAssertEqual(r[3], 3, accuracy: 1e-6)
    XCTAssertEqual(r[4], 2)
    assertError("local v = tensor.eigh(tensor.zeros{2, 3})", "eigh: expected a square matrix")
    assertError("local v = tensor.eigh(tensor.from{{0/0, 0}, {0, 1}})", "must be finite")
    assertError("local v = tensor.linalg.eigh(3)", "bad argument #1 to 'eigh'")
  }

  func testDiracThroughANarrowedParameter() throws {
    // Lua's narrow is 1-based: output channels 1..3 of 6 get the identity, 4..6 stay.
    let r = try numbers(
      """
      local conv = nn.Conv2d(3, 6, 3, {padding = 1, bias = false})
      local before = conv.weight[{{4, 6}}]:clone()
      nn.init.dirac(conv.weight:narrow(1, 1, 3))
      local x = tensor.randn{2, 3, 5, 5}
      local y = conv(x)
      return (y[{{}, {1, 3}}] - x):abs():max():item(), (conv.weight[{{4, 6}}] - before):abs():max():item(),
        conv.weight[{1, 1, 2, 2}], conv.weight[{2, 1, 2, 2}]
      """)
    XCTAssertEqual(r, [0, 0, 1, 0])
    assertError("nn.init.dirac(tensor.zeros{2, 2})", "3, 4 or 5 dimensions")
  }

  func testPatchWhiteningFromLua() throws {
    // Whitened patches have (approximately, eps aside) identity covariance: the first
    // half of the filters applied to the images gives outputs whose second moment is ~1.
    let r = try numbers(
      """
      local images = tensor.randn{16, 3, 8, 8} * tensor.from{1, 0.5, 2}:reshape{1, 3, 1, 1}
      local conv = nn.Conv2d(3, 24, 2, {bias = false})
      assert(nn.init.patch_whitening(conv, images, {eps = 1e-6}) == conv)
      local y = conv(images)[{{}, {1, 12}}]:permute(2, 1, 3, 4):reshape{12, -1}
      local cov = y:matmul(y:t()) / y:size(2)
      return (cov - tensor.eye(12)):abs():max():item()
      """)
    XCTAssertLessThan(r[0], 1e-3)
    assertError(
      "nn.init.patch_whitening(nn.Conv2d(3, 24, 2), tensor.zeros{2, 4, 8, 8})",
      "the images have 4 channels, the conv takes 3")
    assertError(
      "nn.init.patch_whitening(nn.Conv2d(3, 20, 2), tensor.zeros{2, 3, 8, 8})",
      "needs 2·3·2·2 = 24")
    assertError(
      "nn.init.patch_whitening(nn.Conv2d(3, 24, 2), tensor.zeros{3, 8, 8})", "expected images")
    assertError(
      "nn.init.patch_whitening(nn.Linear(3, 24), tensor.zeros{2, 3, 8, 8})",
      "bad argument #1 to 'patch_whitening' (Conv2d expected, got Linear)")
    assertError(
      "nn.init.patch_whitening(nn.Conv2d(3, 24, 2), tensor.zeros{2, 3, 8, 8}, {epsilon = 1})",
      "epsilon")
  }

  func testMulConstantInSequential() throws {
    let out = try host.run(
      """
      local m = nn.Sequential{nn.Linear(2, 2), nn.MulConstant(0.5)}
      local x = tensor.ones{1, 2}
      local direct = m:get(1)(x) * 0.5
      return (m(x) - direct):abs():max():item(), tostring(m)
      """)
    XCTAssertEqual(out[0], "0.0")
    XCTAssertTrue(out[1].contains("MulConstant(scale 0.5)"), out[1])
    assertError("nn.MulConstant('x')", "bad argument #1 to 'MulConstant'")
  }

  func testLookaheadFromLua() throws {
    // Parameter 1 → 3 between updates, decay 0.5: ema = 1 + 0.5·2 = 2; the parameter,
    // still the optimizer's tensor, reads 2. BatchNorm's running_mean is followed too.
    let r = try numbers(
      """
      local model = nn.Sequential{nn.Linear(1, 1, {bias = false}), nn.BatchNorm1d(1)}
      local w = model:get(1).weight
      tensor.no_grad(function() w[{1, 1}] = 1 end)
      local la = optim.Lookahead(model)
      tensor.no_grad(function() w[{1, 1}] = 3 end)
      model:get(2).running_mean[1] = 4
      la:update(0.5)
      return w[{1, 1}], model:get(2).running_mean[1], la.num_updates
      """)
    XCTAssertEqual(r, [2, 2, 1])
    assertError("local la = optim.Lookahead(nn.Linear(1, 1)); la:update(1.5)", "must be in [0, 1]")
    assertError(
      "local la = optim.Lookahead(nn.Linear(1, 1)); la:update()", "bad argument #2 to 'update'")
  }

  func testLambdaLRSequence() throws {
    let lrs = try numbers(
      """
      local opt = optim.SGD({tensor.zeros{2}:requires_grad_()}, {lr = 0.5})
      local sched = optim.LambdaLR(opt, function(epoch) return 1 / (epoch + 1) end)
      local out = {opt.lr}
      for _ = 1, 3 do sched:step(); out[#out + 1] = opt.lr end
      out[#out + 1] = sched.epoch
      return table.unpack(out)
      """)
    for (got, want) in zip(lrs, [0.5, 0.25, 0.5 / 3, 0.125, 3]) {
      XCTAssertEqual(got, want, accuracy: 1e-12)
    }
  }

  func testLambdaLRErrors() throws {
    let make = "local opt = optim.SGD({tensor.zeros{2}}, {lr = 0.1})\n"
    assertError(make + "optim.LambdaLR(opt, 3)", "bad argument #2 to 'LambdaLR' (function expected")
    assertError(
      make + "optim.LambdaLR(opt, function() return 'x' end)", "returned a string for epoch 0")
    assertError(
      make + "optim.LambdaLR(opt, function() return -1 end)", "must be a finite number ≥ 0")
    assertError(
      make + "optim.LambdaLR(opt, function() return 0/0 end)", "must be a finite number ≥ 0")
    // An error inside fn names fn's own line (3) and the line that stepped (5).
    XCTAssertThrowsError(
      try host.run(
        make + """
          local s = optim.LambdaLR(opt, function(e)
            if e == 2 then error('too far') end
            return 1 end)
          s:step(); s:step()
          """, chunkname: "@exp.lua")
    ) {
      let message = "\($0)"
      XCTAssertTrue(message.contains("exp.lua:5:"), message)
      XCTAssertTrue(message.contains("LambdaLR: the lr function failed at epoch 2"), message)
      XCTAssertTrue(message.contains("exp.lua:3: too far"), message)
    }
  }
}
