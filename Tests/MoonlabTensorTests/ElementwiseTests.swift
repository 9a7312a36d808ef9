import Foundation
import MoonlabTensor
import TestSupport
import XCTest

/// Elementwise ops on tensors large enough to be split over the thread pool: each result
/// equals the op applied to that element alone (here: the same op on a one-element
/// tensor, which never splits), on 1 and 2 threads, forward and backward.
final class ElementwiseTests: XCTestCase {
  func testSplitOpsEqualElementByElementResults() throws {
    let n = 3 * (1 << 16) + 5  // three chunks' worth and a ragged end
    let x = try Tensor.randn([n], generator: Generator(seed: 3, stream: "x"))
    let y = try Tensor.randn([n], generator: Generator(seed: 4, stream: "y"))
    let unary: [(String, (Tensor) -> Tensor)] = [
      ("relu", { $0.relu() }), ("exp", { $0.exp() }), ("tanh", { $0.tanh() }),
      ("sigmoid", { $0.sigmoid() }), ("abs", { $0.abs() }), ("neg", { $0.neg() }),
      ("pow3", { $0.pow(3) }), ("add", { $0.add(0.5) }), ("mul", { $0.mul(-1.5) }),
    ]
    let binary: [(String, (Tensor, Tensor) throws -> Tensor)] = [
      ("add", { try $0.add($1) }), ("sub", { try $0.sub($1) }), ("mul", { try $0.mul($1) }),
      ("div", { try $0.div($1) }),
    ]
    let (xs, ys) = (x.toArray(), y.toArray())
    let probes = [0, 1, 65_535, 65_536, 131_072, n / 2, n - 1]
    for threads in [1, 2] {
      try inRun(threads: threads) {
        for (name, op) in unary {
          let out = op(x).toArray()
          for i in probes {
            let alone = op(try Tensor(shape: [1], values: [xs[i]])).toArray()[0]
            XCTAssertEqual(
              out[i].bitPattern, alone.bitPattern, "\(name) at \(i), \(threads) threads")
          }
        }
        for (name, op) in binary {
          let out = try op(x, y).toArray()
          let scalar = try op(x, try Tensor(shape: [1], values: [ys[7]])).toArray()
          for i in probes {
            let a = try Tensor(shape: [1], values: [xs[i]])
            let alone = try op(a, try Tensor(shape: [1], values: [ys[i]])).toArray()[0]
            XCTAssertEqual(
              out[i].bitPattern, alone.bitPattern, "\(name) at \(i), \(threads) threads")
            let withScalar = try op(a, try Tensor(shape: [1], values: [ys[7]])).toArray()[0]
            XCTAssertEqual(
              scalar[i].bitPattern, withScalar.bitPattern, "\(name) with a scalar at \(i)")
          }
        }
        // Backward through a split op: relu's gradient is 1 where x > 0.
        let leaf = x.clone().detach()
        leaf.requiresGrad = true
        try leaf.relu().sum().backward()
        let grad = try XCTUnwrap(leaf.grad).toArray()
        for i in probes { XCTAssertEqual(grad[i], xs[i] > 0 ? 1 : 0, "relu gradient at \(i)") }
      }
    }
  }
}
