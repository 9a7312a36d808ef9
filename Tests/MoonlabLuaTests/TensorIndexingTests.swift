import MoonlabLua
import MoonlabTensor
import XCTest

/// Torch7-style indexing from Lua (docs/tensor.md, "Indexing, views and copies"): 1-based inclusive ranges,
/// negatives from the end, views sharing storage, assignment, masks, the PyTorch-named
/// view, index and join methods, and errors at the script's file:line.
final class TensorIndexingTests: XCTestCase {
  var host: LuaHost!

  override func setUpWithError() throws { host = try LuaHost() }

  /// Evaluates `expr` with `a` = [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12]].
  func eval(_ expr: String) throws -> [String] {
    try host.run(
      "local a = tensor.from{{1, 2, 3, 4}, {5, 6, 7, 8}, {9, 10, 11, 12}}\nreturn " + expr)
  }

  /// The values of the tensor `expr` evaluates to, row-major, comma-separated.
  func values(_ expr: String) throws -> String {
    try host.run(
      """
      local a = tensor.from{{1, 2, 3, 4}, {5, 6, 7, 8}, {9, 10, 11, 12}}
      local flat, s = (\(expr)):reshape{-1}, {}
      for i = 1, flat:numel() do s[i] = tostring(flat[i]) end
      return table.concat(s, ',')
      """
    ).first ?? ""
  }

  func testReading() throws {
    XCTAssertEqual(
      try eval("a[2][3], a[{2, 3}], a[-1][-1], a[{-3, 1}]"), ["7.0", "7.0", "12.0", "1.0"])
    XCTAssertEqual(try values("a[2]"), "5.0,6.0,7.0,8.0")
    XCTAssertEqual(try values("a[{{2, 3}, 4}]"), "8.0,12.0")
    XCTAssertEqual(try values("a[{{}, {2}}]"), "2.0,6.0,10.0")
    XCTAssertEqual(
      try eval("a[{{}, {2}}]:dim(), a[{{-2, -1}}]:size(1), a[{{1, 2}, {2, 4}}]:size(2)"),
      ["2", "2", "3"])
    XCTAssertEqual(
      try values("a[tensor.from{{0, 0, 0, 0}, {0, 0, 1, 1}, {1, 1, 1, 1}}]"),
      "7.0,8.0,9.0,10.0,11.0,12.0")
  }

  func testViewsShareStorage() throws {
    XCTAssertEqual(
      try eval(
        "(function() local r = a[2]; r[1] = 0; local c = a:narrow(1, 3, 1); c[{1, 4}] = -1; return a[{2, 1}], a[{3, 4}] end)()"
      ),
      ["0.0", "-1.0"])
    // Strided views (an inner-dimension range, a transpose) write back and see writes.
    XCTAssertEqual(
      try eval(
        "(function() local c = a[{{}, 2}]; c[1] = 0; local t = a:t(); a[{3, 1}] = 5; t[{4, 2}] = -8; return a[{1, 2}], t[{1, 3}], a[{2, 4}], c:is_contiguous(), a:is_contiguous() end)()"
      ),
      ["0.0", "5.0", "-8.0", "false", "true"])
    XCTAssertEqual(
      try eval(
        "(function() local t = a:permute(2, 1); return table.concat(t:stride(), ','), t:stride(1), a[{{2, 3}, {2, 3}}]:storage_offset() end)()"
      ),
      ["1,4", "1", "5"])
    // PyTorch's rule: view never copies, reshape may.
    XCTAssertEqual(
      try eval("a:t():reshape(12)[2]"), ["5.0"])
    XCTAssertThrowsError(try eval("a:t():view(12)")) { error in
      XCTAssertTrue("\(error)".contains("view: the tensor is a strided view"), "\(error)")
    }
    XCTAssertThrowsError(
      try eval("(function() local e = a[{{1}, {}}]:expand(3, 4); e[{1, 1}] = 0 end)()")
    ) { error in
      XCTAssertTrue("\(error)".contains("can't write into an expanded tensor"), "\(error)")
    }
  }

  func testAssignment() throws {
    XCTAssertEqual(
      try values("(function() a[{{}, 1}] = 0; return a end)()"),
      "0.0,2.0,3.0,4.0,0.0,6.0,7.0,8.0,0.0,10.0,11.0,12.0")
    XCTAssertEqual(
      try values("(function() a[2] = tensor.from{1, 1, 1, 1}; return a[2] end)()"),
      "1.0,1.0,1.0,1.0")
    XCTAssertEqual(
      try values(
        "(function() a[tensor.from{{0, 0, 0, 0}, {0, 0, 0, 0}, {0, 0, 1, 1}}] = 0; return a[3] end)()"
      ), "9.0,10.0,0.0,0.0")
    XCTAssertEqual(
      try values(
        "(function() a[{{2, 3}, {3, 4}}] = tensor.from{5, 6}; return a[{{2, 3}, {3, 4}}] end)()"),
      "5.0,6.0,5.0,6.0")
  }

  func testMethods() throws {
    XCTAssertEqual(try values("a:narrow(2, -2, 2)"), "3.0,4.0,7.0,8.0,11.0,12.0")
    XCTAssertEqual(try values("a:select(2, 1)"), "1.0,5.0,9.0")
    XCTAssertEqual(
      try eval(
        "a:view(-1, 2):size(1), a:reshape(2, -1):size(2), a:unsqueeze(3):size(3), a:unsqueeze(-1):dim(), a:unsqueeze(1):squeeze():dim(), a:view(1, 12):squeeze(1):dim()"
      ), ["6", "6", "1", "3", "2", "1"])
    XCTAssertEqual(try values("a:transpose(1, 2)[1]"), "1.0,5.0,9.0")
    XCTAssertEqual(
      try values("a:reshape(3, 2, 2):permute(3, 1, 2)[2]"), "2.0,4.0,6.0,8.0,10.0,12.0")
    XCTAssertEqual(
      try values("a[1]:reshape(1, 4):expand(2, -1)"), "1.0,2.0,3.0,4.0,1.0,2.0,3.0,4.0")
    XCTAssertEqual(try values("a:flip(1, 2)[1]"), "12.0,11.0,10.0,9.0")
    XCTAssertEqual(
      try values("tensor.from{1, 2}:repeatTensor(2, 2)"), "1.0,2.0,1.0,2.0,1.0,2.0,1.0,2.0")
    XCTAssertTrue(try eval("a:contiguous() == a") == ["true"])
    XCTAssertEqual(try values("a:index_select(2, tensor.from{4, 1})"), "4.0,1.0,8.0,5.0,12.0,9.0")
    XCTAssertEqual(try values("a:gather(2, tensor.from{{4}, {1}, {2}})"), "4.0,5.0,10.0")
    XCTAssertEqual(
      try values("tensor.zeros{3}:scatter_add(1, tensor.from{3, 3, 1}, tensor.from{1, 2, 4})"),
      "4.0,0.0,3.0")
    XCTAssertEqual(
      try eval(
        "(function() local z = tensor.zeros{3}; return z:scatter_add_(1, tensor.from{2, 2}, tensor.from{1, 2}) == z, z[2] end)()"
      ),
      ["true", "3.0"])
    XCTAssertEqual(try values("a[1]:masked_fill(tensor.from{1, 0, 0, 1}, -1)"), "-1.0,2.0,3.0,-1.0")
    XCTAssertEqual(
      try values("tensor.where(tensor.from{1, 0, 1}, tensor.from{1, 2, 3}, 0)"), "1.0,0.0,3.0")
  }

  func testJoinAndSplit() throws {
    XCTAssertEqual(
      try eval(
        "tensor.cat({a, a}):size(1), tensor.cat({a, a[{{}, {1}}]}, 2):size(2), tensor.stack({a, a}):size(1), tensor.stack({a, a}, -1):size(3)"
      ), ["6", "5", "2", "2"])
    XCTAssertEqual(
      try eval(
        "#a:split(2), #a:split(3, 2), a:split(3, 2)[2]:size(2), #a:chunk(2, 2), a:chunk(2)[2]:size(1)"
      ), ["2", "2", "1", "2", "1"])
    XCTAssertEqual(
      try eval("#a:split({1, 3}, 2), a:split({1, 3}, 2)[2]:size(2), a:split({0, 3})[1]:size(1)"),
      ["2", "3", "0"])
    // A char-LSTM step: split a gate pre-activation into four and join the batch back.
    XCTAssertEqual(
      try host.run(
        """
        local x = tensor.randn{2, 8}:requires_grad_()
        local g = x:chunk(4, 2)
        local h = tensor.cat({g[1]:sigmoid() * g[3]:tanh(), g[2]}, 2)
        h:sum():backward()
        return x.grad:size(2), (tensor.gradcheck(function(x) return tensor.stack(x:split(3, 2), 1):sum(1) end, {tensor.randn{2, 6}:requires_grad_()}))
        """), ["8", "true"])
  }

  func testGradchecksFromLua() throws {
    XCTAssertEqual(
      try host.run(
        """
        local x = tensor.randn{3, 4}:requires_grad_()
        local ok = true
        for _, f in ipairs{
          function(t) return t[{{2, 3}, {1, 3}}]:flip(1) end,
          function(t) return t[2] end,
          function(t) return t:transpose(1, 2):index_select(1, tensor.from{2, 2, 4}) end,
          function(t) return t:gather(1, tensor.from{{3, 1, 1, 2}}) end,
          function(t) return t:masked_fill(tensor.from{1, 0, 0, 1}, 0) end,
          function(t) return t:view(2, 6):repeatTensor(2, 1) end,
        } do ok = ok and tensor.gradcheck(f, {x}) end
        return ok
        """), ["true"])
  }

  func testUnknownFieldIsAnError() throws {
    XCTAssertEqual(try eval("a.requires_grad, a.grad_fn, a.is_leaf"), ["false", "nil", "true"])
    try assertError("local b = a.foo", "tensor has no field 'foo'")
    try assertError("a:nosuch()", "tensor has no field 'nosuch'")
  }

  func assertError(
    _ code: String, _ expected: String, file: StaticString = #filePath, line: UInt = #line
  ) throws {
    let script =
      "local a = tensor.ones{2, 3}\nlocal g = tensor.ones{2, 3}:requires_grad_()\n" + code
    do {
      try host.run(script, chunkname: "@test.lua")
      XCTFail("no error from: \(code)", file: file, line: line)
    } catch let e as LuaError {
      XCTAssertTrue(
        e.message.hasPrefix("test.lua:3: \(expected)"), "got: \(e.message)", file: file, line: line)
    }
  }

  func testErrors() throws {
    try assertError(
      "local b = a[3]",
      "index: index 3 out of range for dimension 1 of size 2 (expected 1..2 or -2..-1)")
    try assertError("local b = a[{1, 0}]", "index: index 0 out of range for dimension 2 of size 3")
    try assertError("local b = a[{1, 2, 3}]", "index: 3 indices for a tensor of shape [2,3]")
    try assertError("local b = a[{{3, 2}}]", "index: index 3 out of range for dimension 1")
    try assertError("local b = a[{{}, {3, 2}}]", "index: range {3, 2} for dimension 2 is empty")
    try assertError(
      "local b = a[{{1, 2, 3}}]", "index: range for dimension 1 must be {}, {a} or {a, b}")
    try assertError(
      "local b = a[{'x'}]",
      "index: entry 1 of the index table must be a number or a table, got string")
    try assertError(
      "local b = a[true]",
      "index: a tensor is indexed by a number, a table or a mask tensor, got boolean")
    try assertError(
      "local b = a[tensor.ones{3}]",
      "masked select: mask of shape [3] doesn't match tensor of shape [2,3]")
    try assertError(
      "a[1] = tensor.ones{2}",
      "index assignment: value of shape [2] doesn't fit the selection of shape [3]")
    try assertError("a[1] = 'x'", "bad argument #3 to 'index assignment'")
    try assertError(
      "g[1] = 0", "index assignment: a leaf tensor that requires grad can't be changed in place")
    try assertError(
      "g[tensor.ones{2, 3}] = 0", "masked assignment: a leaf tensor that requires grad")
    try assertError(
      "local b = (g * 2)[1]; b[1] = 0",
      "index assignment: can't assign into a view while recording gradients")
    try assertError(
      "local b = a:narrow(2, 2, 3)",
      "narrow: start 1 and length 3 out of range for dimension 2 of size 3")
    try assertError(
      "local b = a:select(3, 1)", "select: dimension 3 out of range for a tensor of shape [2,3]")
    try assertError("local b = a:transpose(1, 3)", "transpose: dimension 3 out of range")
    try assertError("local b = a:permute(1, 1)", "permute: [0, 0] is not a permutation")
    try assertError(
      "local b = a:permute(1, 4)", "permute: dimension 4 out of range for a tensor of shape [2,3]")
    try assertError(
      "local b = a:unsqueeze(4)", "unsqueeze: dimension 4 out of range (expected 1..3 or -3..-1)")
    try assertError(
      "local b = a:view(4, -1)", "reshape: can't reshape [2,3] (6 elements) into [4,-1]")
    try assertError(
      "local b = a:index_select(2, tensor.from{0})",
      "index_select: index 0 at position 1 is out of range 1..3")
    try assertError(
      "local b = a:gather(1, tensor.from{{3, 1, 1}})",
      "gather: index 3 at position 1 is out of range 1..2")
    try assertError(
      "local b = a:scatter_add(1, tensor.from{{1, 2, 2}}, tensor.ones{2})",
      "scatter_add: source of shape [2] is smaller than index of shape [1,3]")
    try assertError(
      "local b = a:masked_fill(tensor.ones{2}, 0)",
      "masked_fill: shapes [2] and [2,3] can't be broadcast")
    try assertError(
      "local b = tensor.cat({a, tensor.ones{3}})", "cat: tensor 2 has shape [3], expected [2,3]")
    try assertError("local b = tensor.cat({})", "cat: expected a non-empty list of tensors")
    try assertError(
      "local b = tensor.cat({a, 1})",
      "bad argument #1 to 'cat' (element 2 of the table is a number, expected Tensor)")
    try assertError(
      "local b = tensor.stack({a, a}, 4)",
      "stack: dimension 4 out of range (expected 1..3 or -3..-1)")
    try assertError("local b = a:split(0)", "split: piece size must be positive, got 0")
    try assertError(
      "local b = a:split({1099511627776, 1})",
      "split: sizes [1099511627776,1] don't add up to size 2 of dimension 1")
    try assertError("local b = a:chunk(2, 3)", "chunk: dimension 3 out of range")
    try assertError("local b = a:expand(3, 3)", "expand: can't expand shape [2,3] to [3,3]")
    try assertError("local b = a:repeatTensor(2)", "repeatTensor: repeats [2] must be ≥ 0")
    try assertError(
      "local b = tensor.where(a, a, tensor.ones{4})",
      "where: shapes [2,3] and [4] can't be broadcast")
  }
}
