import MoonlabLua
import MoonlabNN
import MoonlabTensor
import XCTest

/// Modules and autograd ops written in Lua (`nn.define`, `nn.Function`) next to built-in
/// modules: they train, pass gradcheck, and their errors point at the Lua file:line.
final class NNExtensionTests: XCTestCase {
  var host: LuaHost!

  /// A Lua-defined block whose forward uses a Lua-defined op (x·w elementwise, w
  /// broadcast over the batch), between two built-in Linear layers.
  static let definitions = """
    Scale = nn.Function{
      name = 'Scale',
      forward = function(ctx, x, w)
        ctx:save(x, w)
        return x * w
      end,
      backward = function(ctx, g)
        local x, w = ctx.saved[1], ctx.saved[2]
        return g * w, (g * x):sum(1)
      end,
    }
    Gate = nn.define{
      name = 'Gate',
      init = function(self, n)
        self.n = n
        self:param('w', tensor.ones{n})
        self:module('inner', nn.Linear(n, n))
      end,
      forward = function(self, x)
        return Scale(self.inner(x), self.w):tanh()
      end,
    }
    """

  override func setUpWithError() throws {
    host = try LuaHost()
    // A plain SGD step for the training test (optimizers have their own library).
    host.registerLibrary(
      "testing",
      [
        "sgd": { lua in
          let m = try lua.object(1, .module, as: Module.self, "sgd")
          let lr = Float(try lua.number(2, "sgd"))
          for p in m.parameters() {
            guard let g = p.grad else { continue }
            for i in 0..<p.count { p.data[i] -= lr * g.data[i] }
          }
          return 0
        }
      ])
    try host.run(Self.definitions, chunkname: "@defs.lua")
  }

  func testLuaModuleSitsInSequentialAndTrains() throws {
    let out = try host.run(
      """
      tensor.seed(1)
      local model = nn.Sequential{nn.Linear(3, 4), Gate(4), nn.Linear(4, 2)}
      local names = {}
      for name in pairs(model:named_parameters()) do names[#names + 1] = name end
      table.sort(names)
      local x = tensor.randn{16, 3}
      local y = x:matmul(tensor.randn{3, 2}):tanh()  -- a target the model can fit
      local loss = nn.MSELoss()
      local first, last
      for step = 1, 60 do
        model:zero_grad()
        local l = loss(model(x), y)
        l:backward()
        testing.sgd(model, 0.1)
        first = first or l:item()
        last = l:item()
      end
      return table.concat(names, ","), model:num_parameters(), tostring(model:get(2)), model:get(2).n, last < first / 2
      """)
    XCTAssertEqual(out[0], "0.bias,0.weight,1.inner.bias,1.inner.weight,1.w,2.bias,2.weight")
    XCTAssertEqual(out[1], "\(16 + 4 + 20 + 10)")
    XCTAssertEqual(out[2], "Gate {\n  (inner): Linear(4 -> 4)\n}")
    XCTAssertEqual(Array(out[3...]), ["4", "true"])
  }

  func testLuaModuleAndFunctionPassGradcheck() throws {
    let out = try host.run(
      """
      tensor.seed(2)
      local model = nn.Sequential{nn.Linear(3, 4), Gate(4), nn.Tanh()}
      local w = tensor.randn{4}
      local ok1, e1 = tensor.gradcheck(function(x) return model(x) end, {tensor.randn{5, 3}})
      local ok2, e2 = tensor.gradcheck(function(x, v) return Scale(x, v) end, {tensor.randn{5, 4}, w})
      return ok1, ok2
      """)
    XCTAssertEqual(out, ["true", "true"])
  }

  func testErrorsInLuaForwardAndBackwardReportTheLuaLine() throws {
    try host.run(
      """
      Broken = nn.define{name = 'Broken', forward = function(self, x)
        error('forward failed')
      end}
      BadGrad = nn.Function{name = 'BadGrad',
        forward = function(ctx, x) return x * 2 end,
        backward = function(ctx, g)
          return g:reshape{-1, 1, 99}
        end}
      """, chunkname: "@layers.lua")
    XCTAssertThrowsError(
      try host.run(
        "local m = nn.Sequential{nn.ReLU(), Broken()}\nm(tensor.ones{2})", chunkname: "@main.lua")
    ) {
      let msg = "\($0)"
      XCTAssertTrue(
        msg.contains(
          "main.lua:2: in module 2 (Broken) of Sequential: layers.lua:2: forward failed"), msg)
    }
    XCTAssertThrowsError(
      try host.run(
        "local x = tensor.ones{3}:requires_grad_()\nBadGrad(x):sum():backward()",
        chunkname: "@main.lua")
    ) {
      let msg = "\($0)"
      XCTAssertTrue(msg.contains("main.lua:2:"), msg)
      XCTAssertTrue(msg.contains("layers.lua:7:"), msg)
    }
    // A name registers once: a second `param('w', …)` would drop the first from the state dict.
    XCTAssertThrowsError(
      try host.run(
        """
        Twice = nn.define{name = 'Twice', init = function(self)
          self:param('w', tensor.zeros{2})
          self:param('w', tensor.ones{2})
        end, forward = function(self, x) return x end}
        Twice()
        """, chunkname: "@twice.lua")
    ) {
      XCTAssertTrue(
        "\($0)".contains("twice.lua:3: param: 'w' is already registered in Twice"), "\($0)")
    }
    XCTAssertThrowsError(try host.run("nn.Function{name = 'X', forward = function() end}")) {
      XCTAssertTrue("\($0)".contains("Function: option 'backward' must be a function"), "\($0)")
    }
  }

  func testFunctionGradientShapeIsChecked() throws {
    XCTAssertThrowsError(
      try host.run(
        """
        local F = nn.Function{name = 'F', forward = function(ctx, x) return x * 1 end,
          backward = function(ctx, g) return g:reshape{1, 3} end}
        F(tensor.ones{3}:requires_grad_()):sum():backward()
        """)
    ) {
      XCTAssertTrue(
        "\($0)".contains("F: backward returned a gradient of shape [1,3] for input 1 of shape [3]"),
        "\($0)")
    }
  }
}
