import MoonlabLua
import MoonlabTensor
import XCTest

/// Asserts |a − b| ≤ atol + rtol·|b| elementwise, naming the first element that differs.
public func assertClose(
  _ a: [Float], _ b: [Float], rtol: Float = 1e-5, atol: Float = 1e-6, _ message: String = "",
  file: StaticString = #filePath, line: UInt = #line
) {
  guard a.count == b.count else {
    XCTFail("\(message): \(a.count) values vs \(b.count)", file: file, line: line)
    return
  }
  for i in 0..<a.count where !(abs(a[i] - b[i]) <= atol + rtol * abs(b[i])) {
    XCTFail("\(message): element \(i): \(a[i]) vs \(b[i])", file: file, line: line)
    return
  }
}

/// A seeded tensor for tests, standard normal.
public func testTensor(_ shape: [Int], seed: UInt64 = 1) -> Tensor {
  // Shapes here are literals in tests, always valid.
  (try? Tensor.randn(shape, generator: Generator(seed: seed, stream: "test")))
    ?? Tensor(zeros: shape)
}

/// Runs `body` with Lua's `print` collecting lines instead of writing to stdout.
public func capturingPrint(_ host: LuaHost, _ body: () throws -> Void) throws -> [String] {
  try host.run(
    """
    __printed = {}
    print = function(...)
      local parts = {}
      for i = 1, select('#', ...) do parts[i] = tostring(select(i, ...)) end
      __printed[#__printed + 1] = table.concat(parts, '\\t')
    end
    """)
  try body()
  return try host.run("return table.concat(__printed, '\\n')").first?.split(separator: "\n").map(
    String.init) ?? []
}
