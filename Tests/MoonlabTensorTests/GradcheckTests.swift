import MoonlabTensor
import TestSupport
import XCTest

/// Every differentiable op against central finite differences (style.md: every module is
/// gradient-checked in one test file).
final class GradcheckTests: XCTestCase {
  /// Values at least 0.2 away from 0, so relu/abs kinks lie far beyond eps.
  func awayFromZero(_ shape: [Int], seed: UInt64) -> Tensor {
    let x = testTensor(shape, seed: seed)
    for i in 0..<x.count { x.data[i] += x.data[i] >= 0 ? 0.2 : -0.2 }
    return x
  }

  /// Values in [0.5, 1.5), for log, sqrt and fractional powers.
  func positive(_ shape: [Int], seed: UInt64) throws -> Tensor {
    try Tensor.rand(shape, generator: Generator(seed: seed, stream: "test")).add(0.5).detach()
  }

  func check(
    _ name: String, _ inputs: [Tensor], file: StaticString = #filePath, line: UInt = #line,
    _ f: @escaping ([Tensor]) throws -> Tensor
  ) throws {
    let (ok, maxError) = try gradcheck(f, inputs: inputs)
    XCTAssertTrue(ok, "\(name): max error \(maxError)", file: file, line: line)
  }

  func testBinaryOpsWithBroadcasting() throws {
    let a = testTensor([2, 3, 4], seed: 1)
    let b = testTensor([3, 1], seed: 2)
    let c = awayFromZero([4], seed: 3)
    try check("add", [a, b]) { try $0[0].add($0[1]) }
    try check("sub", [a, b]) { try $0[0].sub($0[1]) }
    try check("mul", [a, c]) { try $0[0].mul($0[1]) }
    try check("div", [a, c]) { try $0[0].div($0[1]) }
    try check("div by itself-shaped", [b, awayFromZero([3, 1], seed: 4)]) { try $0[0].div($0[1]) }
    try check("scalar operand", [a, testTensor([], seed: 5)]) { try $0[1].mul($0[0]) }
  }

  func testUnaryOps() throws {
    let x = testTensor([3, 5], seed: 6)
    let nz = awayFromZero([3, 5], seed: 7)
    let pos = try positive([3, 5], seed: 8)
    try check("neg", [x]) { $0[0].neg() }
    try check("add scalar", [x]) { $0[0].add(1.5) }
    try check("mul scalar", [x]) { $0[0].mul(-2.5) }
    try check("exp", [x]) { $0[0].exp() }
    try check("log", [pos]) { $0[0].log() }
    try check("sqrt", [pos]) { $0[0].sqrt() }
    try check("abs", [nz]) { $0[0].abs() }
    try check("relu", [nz]) { $0[0].relu() }
    try check("sigmoid", [x]) { $0[0].sigmoid() }
    try check("tanh", [x]) { $0[0].tanh() }
    try check("pow 2", [x]) { $0[0].pow(2) }
    try check("pow 3", [x]) { $0[0].pow(3) }
    try check("pow 0.5", [pos]) { $0[0].pow(0.5) }
    try check("pow -1.5", [pos]) { $0[0].pow(-1.5) }
    try check("clone", [x]) { $0[0].clone() }
  }

  func testReductions() throws {
    let x = testTensor([2, 3, 4], seed: 9)
    try check("sum", [x]) { $0[0].sum() }
    try check("mean", [x]) { $0[0].mean() }
    try check("max", [x]) { try $0[0].max() }
    for d in [0, 1, 2, -1] {
      for keep in [false, true] {
        try check("sum dim \(d)", [x]) { try $0[0].sum(dim: d, keepDim: keep) }
        try check("mean dim \(d)", [x]) { try $0[0].mean(dim: d, keepDim: keep) }
        try check("max dim \(d)", [x]) { try $0[0].max(dim: d, keepDim: keep) }
      }
    }
  }

  func testSoftmaxAlongEveryDimension() throws {
    let x = testTensor([2, 3, 4], seed: 10)
    for d in [0, 1, 2] {
      try check("softmax \(d)", [x]) { try $0[0].softmax(dim: d) }
      try check("log_softmax \(d)", [x]) { try $0[0].logSoftmax(dim: d) }
    }
  }

  func testShapeOpsAndMatmul() throws {
    let a = testTensor([3, 4], seed: 11)
    let b = testTensor([4, 2], seed: 12)
    try check("reshape", [a]) { try $0[0].reshape([2, -1, 3]) }
    try check("transposed", [a]) { try $0[0].transposed() }
    try check("matmul", [a, b]) { try $0[0].matmul($0[1]) }
    try check("chain", [a, b]) { try $0[0].matmul($0[1]).tanh().logSoftmax(dim: 1).mean(dim: 0) }
  }

  func testGradcheckCatchesAWrongGradient() throws {
    let x = testTensor([4], seed: 13)
    // clone's gradient is the identity, but this function doubles its input.
    let (ok, maxError) = try gradcheck(
      { try $0[0].add($0[0]).detach().clone().add($0[0]) }, inputs: [x])
    XCTAssertFalse(ok)
    XCTAssertGreaterThan(maxError, 0.1)
  }
}
