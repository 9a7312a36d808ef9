import MoonlabNN
import MoonlabTensor
import TestSupport
import XCTest

/// The two reference networks of the acceptance list (issue 4, item 3).
enum Models {
  static func mlp() throws -> Sequential {
    Sequential([try Linear(30, 1024), ReLU(), try Linear(1024, 512), ReLU(), try Linear(512, 1)])
  }

  static func lenet() throws -> Sequential {
    Sequential([
      try Conv2d(3, 6, kernelSize: 5), ReLU(), try MaxPool2d(2), try Conv2d(6, 16, kernelSize: 5),
      ReLU(),
      try MaxPool2d(2), Flatten(), try Linear(400, 120), ReLU(), try Linear(120, 84), ReLU(),
      try Linear(84, 10),
    ])
  }
}

final class ModelTests: XCTestCase {
  func testParameterCounts() throws {
    XCTAssertEqual(try Models.mlp().numParameters, 557_057)
    XCTAssertEqual(try Models.lenet().numParameters, 62_006)
  }

  func testStateDictNamesFollowPyTorch() throws {
    let m = Sequential([
      try Conv2d(3, 4, kernelSize: 3), try BatchNorm2d(4), ReLU(), try Linear(4, 2),
    ])
    XCTAssertEqual(
      m.namedParameters().map(\.name),
      ["0.weight", "0.bias", "1.weight", "1.bias", "3.weight", "3.bias"])
    XCTAssertEqual(
      m.namedBuffers().map(\.name), ["1.running_mean", "1.running_var", "1.num_batches_tracked"])
  }

  func testSummaryListsShapesAndCounts() throws {
    let m = try Models.lenet()
    let text = try m.summary(inputShape: [1, 3, 32, 32])
    let rows = text.split(separator: "\n").map { $0.split(separator: " ").joined(separator: " ") }
    XCTAssertTrue(rows.contains("0 Conv2d(3 -> 6, kernel 5) [1,6,28,28] 456"), text)
    XCTAssertTrue(rows.contains("6 Flatten [1,400] 0"), text)
    XCTAssertTrue(rows.contains("7 Linear(400 -> 120) [1,120] 48,120"), text)
    XCTAssertTrue(text.hasSuffix("total parameters: 62,006"), text)
    XCTAssertTrue(m.training, "summary leaves train mode on")
  }

  func testSequentialSaysWhichModuleFailed() throws {
    let m = Sequential([try Linear(4, 3), ReLU(), try Conv2d(3, 6, kernelSize: 5)])
    XCTAssertThrowsError(try m(Tensor(zeros: [2, 4]))) {
      XCTAssertEqual(
        "\($0)", "in module 3 (Conv2d) of Sequential: Conv2d: expected input [N,3,H,W], got [2,3]")
    }
  }

  func testResidualAddsTheShortcut() throws {
    let block = try Linear(3, 3)
    let r = Residual(block)
    let x = testTensor([2, 3])
    assertClose(try r(x).toArray(), try block(x).add(x).toArray())
    let projected = Residual(try Linear(3, 2), shortcut: try Linear(3, 2, bias: false))
    XCTAssertEqual(try projected(x).shape, [2, 2])
    XCTAssertEqual(
      projected.namedParameters().map(\.name), ["block.weight", "block.bias", "shortcut.weight"])
  }

  func testDropoutScalesKeptUnitsAndIsIdentityInEval() throws {
    let d = try Dropout(0.25)
    let x = try Tensor.ones([4000])
    x.requiresGrad = true
    let y = try d(x)
    let kept = y.toArray().filter { $0 != 0 }
    XCTAssertEqual(Double(kept.count) / 4000, 0.75, accuracy: 0.03)
    XCTAssertTrue(kept.allSatisfy { abs($0 - 1 / 0.75) < 1e-6 })
    try y.sum().backward()
    XCTAssertEqual(try XCTUnwrap(x.grad).toArray(), y.toArray())
    d.eval()
    XCTAssertTrue(try d(x) === x)
  }

  func testDefaultInitIsSeededAndPyTorchScaled() throws {
    RunContext.current.reseed(7)
    let a = try Linear(100, 10)
    RunContext.current.reseed(7)
    let b = try Linear(100, 10)
    XCTAssertEqual(a.weight.toArray(), b.weight.toArray())
    let bound: Float = 1 / 10  // 1/√fan_in
    XCTAssertTrue(a.weight.toArray().allSatisfy { abs($0) <= bound })
    XCTAssertGreaterThan(a.weight.toArray().map(abs).max() ?? 0, 0.09)
  }

  func testInitializers() throws {
    let w = Tensor(zeros: [200, 50])
    try Init.msra(w)
    let v = w.toArray()
    let std = (v.map { $0 * $0 }.reduce(0, +) / Float(v.count)).squareRoot()
    XCTAssertEqual(std, (2 / Float(50)).squareRoot(), accuracy: 0.01)
    try Init.xavier(w)
    XCTAssertTrue(w.toArray().allSatisfy { abs($0) <= (6 / Float(250)).squareRoot() })
    Init.constant(w, 3)
    XCTAssertEqual(Set(w.toArray()), [3])
    XCTAssertThrowsError(try Init.msra(Tensor(zeros: [5])))
  }

  func testInputGradientsPassGradcheck() throws {
    let layers: [(Module, [Int])] = [
      (try Conv2d(2, 3, kernelSize: 3, stride: 2, padding: 1), [2, 2, 5, 5]),
      (try AvgPool2d(2), [1, 2, 4, 4]),
      (try BatchNorm2d(2), [3, 2, 2, 2]),
      (try RNN(3, 4), [4, 2, 3]),
    ]
    for (m, shape) in layers {
      let (ok, err) = try gradcheck({ try m($0[0]) }, inputs: [testTensor(shape)])
      XCTAssertTrue(ok, "\(m.typeName): max error \(err)")
    }
  }
}
