import MoonlabNN
import MoonlabTensor
import XCTest

/// Losses (mean reduction) and their input gradients against PyTorch.
final class LossFixtureTests: XCTestCase {
  func check(_ name: String, _ loss: Loss, file: StaticString = #filePath, line: UInt = #line)
    throws
  {
    let c = try FixtureCase.named(name)
    let x = try XCTUnwrap(c.inputs().first)
    x.requiresGrad = true
    let y = try loss(x, c.tensor("target"))
    assertMatches(y, try c.tensor("output"), "\(name) loss", file: file, line: line)
    try y.backward()
    assertMatches(
      try XCTUnwrap(x.grad), try c.tensor("grad_input"), "\(name) grad", file: file, line: line)
  }

  func testCrossEntropy() throws { try check("cross_entropy", CrossEntropyLoss()) }
  func testBCE() throws { try check("bce", BCELoss()) }
  func testBCEWithLogits() throws { try check("bce_logits", BCEWithLogitsLoss()) }
  func testMSE() throws { try check("mse", MSELoss()) }

  func testCrossEntropyRejectsOutOfRangeLabels() throws {
    let logits = Tensor(zeros: [2, 3])
    XCTAssertThrowsError(try CrossEntropyLoss()(logits, try Tensor(shape: [2], values: [0, 3]))) {
      XCTAssertTrue("\($0)".contains("label 3.0 of sample 2"), "\($0)")
    }
  }
}
