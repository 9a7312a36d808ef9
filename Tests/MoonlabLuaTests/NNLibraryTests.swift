import Foundation
import MoonlabLua
import MoonlabNN
import MoonlabTensor
import TestSupport
import XCTest

/// The Lua `nn` API of docs/nn.md: constructors, module methods, losses with 1-based
/// labels, summary, save/load.
final class NNLibraryTests: XCTestCase {
  var host: LuaHost!

  override func setUpWithError() throws { host = try LuaHost() }

  static let lenet = """
    local model = nn.Sequential{
      nn.Conv2d(3, 6, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
      nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10)}
    """

  func testParameterCountsAndSummary() throws {
    XCTAssertEqual(
      try host.run(
        "return nn.Sequential{nn.Linear(30, 1024), nn.ReLU(), nn.Linear(1024, 512), nn.ReLU(), nn.Linear(512, 1)}:num_parameters()"
      ), ["557057"])
    XCTAssertEqual(
      try host.run(Self.lenet + "\nreturn model:num_parameters(), #model"), ["62006", "12"])
    let text = try host.run(
      Self.lenet + "\nprint = function() end\nreturn nn.summary(model, {1, 3, 32, 32})")
    XCTAssertTrue(text[0].contains("Linear(84 -> 10)"), text[0])
    XCTAssertTrue(text[0].hasSuffix("total parameters: 62,006"), text[0])
    // As torchsummary: the shape without the batch dimension gives the same table.
    let short = try host.run(
      Self.lenet + "\nprint = function() end\nreturn nn.summary(model, {3, 32, 32})")
    XCTAssertEqual(short, text)
    let mlp = try host.run(
      "print = function() end\nreturn nn.summary(nn.Sequential{nn.Linear(784, 10)}, {784})")
    XCTAssertTrue(mlp[0].contains("[1,10]"), mlp[0])
  }

  func testModuleMethodsAndFields() throws {
    let out = try host.run(
      """
      local m = nn.Sequential():add(nn.Linear(4, 3)):add(nn.BatchNorm1d(3, {momentum = 0.2})):add(nn.Softmax(2))
      local np = m:named_parameters()
      local seen = 0
      m:apply(function(mod) seen = seen + 1 end)
      local y = m(tensor.randn{5, 4})
      return #m:parameters(), np["0.weight"]:size(1), m:get(1).weight:size(2), m:eval().training,
        m:train().training, seen, y:sum(2):totable()[1], tostring(m:get(2))
      """)
    XCTAssertEqual(Array(out.prefix(6)), ["4", "3", "4", "false", "true", "4"])
    XCTAssertEqual(Double(out[6]) ?? 0, 1, accuracy: 1e-5)
    XCTAssertEqual(out[7], "BatchNorm1d(3, momentum 0.2, eps 1e-05)")
  }

  /// pairs() over named_parameters visits registration order (as PyTorch), whatever Lua's
  /// hash order is; indexing by name works as before.
  func testNamedParametersIterateInRegistrationOrder() throws {
    let out = try host.run(
      Self.lenet + """

        local names = {}
        for name, p in pairs(model:named_parameters()) do
          names[#names + 1] = name .. ":" .. p:numel()
        end
        local np = model:named_parameters()
        return table.concat(names, " "), np["7.bias"]:numel(), rawget(np, "nope") == nil
        """)
    XCTAssertEqual(
      out,
      [
        "0.weight:450 0.bias:6 3.weight:2400 3.bias:16 7.weight:48000 7.bias:120 9.weight:10080 9.bias:84 11.weight:840 11.bias:10",
        "120", "true",
      ])
  }

  func testCrossEntropyTakesOneBasedLabels() throws {
    let out = try host.run(
      """
      local logits = tensor.from{{2, 0, 0}, {0, 0, 3}}
      local a = nn.CrossEntropyLoss()(logits, tensor.from{1, 3}):item()
      local ok, err = pcall(function() return nn.CrossEntropyLoss()(logits, tensor.from{0, 3}) end)
      return a, err
      """)
    let perSample = [log(exp(2.0) + 2) - 2, log(exp(3.0) + 2) - 3]
    XCTAssertEqual(Double(out[0]) ?? 0, (perSample[0] + perSample[1]) / 2, accuracy: 1e-5)
    XCTAssertTrue(out[1].contains("label 0.0 of sample 1 is not a class in 1..3"), out[1])
  }

  func testErrorsNameTheModuleAndTheScriptLine() throws {
    XCTAssertThrowsError(
      try host.run(
        "local m = nn.Sequential{nn.Linear(4, 3), nn.ReLU(), nn.Conv2d(3, 6, 5)}\nlocal y = m(tensor.zeros{2, 4})",
        chunkname: "@net.lua")
    ) {
      XCTAssertTrue(
        "\($0)".contains(
          "net.lua:2: in module 3 (Conv2d) of Sequential: Conv2d: expected input [N,3,H,W], got [2,3]"
        ),
        "\($0)")
    }
    XCTAssertThrowsError(try host.run("nn.Conv2d(3, 'six', 5)")) {
      XCTAssertTrue(
        "\($0)".contains("bad argument #2 to 'Conv2d' (number expected, got string)"), "\($0)")
    }
    XCTAssertThrowsError(try host.run("nn.Linear(3, 4).foo = 1")) {
      XCTAssertTrue("\($0)".contains("Linear: can't set field 'foo'"), "\($0)")
    }
  }

  /// A container can't be added into itself, directly or through another one (printing,
  /// parameters() and forward used to recurse until the stack overflowed: SIGSEGV, also
  /// inside pcall); sharing a module in two places stays allowed.
  func testContainersRefuseCycles() throws {
    let cases = [
      (
        "local s = nn.Sequential(); s:add(s)",
        "cyc.lua:1: add: adding Sequential to Sequential would make a cycle (it already contains itself)"
      ),
      (
        "local a, b = nn.Sequential(), nn.Sequential(); a:add(b); b:add(a)",
        "cyc.lua:1: add: adding Sequential to Sequential would make a cycle (it already contains this Sequential)"
      ),
      ("local a = nn.Sequential(); local r = nn.Residual(a); a:add(r)", "would make a cycle"),
      (
        """
        local M = nn.define{name = 'M', forward = function(self, x) return x end}
        local m = M(); local s = nn.Sequential{m}; m:module('back', s)
        """, "module: adding Sequential to M would make a cycle"
      ),
    ]
    for (code, message) in cases {
      XCTAssertThrowsError(
        try host.run(
          "local ok, e = pcall(function() \(code) end); error(e, 0)", chunkname: "@cyc.lua")
      ) {
        XCTAssertTrue("\($0)".contains(message), "\(code): \($0)")
      }
    }
    try host.run(
      """
      local shared = nn.Linear(2, 2)
      local s = nn.Sequential{shared, nn.ReLU()}
      s:add(shared)
      assert(tostring(s):find('Linear'))
      local y = s(tensor.ones{1, 2})
      """)
  }

  func testSaveAndLoadRoundTrip() throws {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent(
      "nn-lua-\(getpid()).safetensors"
    ).path
    defer { try? FileManager.default.removeItem(atPath: path) }
    let out = try host.run(
      """
      local a = nn.Sequential{nn.Linear(3, 2), nn.BatchNorm1d(2)}
      a(tensor.randn{4, 3})
      a:save("\(path)")
      local b = nn.Sequential{nn.Linear(3, 2), nn.BatchNorm1d(2)}
      b:load("\(path)")
      local t = nn.load("\(path)")
      local x = tensor.randn{4, 3}
      return (a:eval()(x) - b:eval()(x)):abs():max():item(), t["1.running_mean"]:size(1)
      """)
    XCTAssertEqual(out, ["0.0", "2"])
  }

  func testInitializersFillInPlace() throws {
    let out = try host.run(
      """
      local w = tensor.zeros{64, 32}
      nn.init.msra(w)
      local s = w:pow(2):mean():item()
      nn.init.constant(w, 2)
      local c = w:mean():item()
      return s, c, nn.init.zeros(w):sum():item(), nn.init.xavier(w):abs():max():item() <= math.sqrt(6 / 96)
      """)
    XCTAssertEqual(Double(out[0]) ?? 0, 2.0 / 32, accuracy: 0.01)
    XCTAssertEqual(Array(out.dropFirst()), ["2.0", "0.0", "true"])
    // Through a strided view the fill reaches the tensor viewed; an expanded one is refused.
    XCTAssertEqual(
      try host.run(
        "local w = tensor.zeros{3, 4}; nn.init.constant(w[{{}, 2}], 5); nn.init.constant(w:t()[4], 1); return w:sum():item(), w[{2, 2}], w[{3, 4}]"
      ), ["18.0", "5.0", "1.0"])
    XCTAssertThrowsError(try host.run("nn.init.zeros(tensor.ones{1, 3}:expand(2, 3))")) { error in
      XCTAssertTrue(
        "\(error)".contains("nn.init.zeros: can't write into an expanded tensor"), "\(error)")
    }
    XCTAssertThrowsError(
      try host.run("optim.SGD({tensor.ones{1, 3}:expand(2, 3)}, {lr = 0.1})")
    ) { error in
      XCTAssertTrue(
        "\(error)".contains("SGD: parameter 1: can't write into an expanded tensor"), "\(error)")
    }
  }

  /// Plain scripts get the fused BatchNorm nodes (docs/nn.md, "Fused BatchNorm"), seen in
  /// the output's grad_fn, and such models still train; a Lua-defined layer in between
  /// keeps the separate ops.
  func testBatchNormReLUAndResidualBlocksRunFused() throws {
    let out = try host.run(
      """
      tensor.seed(1)
      local stem = nn.Sequential{nn.Conv2d(3, 8, 3, {padding = 1}), nn.BatchNorm2d(8), nn.ReLU()}
      local block = nn.Sequential{
        nn.Residual(
          nn.Sequential{nn.Conv2d(8, 16, 3, {stride = 2, padding = 1}), nn.BatchNorm2d(16), nn.ReLU(),
            nn.Conv2d(16, 16, 3, {padding = 1}), nn.BatchNorm2d(16)},
          nn.Sequential{nn.Conv2d(8, 16, 1, {stride = 2}), nn.BatchNorm2d(16)}),
        nn.ReLU()}
      local Pass = nn.define{name = 'Pass', forward = function(self, x) return x end}
      local x = tensor.randn{4, 3, 8, 8}
      local h = stem(x)
      local names = {h.grad_fn, block(h).grad_fn, tostring(x.grad_fn),
        nn.Sequential{nn.BatchNorm2d(3), Pass(), nn.ReLU()}(x).grad_fn,
        nn.Residual(nn.BatchNorm2d(3), nil, {relu = true})(x).grad_fn}
      local model = nn.Sequential{stem, block, nn.AvgPool2d(4), nn.Flatten(), nn.Linear(16, 3)}
      local y = tensor.from{1, 2, 3, 1}
      local loss, opt = nn.CrossEntropyLoss(), optim.SGD(model:parameters(), {lr = 0.1})
      local first, last
      for step = 1, 20 do
        opt:zero_grad()
        local l = loss(model(x), y)
        l:backward()
        opt:step()
        if step == 1 then first = l:item() end
        last = l:item()
      end
      return table.concat(names, ' '), last < 0.5 * first, model:get(2):get(1).block:get(5).num_batches_tracked:item()
      """)
    XCTAssertEqual(
      out,
      ["BatchNorm2d+ReLU BatchNorm2d+add+ReLU nil relu BatchNorm2d+add+ReLU", "true", "21.0"])
  }
}
