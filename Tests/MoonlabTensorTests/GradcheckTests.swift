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

  func testBinaryOpsWithBroadcasting() throws {
    let a = testTensor([2, 3, 4], seed: 1)
    let b = testTensor([3, 1], seed: 2)
    let c = awayFromZero([4], seed: 3)
    try assertGradcheck("add", [a, b]) { try $0[0].add($0[1]) }
    try assertGradcheck("sub", [a, b]) { try $0[0].sub($0[1]) }
    try assertGradcheck("mul", [a, c]) { try $0[0].mul($0[1]) }
    try assertGradcheck("div", [a, c]) { try $0[0].div($0[1]) }
    try assertGradcheck("div by itself-shaped", [b, awayFromZero([3, 1], seed: 4)]) {
      try $0[0].div($0[1])
    }
    try assertGradcheck("scalar operand", [a, testTensor([], seed: 5)]) { try $0[1].mul($0[0]) }
  }

  func testUnaryOps() throws {
    let x = testTensor([3, 5], seed: 6)
    let nz = awayFromZero([3, 5], seed: 7)
    let pos = try positive([3, 5], seed: 8)
    try assertGradcheck("neg", [x]) { $0[0].neg() }
    try assertGradcheck("add scalar", [x]) { $0[0].add(1.5) }
    try assertGradcheck("mul scalar", [x]) { $0[0].mul(-2.5) }
    try assertGradcheck("exp", [x]) { $0[0].exp() }
    try assertGradcheck("log", [pos]) { $0[0].log() }
    try assertGradcheck("sqrt", [pos]) { $0[0].sqrt() }
    try assertGradcheck("abs", [nz]) { $0[0].abs() }
    try assertGradcheck("relu", [nz]) { $0[0].relu() }
    try assertGradcheck("sigmoid", [x]) { $0[0].sigmoid() }
    try assertGradcheck("tanh", [x]) { $0[0].tanh() }
    try assertGradcheck("pow 2", [x]) { $0[0].pow(2) }
    try assertGradcheck("pow 3", [x]) { $0[0].pow(3) }
    try assertGradcheck("pow 0.5", [pos]) { $0[0].pow(0.5) }
    try assertGradcheck("pow -1.5", [pos]) { $0[0].pow(-1.5) }
    try assertGradcheck("clone", [x]) { $0[0].clone() }
  }

  func testReductions() throws {
    let x = testTensor([2, 3, 4], seed: 9)
    try assertGradcheck("sum", [x]) { $0[0].sum() }
    try assertGradcheck("mean", [x]) { $0[0].mean() }
    try assertGradcheck("max", [x]) { try $0[0].max() }
    for d in [0, 1, 2, -1] {
      for keep in [false, true] {
        try assertGradcheck("sum dim \(d)", [x]) { try $0[0].sum(dim: d, keepDim: keep) }
        try assertGradcheck("mean dim \(d)", [x]) { try $0[0].mean(dim: d, keepDim: keep) }
        try assertGradcheck("max dim \(d)", [x]) { try $0[0].max(dim: d, keepDim: keep) }
      }
    }
  }

  func testSoftmaxAlongEveryDimension() throws {
    let x = testTensor([2, 3, 4], seed: 10)
    for d in [0, 1, 2] {
      try assertGradcheck("softmax \(d)", [x]) { try $0[0].softmax(dim: d) }
      try assertGradcheck("log_softmax \(d)", [x]) { try $0[0].logSoftmax(dim: d) }
    }
  }

  func testShapeOpsAndMatmul() throws {
    let a = testTensor([3, 4], seed: 11)
    let b = testTensor([4, 2], seed: 12)
    try assertGradcheck("reshape", [a]) { try $0[0].reshape([2, -1, 3]) }
    try assertGradcheck("transposed", [a]) { try $0[0].transposed() }
    try assertGradcheck("matmul", [a, b]) { try $0[0].matmul($0[1]) }
    try assertGradcheck("chain", [a, b]) {
      try $0[0].matmul($0[1]).tanh().logSoftmax(dim: 1).mean(dim: 0)
    }
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
