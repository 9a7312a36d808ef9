import MoonlabNN
import MoonlabTensor
import TestSupport
import XCTest

final class ModuleTests: XCTestCase {
  private final class Leaf: Module {
    override init() {
      super.init()
      param("weight", Tensor(zeros: [2, 3]))
      param("bias", Tensor(zeros: [2]))
      buffer("running_mean", Tensor(zeros: [2]))
    }
  }

  func testDottedNamesFollowRegistrationOrder() {
    let root = Module()
    root.module("0", Leaf())
    root.module("1", Module())
    root.module("2", Leaf())
    XCTAssertEqual(
      root.namedParameters().map(\.name), ["0.weight", "0.bias", "2.weight", "2.bias"])
    XCTAssertEqual(root.namedBuffers().map(\.name), ["0.running_mean", "2.running_mean"])
    XCTAssertEqual(root.numParameters, 16)
    XCTAssertTrue(root.parameters().allSatisfy(\.requiresGrad))
    root.eval()
    XCTAssertTrue(root.modules().allSatisfy { !$0.training })
  }

  /// An empty batch gives an empty output and zero parameter gradients (the kernels
  /// overwrite their gradient buffers, so the no-work case must write zeros itself, not
  /// leave the last batch's partial sums).
  func testEmptyBatchGivesZeroGradients() throws {
    for threads in [1, 2] {
      try inRun(threads: threads) {
        let linear = try Linear(3, 2)
        let conv = try Conv2d(1, 2, kernelSize: 3)
        for (module, full, empty) in [
          (linear as Module, [4, 3], [0, 3]), (conv, [4, 1, 8, 8], [0, 1, 8, 8]),
        ] {
          // A real batch first leaves partial sums in the layer's scratch memory.
          try module(try Tensor.randn(full)).sum().backward()
          module.zeroGrad()
          let input = Tensor(zeros: empty)
          let y = try module(input)
          XCTAssertEqual(y.count, 0)
          try y.sum().backward()
          for p in module.parameters() {
            XCTAssertEqual(try XCTUnwrap(p.grad).toArray(), [Float](repeating: 0, count: p.count))
          }
        }
      }
    }
  }
}
