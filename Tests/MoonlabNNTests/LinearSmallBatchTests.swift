import TestSupport
import XCTest

@testable import MoonlabNN
@testable import MoonlabTensor

/// Linear at a batch of 1–4 rows (SmallGEMM, not OpenBLAS): the output and all three
/// gradients are the same bits whether one thread does the batch or two threads split its
/// rows and output features, and at 5 rows (OpenBLAS) they agree to float rounding.
final class LinearSmallBatchTests: XCTestCase {
  /// y, dX, dW, db of Linear(70, 37) at `rows`, after seeding the weights from `seed`.
  func pass(rows: Int, threads: Int) throws -> [[Float]] {
    try inRun(threads: threads, seed: 3, splitTinyBatches: true) {
      let layer = try Linear(70, 37)
      let gen = Generator(seed: 9, stream: "linear-small")
      let x = try Tensor.rand([rows, 70], generator: gen)
      x.requiresGrad = true
      let y = try layer(x)
      try y.mul(y).sum().backward()
      return [y, x.grad!, layer.weight.grad!, layer.bias!.grad!].map { $0.toArray() }
    }
  }

  func testSmallBatchesRepeatAtAnyThreadCount() throws {
    for rows in 1...SmallGEMM.rowLimit {
      XCTAssertEqual(
        try pass(rows: rows, threads: 1), try pass(rows: rows, threads: 2), "\(rows) rows")
    }
  }

  func testSmallBatchRowsAgreeWithABlasBatch() throws {
    // The first 4 rows of a 5-row batch (OpenBLAS) against those rows alone (SmallGEMM).
    let small = try pass(rows: 4, threads: 1)
    let blas = try pass(rows: 5, threads: 1)
    let y = Array(blas[0].prefix(4 * 37))
    for (a, b) in zip(small[0], y) { XCTAssertEqual(a, b, accuracy: 1e-5 * max(1, abs(b))) }
  }
}
