import MoonlabTensor
import XCTest

/// backward() frees the graph it walked (docs/tensor.md, "The autograd tape"): a second
/// backward needs retain_graph, and the activations the nodes saved are gone right after.
final class GraphReleaseTests: XCTestCase {
  func leaf(_ values: [Float]) throws -> Tensor {
    let x = try Tensor(shape: [values.count], values: values)
    x.requiresGrad = true
    return x
  }

  func testSecondBackwardIsAnErrorNamingRetainGraph() throws {
    let x = try leaf([1, 2, 3])
    let loss = try x.mul(x).sum()
    try loss.backward()
    XCTAssertThrowsError(try loss.backward()) { error in
      let message = (error as? TensorError)?.message ?? ""
      XCTAssertTrue(message.contains("retain_graph"), message)
      XCTAssertTrue(message.contains("second time"), message)
    }
    // Detected before anything was accumulated.
    XCTAssertEqual(x.grad?.toArray(), [2, 4, 6])
    XCTAssertTrue(loss.requiresGrad)
  }

  /// A graph shared with a freed one is freed too, as in PyTorch.
  func testBackwardThroughAFreedSubgraphIsAnError() throws {
    let x = try leaf([1, 2])
    let h = x.exp()
    try h.sum().backward()
    XCTAssertThrowsError(try h.mul(2).sum().backward())
    XCTAssertEqual(x.grad?.count, 2)
  }

  func testRetainGraphGivesTheSameGradientsAgain() throws {
    let x = try leaf([1, 2, 3])
    let loss = try x.mul(x).mul(x).sum()
    try loss.backward(retainGraph: true)
    let once = try XCTUnwrap(x.grad).toArray()
    XCTAssertEqual(once, [3, 12, 27])
    try loss.backward(retainGraph: true)
    XCTAssertEqual(x.grad?.toArray(), once.map { 2 * $0 })
    try loss.backward()  // the last one may free it
    XCTAssertEqual(x.grad?.toArray(), once.map { 3 * $0 })
    XCTAssertThrowsError(try loss.backward())
  }

  /// The activations the graph saved die with the backward, while the loss is still held.
  func testSavedTensorsAreFreedByBackward() throws {
    let x = try leaf((0..<1000).map { Float($0) / 1000 })
    weak var hiddenStorage: TensorStorage?
    let loss: Tensor
    do {
      let h = x.tanh()
      hiddenStorage = h.storage
      loss = try h.mul(h).sum()
    }
    XCTAssertNotNil(hiddenStorage, "tanh and mul saved the activation for backward")
    try loss.backward()
    XCTAssertNil(hiddenStorage)
    XCTAssertNotNil(x.grad)
  }

  /// The graph keeps only what the closures saved: sum's input, which nothing saves, is
  /// freed right after the forward.
  func testUnsavedIntermediatesDieAfterTheForward() throws {
    let x = try leaf([1, 2, 3])
    weak var product: TensorStorage?
    let loss: Tensor
    do {
      let p = x.mul(2)
      product = p.storage
      loss = p.sum()
    }
    XCTAssertNil(product)
    try loss.backward()
    XCTAssertEqual(x.grad?.toArray(), [2, 2, 2])
  }

  func testLiveBytesReturnAfterATrainingStep() throws {
    let x = try leaf((0..<(1 << 16)).map { Float($0) / 65536 })
    let before = TensorMemory.liveBytes
    try x.relu().mul(x).exp().neg().sum().backward()
    // What remains is x's new gradient.
    XCTAssertEqual(TensorMemory.liveBytes - before, x.count * 4)
  }
}
