import MoonlabNN
import MoonlabTensor
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
    XCTAssertEqual(root.namedParameters().map(\.name), ["0.weight", "0.bias", "2.weight", "2.bias"])
    XCTAssertEqual(root.namedBuffers().map(\.name), ["0.running_mean", "2.running_mean"])
    XCTAssertEqual(root.numParameters, 16)
    XCTAssertTrue(root.parameters().allSatisfy(\.requiresGrad))
    root.eval()
    XCTAssertTrue(root.modules().allSatisfy { !$0.training })
  }
}
