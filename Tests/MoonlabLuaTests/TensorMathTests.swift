import MoonlabLua
import MoonlabTensor
import TestSupport
import XCTest

/// The Lua surface of the math ops (docs/tensor.md, "Math"): 1-based dimensions and
/// positions, default arguments, options and gradients from Lua.
final class TensorMathTests: XCTestCase {
  var host: LuaHost!

  override func setUpWithError() throws { host = try LuaHost() }

  /// Evaluates `expr` with `a` = [[1, 5, 3], [4, 2, 6]] and `s(t)`, t's values as "%g"
  /// joined by spaces.
  func eval(_ expr: String) throws -> [String] {
    try host.run(
      """
      local a = tensor.from{{1, 5, 3}, {4, 2, 6}}
      local function s(t)
        local v = t:reshape(-1):tolist()
        for i = 1, #v do v[i] = string.format('%g', v[i]) end
        return table.concat(v, ' ')
      end
      return \(expr)
      """)
  }

  func testComparisons() throws {
    XCTAssertEqual(
      try eval("s(a:gt(3)), s(a:ge(4)), s(a:lt(2)), s(a:le(2)), s(a:eq(5)), s(a:ne(5))"),
      ["0 1 0 1 0 1", "0 1 0 1 0 1", "1 0 0 0 0 0", "1 0 0 0 1 0", "0 1 0 0 0 0", "1 0 1 1 1 1"])
    XCTAssertEqual(
      try eval("s(a:gt(tensor.from{2, 2, 6})), s(a:eq(tensor.from{{1}, {2}}))"),
      ["0 1 0 1 0 0", "1 0 0 0 1 0"])
    XCTAssertEqual(
      try eval("a:requires_grad_():gt(2).requires_grad, a:gt(2):any():item()"), ["false", "1.0"])
  }

  /// PyTorch's function forms: every method is also `tensor.name(t, …)`.
  func testFunctionFormsOfMethods() throws {
    XCTAssertEqual(
      try eval(
        "s(tensor.eq(a, 5)), s(tensor.transpose(a, 1, 2)), tensor.sum(a):item(), s(tensor.argmax(a, 2)), tensor.numel(a), s(tensor.clamp(a, 2, 4))"
      ),
      ["0 1 0 0 0 0", "1 4 5 2 3 6", "21.0", "2 3", "6", "2 4 3 4 2 4"])
    XCTAssertThrowsError(try eval("tensor.eq('x', a)")) { error in
      XCTAssertTrue("\(error)".contains("bad argument #1 to 'eq' (Tensor expected, got string)"), "\(error)")
    }
  }

  func testElementwise() throws {
    let x = "tensor.from{-1.5, -0.5, 0, 0.5, 1.5, 2.5}"
    XCTAssertEqual(
      try eval("s(\(x):round()), s(\(x):floor()), s(\(x):ceil()), s(\(x):sign())"),
      ["-2 -0 0 0 2 2", "-2 -1 0 0 1 2", "-1 -0 0 1 2 3", "-1 -1 0 1 1 1"])
    XCTAssertEqual(
      try eval(
        "s(\(x):clamp(-1, 1)), s(\(x):clamp(0)), s(\(x):clamp(nil, 0)), s(\(x):clamp(1, -1))"),
      ["-1 -0.5 0 0.5 1 1", "0 0 0 0.5 1.5 2.5", "-1.5 -0.5 0 0 0 0", "-1 -1 -1 -1 -1 -1"])
    // Tensor bounds (PyTorch's clamp(min=t, max=t)): each value's gradient goes to the
    // tensor it came from; numbers mix with tensors; bounds broadcast.
    XCTAssertEqual(
      try eval(
        """
        (function()
          local v = tensor.from{-2, 0.5, 3}:requires_grad_()
          local lo, hi = tensor.zeros{3}:requires_grad_(), tensor.ones{3}:requires_grad_()
          local y = v:clamp(lo, hi)
          y:sum():backward()
          return s(y), s(v.grad), s(lo.grad), s(hi.grad), s(v:clamp(tensor.zeros{1}, 2)),
            s(tensor.from{{-1, 2}}:clamp(nil, tensor.from{{0}, {1}}))
        end)()
        """),
      ["0 0.5 1", "0 1 0", "1 0 0", "0 0 1", "0 0.5 2", "-1 0 -1 1"])
    XCTAssertEqual(
      try eval("s(tensor.from{0, 3}:log1p():exp()), s(tensor.from{4, 9}:sqrt()), s(a:pow(2))"),
      ["1 4", "2 3", "1 25 9 16 4 36"])
    XCTAssertEqual(
      try eval(
        "s(a:pow(tensor.from{0, 1, 2})), s(2 ^ tensor.from{1, 3}), s(tensor.from{2, 3} ^ tensor.from{3, 2})"
      ),
      ["1 5 9 1 2 36", "2 8", "8 9"])
  }

  func testReductionsWithPositions() throws {
    XCTAssertEqual(
      try eval(
        "s(a:min(2)), s(select(2, a:min(2))), s(select(2, a:max(-1, true))), a:min():item()"),
      ["1 2", "1 2", "2 3", "1.0"])
    XCTAssertEqual(
      try eval("s(a:argmin(1)), s(a:argmax(2)), a:argmin():item(), a:argmax():item()"),
      ["1 2 1", "2 3", "1.0", "6.0"])
    XCTAssertEqual(
      try eval("s(a:prod(1)), a:prod():item(), s(a:cumsum(2)), s(a:cumsum(-2))"),
      ["4 10 18", "720.0", "1 6 9 4 6 12", "1 5 3 5 7 9"])
    XCTAssertEqual(try eval("a:min(1, true):dim(), a:prod(2, true):size(2)"), ["2", "1"])
    XCTAssertEqual(
      try eval("table.concat(a:argmax(2, true):shape(), 'x'), s(a:argmin(1, true))"),
      ["2x1", "1 2 1"])
  }

  func testStatistics() throws {
    XCTAssertEqual(
      try eval("s(a:var(1)), s(a:var(1, {unbiased = false})), s(a:var(2, true, {correction = 0}))"),
      ["4.5 4.5 4.5", "2.25 2.25 2.25", "2.66667 2.66667"])
    XCTAssertEqual(
      try eval("a:var():item(), a:var{unbiased = false}:item(), s(a:std(2)), a:std():item()"),
      ["3.5", "2.9166667461395", "2 2", "1.8708287477493"])
    XCTAssertEqual(
      try eval("tensor.from{3, 4}:norm():item(), s(a:norm(1, 2)), s(a:norm(math.huge, 1, true))"),
      ["5.0", "9 12", "4 5 6"])
  }

  func testSortTopkAnyAll() throws {
    XCTAssertEqual(
      try eval(
        "s(a:sort()), s(select(2, a:sort())), s(a:sort(1, true)), s(select(2, a:sort(1, true)))"),
      ["1 3 5 2 4 6", "1 3 2 2 1 3", "4 5 6 1 2 3", "2 1 2 1 2 1"])
    XCTAssertEqual(
      try eval(
        "s(a:topk(2)), s(select(2, a:topk(2))), s(a:topk(1, 1, false)), s(select(2, a:topk(1, 1, false)))"
      ),
      ["5 3 6 4", "2 3 3 1", "1 2 3", "1 2 1"])
    let mask = "tensor.from{{1, 0, 1}, {1, 0, 0}}"
    XCTAssertEqual(
      try eval(
        "s(\(mask):any(1)), s(\(mask):all(1)), s(\(mask):all(2, true)), \(mask):any():item(), \(mask):all():item()"
      ),
      ["1 0 1", "1 0 0", "0 0", "1.0", "0.0"])
  }

  func testFactories() throws {
    XCTAssertEqual(
      try eval(
        "s(tensor.arange(4)), s(tensor.arange(1, 3)), s(tensor.arange(1, 2, 0.25)), s(tensor.arange(3, 0, -1))"
      ),
      ["0 1 2 3", "1 2", "1 1.25 1.5 1.75", "3 2 1"])
    XCTAssertEqual(
      try eval("s(tensor.linspace(0, 1, 5)), s(tensor.eye(2, 3)), s(tensor.eye(2))"),
      ["0 0.25 0.5 0.75 1", "1 0 0 0 1 0", "1 0 0 1"])
    XCTAssertEqual(
      try eval(
        "s(tensor.zeros_like(a)), s(tensor.ones_like(a)), s(tensor.full_like(a, 7)), s(tensor.rand_like(a):lt(1))"
      ),
      ["0 0 0 0 0 0", "1 1 1 1 1 1", "7 7 7 7 7 7", "1 1 1 1 1 1"])
    XCTAssertEqual(try eval("tensor.randn_like(a):size(2), a:tolist()[2][3]"), ["3", "6.0"])
  }

  func testGradientsFromLua() throws {
    let grads = try eval(
      """
      (function()
        local out = {}
        for _, f in ipairs{
          function(x) return select(1, x:topk(1, 2)):sum() end,
          function(x) return select(1, x:min(2)):sum() end,
          function(x) return x:cumsum(2):sum() end,
          function(x) return x:clamp(2, 5):sum() end,
          function(x) return x:prod(1):sum() end,
          function(x) return x:round():sum() end,
        } do
          local x = a:clone():requires_grad_()
          f(x):backward()
          out[#out + 1] = s(x.grad)
        end
        return table.concat(out, ', ')
      end)()
      """)
    XCTAssertEqual(
      grads, ["0 1 0 0 0 1, 1 0 0 0 1 0, 3 2 1 3 2 1, 0 0 1 1 0 0, 4 2 6 1 5 3, 0 0 0 0 0 0"])
    XCTAssertEqual(
      try eval(
        "(tensor.gradcheck(function(t) return t:var(1) + t:std(2, true, {correction = 0}):norm(2, 1) end, {tensor.randn{3, 2}}))"
      ), ["true"])
  }

  func testPrintingAndTolist() throws {
    XCTAssertEqual(
      try eval("tostring(tensor.arange(2000):reshape{2, 1000})"),
      [
        "tensor([[   0.,    1.,    2., ...,  997.,  998.,  999.],\n        [1000., 1001., 1002., ..., 1997., 1998., 1999.]], shape=[2,1000], dtype=float32)"
      ])
    XCTAssertEqual(
      try eval("tostring(a:requires_grad_():max(2))"),
      ["tensor([5., 6.], shape=[2], dtype=float32, grad_fn=<max>)"])
    XCTAssertEqual(
      try eval("#a:tolist(), #a:tolist()[1], a:tolist()[2][1], tensor.from(3):tolist()"),
      ["2", "3", "4.0", "3.0"])
  }
}

/// Bad input to the math ops: a Lua error at the script's file:line naming the function,
/// with TensorErrorTests' helpers (`a` = ones{2, 3}).
extension TensorErrorTests {
  func testMathOpErrors() throws {
    try assertError("local c = a:gt(tensor.ones{4})", "gt: shapes [2,3] and [4] can't be broadcast")
    try assertError("local c = a:eq('x')", "bad argument #2 to 'eq' (Tensor expected, got string)")
    try assertError(
      "local c = a:clamp('x')", "bad argument #2 to 'clamp' (number expected, got string)")
    try assertError(
      "local c = a:min(3)",
      "min: dimension 3 out of range for a tensor of shape [2,3] (expected 1..2 or -2..-1)")
    try assertError("local c = a:argmin(0)", "argmin: dimension 0 out of range")
    try assertError(
      "local c = tensor.zeros{2, 0}:min(2)",
      "min: can't reduce along an empty dimension of shape [2,0]")
    try assertError(
      "local c = tensor.zeros{0}:min()", "min: empty tensor of shape [0] has no minimum")
    try assertError("local c = a:sort(-3)", "sort: dimension -3 out of range")
    try assertError(
      "local c = a:topk(4)", "topk: k = 4 out of range for a dimension of size 3 (shape [2,3])")
    try assertError(
      "local c = a:topk(1.5)", "bad argument #2 to 'topk' (number has no integer representation)")
    try assertError(
      "local c = a:var(1, {bias = 0})", "var: unknown option 'bias' (expected correction, unbiased)"
    )
    try assertError(
      "local c = a:std{unbiased = false, correction = 0}",
      "std: give either option 'unbiased' or 'correction', not both")
    try assertError(
      "local c = a:var(1, 'x')", "bad argument #3 to 'var' (boolean expected, got string)")
    try assertError("local c = a:norm(-1)", "norm: p must be ≥ 0, got -1.0")
    try assertError(
      "local c = a:cumsum()", "bad argument #2 to 'cumsum' (number expected, got no value)")
    try assertError(
      "local c = tensor.arange(0, 1, 0)",
      "arange: start, end and step must be finite and step nonzero")
    try assertError(
      "local c = tensor.arange(0, 5, -1)",
      "arange: end 5.0 can't be reached from start 0.0 with step -1.0")
    try assertError(
      "local c = tensor.arange(-3)",
      "arange: end -3.0 can't be reached from start 0.0 with step 1.0")
    try assertError("local c = tensor.linspace(0, 1, -2)", "linspace: negative size in shape [-2]")
    try assertError("local c = tensor.eye(2, -1)", "eye: negative size in shape [2,-1]")
    try assertError(
      "local c = tensor.zeros_like(3)",
      "bad argument #1 to 'zeros_like' (Tensor expected, got number)")
    try assertError(
      "local c = tensor.full_like(a)",
      "bad argument #2 to 'full_like' (number expected, got no value)")
    try assertError(
      "local c = a:pow(tensor.ones{2})", "pow: shapes [2,3] and [2] can't be broadcast")
    try assertError("local c = a ^ 'x'", "bad argument #2 to 'pow' (Tensor expected, got string)")
  }
}
