import MoonlabLua
import MoonlabTensor
import XCTest

/// Bad input from a script (issue 3, item 4): a Lua error that starts with the script's
/// file:line and names the op and the offending shapes or arguments — never a crash.
final class TensorErrorTests: XCTestCase {
  var host: LuaHost!

  override func setUpWithError() throws { host = try LuaHost() }

  /// Runs `code` as chunk "@test.lua" after two setup lines and returns the error message.
  func error(_ code: String) throws -> String {
    let script = "local a = tensor.ones{2, 3}\nlocal g = tensor.ones{2, 3}:requires_grad_()\n" + code
    do {
      try host.run(script, chunkname: "@test.lua")
    } catch let e as LuaError {
      return e.message
    }
    XCTFail("no error from: \(code)")
    return ""
  }

  func assertError(
    _ code: String, line: Int = 3, _ expected: String, file: StaticString = #filePath,
    sourceLine: UInt = #line
  ) throws {
    let message = try error(code)
    XCTAssertTrue(
      message.hasPrefix("test.lua:\(line): \(expected)"), "got: \(message)", file: file,
      line: sourceLine)
  }

  func testShapeMismatches() throws {
    try assertError(
      "local c = a + tensor.ones{4}",
      "add: shapes [2,3] and [4] can't be broadcast (dimension 2: 3 vs 4)")
    try assertError("local c = tensor.ones{2} * a", "mul: shapes [2] and [2,3]")
    try assertError("local c = a:matmul(a)", "matmul: shapes [2,3] and [2,3] don't match (3 ≠ 2)")
    try assertError(
      "local c = a:matmul(tensor.ones{3})", "matmul: expected 2-D tensors, got shapes [2,3] and [3]"
    )
    try assertError(
      "local c = a:reshape{4, 2}", "reshape: can't reshape [2,3] (6 elements) into [4,2]")
    try assertError("local c = a:reshape{-1, -1}", "reshape: only one size may be -1, got [-1,-1]")
    try assertError(
      "local c = tensor.ones{2, 2, 2}:t()", "t: expected a 2-D tensor, got shape [2,2,2]")
    try assertError("local c = a:item()", "item: tensor of shape [2,3] has 6 elements, expected 1")
    try assertError("local c = a:max(2):max(1):argmax(2)", "argmax: dimension 2 out of range")
    try assertError(
      "local c = tensor.zeros{2, 0}:max(2)",
      "max: can't reduce along an empty dimension of shape [2,0]")
    try assertError(
      "local c = tensor.zeros{100000, 100000, 1} + tensor.zeros{1}",
      "zeros: shape [100000,100000,1] is too large")
    try assertError(
      "local c = tensor.zeros{100000, 1} + tensor.zeros{1, 100000}",
      "add: shape [100000,100000] is too large")
  }

  func testWrongArgumentTypesAndCounts() throws {
    try assertError(
      "local c = a:sum('x')", "bad argument #2 to 'sum' (number expected, got string)")
    try assertError(
      "local c = a:matmul()", "bad argument #2 to 'matmul' (Tensor expected, got no value)")
    try assertError("local c = a + 'x'", "bad argument #2 to 'add' (Tensor expected, got string)")
    try assertError("local c = a + {}", "bad argument #2 to 'add' (Tensor expected, got table)")
    try assertError("local c = a.sum(3)", "bad argument #1 to 'sum' (Tensor expected, got number)")
    try assertError(
      "local c = tensor.full({2})", "bad argument #2 to 'full' (number expected, got no value)")
    try assertError(
      "local c = tensor.zeros{2, 'x'}",
      "bad argument #1 to 'zeros' (element 2 of the table is a string")
    try assertError("local c = tensor.zeros{-1}", "zeros: negative size in shape [-1]")
    try assertError(
      "local c = tensor.zeros(2.5)",
      "bad argument #1 to 'zeros' (number has no integer representation)")
    try assertError("local c = tensor.from{{1, 2}, {3}}", "from: ragged table")
    try assertError("local c = tensor.from{'x'}", "from: expected numbers or tables, got string")
    try assertError(
      "tensor.no_grad(3)", "bad argument #1 to 'no_grad' (function expected, got number)")
    try assertError(
      "tensor.gradcheck(function() return 1 end, {a})",
      "gradcheck: the function must return a Tensor, got number")
    try assertError(
      "tensor.gradcheck(function(x) return x end, {a, 3})",
      "bad argument #2 to 'gradcheck' (element 2 of the table is a number, expected Tensor)")
    try assertError(
      "tensor.gradcheck(function(x) return x end, {a}, {eps = 'big'})",
      "gradcheck: option 'eps' (number expected, got string)")
    try assertError(
      "tensor.gradcheck(function(x) return x end, {a}, {eps = 0})",
      "gradcheck: eps must be positive and atol, rtol ≥ 0 (finite), got eps 0.0")
    try assertError(
      "tensor.gradcheck(function(x) return x end, {a}, {rtol = -1})",
      "gradcheck: eps must be positive and atol, rtol ≥ 0 (finite)")
    try assertError(
      "local c = tensor.one_hot(tensor.from{1, 5}, 4)",
      "one_hot: label 5.0 at position 2 is not a class in 1..4")
    try assertError(
      "local c = tensor.one_hot(tensor.from{0}, 4)",
      "one_hot: label 0.0 at position 1 is not a class in 1..4")
    try assertError(
      "local c = tensor.one_hot(a, 0)", "one_hot: number of classes must be positive, got 0")
    try assertError("a.foo = 1", "Tensor: can't set field 'foo'")
    try assertError(
      "a.grad = tensor.ones{3}", "grad: gradient shape [3] doesn't match tensor shape [2,3]")
    try assertError("local c = #tensor.from(1)", "len: a 0-d tensor has no length")
  }

  func testDimensionsOutOfRange() throws {
    try assertError(
      "local c = a:sum(3)",
      "sum: dimension 3 out of range for a tensor of shape [2,3] (expected 1..2 or -2..-1)")
    try assertError("local c = a:softmax(0)", "softmax: dimension 0 out of range")
    try assertError("local c = a:log_softmax(-3)", "log_softmax: dimension -3 out of range")
    try assertError("local c = a:size(5)", "size: dimension 5 out of range")
    try assertError(
      "local c = tensor.from(1):mean(1)",
      "mean: dimension 1 out of range for a tensor of shape [] (a 0-d tensor has no dimensions)")
  }

  func testBackwardMisuse() throws {
    try assertError(
      "local y = g * 2; y:backward()",
      "backward: grad can be implicitly created only for a one-element tensor, got shape [2,3]")
    try assertError("a:sum():backward()", "backward: tensor of shape [] does not require grad")
    try assertError(
      "local y = g * 2; y:backward(tensor.ones{3})",
      "backward: gradient shape [3] doesn't match tensor shape [2,3]")
    try assertError(
      "local y = g:sum(); y:backward(); y:backward()",
      "backward: trying to backward through the graph a second time")
    XCTAssertTrue(
      try error("local y = g:sum(); y:backward(); y:backward()").contains("retain_graph = true"))
    try assertError(
      "g:sum():backward{retain = true}",
      "backward: unknown option 'retain' (expected gradient, retain_graph)")
    try assertError(
      ";(g * 2):backward(a, {gradient = a})",
      "backward: unknown option 'gradient' (expected retain_graph)")
    try assertError(
      "g:sum():backward{retain_graph = 1}",
      "backward: option 'retain_graph' (boolean expected, got number)")
    try assertError(
      "local y = g * 2; y:requires_grad_(false)",
      "requires_grad: only leaf tensors can stop requiring grad")
  }

  func testErrorInsideNestedLuaFunctionKeepsItsLine() throws {
    let message = try error("tensor.no_grad(function()\n  return a + tensor.ones{5}\nend)")
    XCTAssertTrue(message.contains("test.lua:4: add: shapes [2,3] and [5]"), message)
    let grad = try error("tensor.gradcheck(function(x)\n  return x:matmul(x)\nend, {a})")
    XCTAssertTrue(grad.contains("test.lua:4: matmul: shapes [2,3] and [2,3]"), grad)
  }

  /// The tape and grad mode survive a failed call: the next script works normally.
  func testStateIsUsableAfterErrors() throws {
    _ = try error("tensor.no_grad(function() error('x') end)")
    XCTAssertEqual(
      try host.run(
        "local x = tensor.ones{2}:requires_grad_(); (x * x):sum():backward(); return x.grad:sum():item()"
      ), ["4.0"])
  }
}
