import MoonlabTensor
import TestSupport
import XCTest

@testable import MoonlabNN

/// Every module's forward output and all gradients against PyTorch
/// (scripts/fixtures_nn.py).
final class ModuleFixtureTests: XCTestCase {
  func testLinear() throws {
    try check("linear", Linear(5, 4))
    try check("linear_nobias_3d", Linear(4, 3, bias: false))
  }

  func testConv2d() throws {
    try check("conv", Conv2d(3, 4, kernelSize: 3))
    try check("conv_s2p1", Conv2d(3, 4, kernelSize: 3, stride: 2, padding: 1))
    try check("conv_s2p2_k5", Conv2d(2, 3, kernelSize: 5, stride: 2, padding: 2))
  }

  /// Conv2d and Linear split the batch into per-thread chunks with partial dW/db.
  func testBatchSplitAcrossThreads() throws {
    try inRun(threads: 2, splitTinyBatches: true) {  // the fixtures are tiny: split them anyway
      try check("conv_s2p2_k5", Conv2d(2, 3, kernelSize: 5, stride: 2, padding: 2))
      try check("linear", Linear(5, 4))
      try check("maxpool2", MaxPool2d(2))
    }
  }

  /// Ties go to the first element of the window, NaN wins, as in PyTorch's CPU kernel.
  func testMaxPoolTiesAndNaN() throws {
    let x = try Tensor(shape: [1, 1, 2, 4], values: [1, 1, 0, .nan, 1, 1, 5, 2])
    x.requiresGrad = true
    let y = try MaxPool2d(2)(x)
    XCTAssertEqual(y.data[0], 1)
    XCTAssertTrue(y.data[1].isNaN)
    try y.sum().backward()
    XCTAssertEqual(try XCTUnwrap(x.grad).toArray(), [1, 0, 0, 1, 0, 0, 0, 0])
  }

  func testPooling() throws {
    try check("maxpool2", MaxPool2d(2))
    try check("maxpool3s2", MaxPool2d(3, stride: 2))
    try check("avgpool2", AvgPool2d(2))
    try check("avgpool3s2", AvgPool2d(3, stride: 2))
  }

  func testBatchNormTrainAndEvalWithRunningStatistics() throws {
    try check("bn2d_train", BatchNorm2d(3))
    try check("bn2d_eval", BatchNorm2d(3), train: false)
    try check("bn1d_train", BatchNorm1d(4))
    try check("bn1d_eval", BatchNorm1d(4), train: false)
  }

  func testActivations() throws {
    try check("relu", ReLU())
    try check("sigmoid", Sigmoid())
    try check("tanh", Tanh())
    try check("softmax", Softmax(dim: 1))
    try check("flatten", Flatten())
  }

  func testRNNOverFiveSteps() throws {
    try check("rnn_tanh", RNN(4, 6))
    try check("rnn_relu", RNN(4, 6, nonlinearity: .relu))
  }

  func testSequential() throws {
    let m = Sequential([
      try Conv2d(2, 3, kernelSize: 3, padding: 1), try BatchNorm2d(3), ReLU(), try MaxPool2d(2),
      Flatten(),
      try Linear(12, 5),
    ])
    try check("sequential", m)
  }
}
