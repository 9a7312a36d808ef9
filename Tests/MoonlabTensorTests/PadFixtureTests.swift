import Foundation
import MoonlabTensor
import TestSupport
import XCTest

/// `Tensor.pad` (F.pad) against PyTorch's outputs and gradients, from
/// Fixtures/pad_fixtures.json written by scripts/fixtures_pad.py, and its errors.
final class PadFixtureTests: XCTestCase {
  struct Values: Decodable {
    let shape: [Int]
    let values: [Float]
    func tensor() throws -> Tensor { try Tensor(shape: shape, values: values) }
  }
  struct Case: Decodable {
    let name, mode: String
    let pads: [Int]
    let value: Float
    let input, output, grad, grad_output: Values
  }
  struct Fixture: Decodable { let cases: [Case] }

  func load() throws -> Fixture {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
      .appendingPathComponent("Fixtures/pad_fixtures.json")
    return try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
  }

  func testPadMatchesPyTorch() throws {
    let cases = try load().cases
    XCTAssertEqual(cases.count, 19)
    for c in cases {
      let x = try c.input.tensor()
      x.requiresGrad = true
      let mode = try XCTUnwrap(Tensor.PadMode(rawValue: c.mode))
      let out = try x.pad(c.pads, mode: mode, value: c.value)
      XCTAssertEqual(out.shape, c.output.shape, c.name)
      XCTAssertEqual(out.toArray(), c.output.values, c.name)  // copies: exact
      try out.mul(try c.grad_output.tensor()).sum().backward()
      assertClose(x.grad?.toArray() ?? [], c.grad.values, rtol: 1e-5, atol: 1e-5, c.name)
    }
  }

  /// Reflect pad 2 of [a b c d] (hand derivation): c b | a b c d | c b; the gradient of
  /// each input is 1 plus one per copy of it: b and c are copied twice.
  func testReflectGradientAccumulatesIntoSources() throws {
    let x = try Tensor(shape: [1, 4], values: [1, 2, 3, 4])
    x.requiresGrad = true
    let out = try x.pad([2, 2], mode: .reflect)
    XCTAssertEqual(out.toArray(), [3, 2, 1, 2, 3, 4, 3, 2])
    try out.sum().backward()
    XCTAssertEqual(x.grad?.toArray(), [1, 3, 3, 1])
    let r = try Tensor(shape: [1, 3], values: [1, 2, 3])
    r.requiresGrad = true
    try r.pad([2, 1], mode: .replicate).sum().backward()
    XCTAssertEqual(r.grad?.toArray(), [3, 1, 2])
  }

  func testEdgeShapes() throws {
    XCTAssertEqual(try Tensor(scalar: 2).pad([]).toArray(), [2])
    XCTAssertEqual(try Tensor(shape: [2], values: [1, 2]).pad([]).toArray(), [1, 2])
    XCTAssertEqual(try Tensor(shape: [2], values: [1, 2]).pad([-1, -1]).shape, [0])
    XCTAssertEqual(try Tensor(zeros: [0, 2]).pad([1, 1]).shape, [0, 4])
    XCTAssertEqual(
      try Tensor(shape: [1, 2], values: [1, 2]).pad([0, 0, 1, 0], value: 7).toArray(), [7, 7, 1, 2])
  }

  func testErrors() throws {
    let x = Tensor(zeros: [2, 3, 4])
    func message(_ body: () throws -> Tensor) -> String {
      do {
        _ = try body()
        return "no error"
      } catch { return "\(error)" }
    }
    XCTAssertTrue(message { try x.pad([1]) }.contains("pairs, got 1"))
    XCTAssertTrue(
      message { try x.pad([1, 1, 1, 1, 1, 1, 1, 1]) }.contains("the input [2,3,4] has 3"))
    XCTAssertTrue(
      message { try x.pad([4, 0], mode: .reflect) }.contains("smaller than the dimension"))
    XCTAssertTrue(
      message { try x.pad([0, 0, 3, 3], mode: .reflect) }.contains("dimension 2 of size 3"))
    XCTAssertTrue(message { try x.pad([-3, -2]) }.contains("negative size -1"))
    XCTAssertTrue(
      message { try Tensor(zeros: [2, 0]).pad([1, 1], mode: .replicate) }.contains("non-empty"))
    XCTAssertTrue(message { try x.pad([1 << 50, 0]) }.contains("too large"))
    // Too large for memory, also when another dimension makes the output empty.
    XCTAssertTrue(message { try x.pad([1 << 39, 0]) }.contains("too large"))
    XCTAssertEqual(try Tensor(zeros: [0, 2]).pad([0, 1 << 39]).shape, [0, 2 + 1 << 39])
  }
}
