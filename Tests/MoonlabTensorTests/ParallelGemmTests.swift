import MoonlabTensor
import TestSupport
import XCTest

/// GEMMs outside a parallel chunk split the rows of C over the run's threads
/// (`parallelSgemm`, OpenBLAS itself on one thread): the product and both gradients
/// (one with a transposed operand) agree with the one-thread result.
final class ParallelGemmTests: XCTestCase {
  func productAndGradients(threads: Int) throws -> [[Float]] {
    try inRun(threads: threads, splitTinyBatches: true) {
      let a = testTensor([7, 5], seed: 1)
      let b = testTensor([5, 3], seed: 2)
      a.requiresGrad = true
      b.requiresGrad = true
      let c = try a.matmul(b)
      try c.mul(c).sum().backward()
      return [c.toArray(), try XCTUnwrap(a.grad).toArray(), try XCTUnwrap(b.grad).toArray()]
    }
  }

  func testRowChunksGiveTheOneThreadResult() throws {
    let one = try productAndGradients(threads: 1)
    for (got, want) in zip(try productAndGradients(threads: 3), one) {
      XCTAssertEqual(got.count, want.count)
      for (x, y) in zip(got, want) { XCTAssertEqual(x, y, accuracy: 1e-5 * max(1, abs(y))) }
    }
  }
}
