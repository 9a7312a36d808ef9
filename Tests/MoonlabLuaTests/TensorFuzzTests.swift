import MoonlabLua
import MoonlabTensor
import XCTest

/// Every tensor function, method and operator called from Lua with random arguments —
/// numbers (NaN, ±inf, huge), strings, nil, booleans, tables (shapes, ragged, nested),
/// functions, and tensors of random shapes including empty and 0-d ones — under pcall
/// (issue 3, item 4). Passing means: no crash, every call returned or raised a Lua
/// error, and the state still works afterwards. Sizes stay small so it runs in debug.
/// MOONLAB_FUZZ_CALLS sets the number of calls (20,000 in the test command),
/// MOONLAB_FUZZ_SEED another random sequence.
final class TensorFuzzTests: XCTestCase {
  static let script = """
    local calls_wanted, seed = ...
    math.randomseed(seed)
    local R = math.random

    local function rshape()
      local s = {}
      for i = 1, R(0, 4) do s[i] = R(0, 3) end
      return s
    end

    local function rtensor()
      local k = R(1, 7)
      if k == 1 then return tensor.zeros(rshape())
      elseif k == 2 then return tensor.randn(rshape())
      elseif k == 3 then return tensor.from(R() * 4 - 2)
      elseif k == 4 then return tensor.rand(rshape()):requires_grad_()
      elseif k == 5 then return tensor.randn(rshape()):requires_grad_() * 2  -- not a leaf
      elseif k == 6 then return tensor.zeros{R(0, 2), 0, R(1, 3)}
      else return tensor.randn{R(1, 3), R(1, 3)}:requires_grad_() end
    end

    local functions = {
      function(x) return x end,
      function(x) return x:sum() end,
      function(...) return ... end,
      function() error("fuzz") end,
      function(x, y) return x * (y or 1) end,
      function(x) return x:softmax(1):log() end,
      function(x) return x:tanh():max() end,
    }

    local rvalue
    local function roptions()
      return {eps = rvalue(), atol = rvalue(), rtol = rvalue()}
    end

    rvalue = function()
      local k = R(1, 14)
      if k <= 5 then return rtensor()
      elseif k == 6 then return R(-3, 4)
      elseif k == 7 then return ({0.5, -0.0, 1e300, -1e300, 0/0, math.huge, -math.huge, 2^53, math.mininteger, 3.7, 1e-3})[R(1, 11)]
      elseif k == 8 then return ({"", "x", "1", "2.5", "nan", "-1"})[R(1, 6)]
      elseif k == 9 then return nil
      elseif k == 10 then return R() < 0.5
      elseif k == 11 then return rshape()
      elseif k == 12 then
        return ({{}, {-1}, {2, -1}, {1e12}, {{1, 2}, {3, 4}}, {{1}, {2, 3}}, {"a"}, {1, {2}}, {tensor.ones{1}}, {{{}}}})[R(1, 10)]
      elseif k == 13 then return functions[R(1, #functions)]
      else return roptions() end
    end

    -- Every library function and every Tensor method there is, so new ones are fuzzed
    -- from the day they are registered; sorted, so the run is the same every time.
    local lib, methods = {}, {}
    for name in pairs(tensor) do lib[#lib + 1] = name end
    for name in pairs(debug.getregistry()["moonlab.Tensor"].__methods) do methods[#methods + 1] = name end
    table.sort(lib)
    table.sort(methods)
    local operators = {
      add = function(a, b) return a + b end, sub = function(a, b) return a - b end,
      mul = function(a, b) return a * b end, div = function(a, b) return a / b end,
      pow = function(a, b) return a ^ b end, eq = function(a, b) return a == b end,
      unm = function(a) return -a end, len = function(a) return #a end,
      tostring = function(a) return tostring(a) end, get_grad = function(a) return a.grad end,
      get_other = function(a) return a.foo end, set_grad = function(a, b) a.grad = b end,
      set_other = function(a, b) a.foo = b end,
      index = function(a, b) return a[b] end, set_index = function(a, b) a[b] = rvalue() end,
    }
    local operator_names = {}
    for name in pairs(operators) do operator_names[#operator_names + 1] = name end
    table.sort(operator_names)

    local counts, total, errors = {}, 0, 0
    local function count(name, ok)
      counts[name] = (counts[name] or 0) + 1
      total = total + 1
      if not ok then errors = errors + 1 end
    end

    local function args(n)
      local a = {}
      for i = 1, n do a[i] = rvalue() end
      return a, n
    end

    while total < calls_wanted do
      local kind = R(1, 3)
      if kind == 1 then
        local name = lib[R(1, #lib)]
        local a, n = args(R(0, 3))
        -- mostly well-formed first arguments, so deeper code paths get reached too
        if R() < 0.5 and (name ~= "no_grad" and name ~= "gradcheck") then a[1] = rshape() end
        if name == "gradcheck" and R() < 0.7 then a[1], a[2] = functions[R(1, #functions)], {rtensor()} end
        if name == "no_grad" and R() < 0.7 then a[1] = functions[R(1, #functions)] end
        if name == "seed" and R() < 0.5 then a[1] = R(0, 100) end
        count(name, pcall(tensor[name], table.unpack(a, 1, n)))
      elseif kind == 2 then
        local name = methods[R(1, #methods)]
        local self = R() < 0.9 and rtensor() or rvalue()
        local a, n = args(R(0, 3))
        if R() < 0.5 then a[1] = ({R(-4, 4), rtensor(), rshape()})[R(1, 3)] end
        local method = tensor.ones{1}[name]
        count(name, pcall(method, self, table.unpack(a, 1, n)))
      else
        local name = operator_names[R(1, #operator_names)]
        local x = R() < 0.8 and rtensor() or rvalue()
        local y = R() < 0.6 and rtensor() or rvalue()
        if R() < 0.5 then x, y = y, x end
        count(name, pcall(operators[name], x, y))
      end
      if total % 2000 == 0 then collectgarbage() end
    end

    local least = math.huge
    for _, n in ipairs(lib) do least = math.min(least, counts[n] or 0) end
    for _, n in ipairs(methods) do least = math.min(least, counts[n] or 0) end
    for _, n in ipairs(operator_names) do least = math.min(least, counts[n] or 0) end
    -- The least count against the mean of the largest group (each kind gets a third).
    local mean = total / 3 / math.max(#lib, #methods, #operator_names)
    return total, errors, least, least / mean
    """

  func testRandomCallsNeverCrash() throws {
    let calls = Int(ProcessInfo.processInfo.environment["MOONLAB_FUZZ_CALLS"] ?? "") ?? 20_000
    // 1 GB of tensors: random sizes hit the limit's error quickly instead of paging.
    let host = try LuaHost(options: .init(memoryLimitBytes: 1 << 30))
    try host.load(Data(Self.script.utf8), chunkname: "=fuzz")
    Lua(host.state).push(calls)
    Lua(host.state).push(
      Int(ProcessInfo.processInfo.environment["MOONLAB_FUZZ_SEED"] ?? "") ?? 20_261_123)
    try host.call(arguments: 2, results: 4)
    let lua = Lua(host.state)
    let total = try lua.integer(-4, "fuzz")
    let errors = try lua.integer(-3, "fuzz")
    let least = try lua.integer(-2, "fuzz")
    let fairness = try lua.number(-1, "fuzz")
    lua.pop(4)
    print("fuzz: \(total) calls, \(errors) raised Lua errors, each name called ≥ \(least) times")
    XCTAssertGreaterThanOrEqual(total, calls)
    XCTAssertGreaterThan(errors, 1000, "most random calls should be rejected")
    XCTAssertLessThan(errors, total, "some random calls should succeed")
    XCTAssertGreaterThanOrEqual(
      fairness, 0.5, "every function, method and operator is called often (least \(least) times)")
    XCTAssertTrue(Autograd.isEnabled, "grad mode is back on")
    XCTAssertEqual(
      try host.run(
        "local x = tensor.ones{2}:requires_grad_(); (x * 3):sum():backward(); return x.grad:sum():item()"
      ), ["6.0"])
  }
}
