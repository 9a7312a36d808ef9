import MoonlabTensor
import TestSupport
import XCTest

@testable import MoonlabNN

/// The convolution + BatchNorm (+ReLU, +residual) blocks VGG and ResNet nets are made of,
/// against PyTorch (conv_bn_fixtures.json, scripts/fixtures_nn.py): two training steps
/// that move the running statistics, then eval with them; outputs, input gradients,
/// parameter gradients and buffers within 1e-4 relative. Whatever fast path the
/// convolution or the fused BatchNorm takes for these shapes must keep them.
extension ModuleFixtureTests {
  func convBN(_ cin: Int, _ cout: Int, _ k: Int, stride: Int, relu: Bool = true) throws -> [Module]
  {
    [
      try Conv2d(cin, cout, kernelSize: k, stride: stride, padding: k / 2, bias: false),
      try BatchNorm2d(cout),
    ] + (relu ? [ReLU()] : [])
  }

  /// PyTorch's Sequential(Residual(block, shortcut), ReLU) as in a ResNet basic block.
  func basicBlock(_ cin: Int, _ cout: Int, stride: Int) throws -> Sequential {
    let block = Sequential(
      try convBN(cin, cout, 3, stride: stride) + convBN(cout, cout, 3, stride: 1, relu: false))
    let shortcut =
      stride == 1 ? nil : Sequential(try convBN(cin, cout, 1, stride: stride, relu: false))
    return Sequential([Residual(block, shortcut: shortcut), ReLU()])
  }

  func checkTrainThenEval(_ name: String, _ make: () throws -> Module) throws {
    let m = try make()
    try check(name + "_train", m)
    try check(name + "_eval", m, train: false)
  }

  func testConvBNBlocks() throws {
    try checkTrainThenEval("conv3x3_bn_relu") { Sequential(try convBN(5, 8, 3, stride: 1)) }
    try checkTrainThenEval("conv3x3_s2_bn_relu") { Sequential(try convBN(6, 16, 3, stride: 2)) }
    try checkTrainThenEval("conv1x1_s2_bn") {
      Sequential(try convBN(8, 16, 1, stride: 2, relu: false))
    }
    try check("conv3x3_bias_wide", try Conv2d(16, 24, kernelSize: 3, padding: 1))
  }

  func testResidualBlocks() throws {
    try checkTrainThenEval("basic_block") { try basicBlock(16, 16, stride: 1) }
    try checkTrainThenEval("basic_block_down") { try basicBlock(8, 16, stride: 2) }
  }

  /// The same blocks split across two threads (tiny batches split anyway).
  func testConvBNBlocksAcrossThreads() throws {
    try inRun(threads: 2, splitTinyBatches: true) {
      try checkTrainThenEval("conv3x3_s2_bn_relu") { Sequential(try convBN(6, 16, 3, stride: 2)) }
      try checkTrainThenEval("basic_block_down") { try basicBlock(8, 16, stride: 2) }
    }
  }

  /// Same input, same weights, two threads: the output and every gradient have the same
  /// bits on every run (fixed chunks, partial sums added in chunk order).
  func testResidualBlockIsBitIdenticalAcrossRuns() throws {
    func run() throws -> [[Float]] {
      try inRun(threads: 2, seed: 7) {
        let m = try basicBlock(16, 32, stride: 2)
        let x = try Tensor.randn([8, 16, 16, 16], generator: Generator(seed: 3, stream: "x"))
        x.requiresGrad = true
        let y = try m(x)
        try y.backward(try Tensor.randn(y.shape, generator: Generator(seed: 4, stream: "g")))
        return [y.toArray(), try XCTUnwrap(x.grad).toArray()]
          + m.parameters().map { $0.grad?.toArray() ?? [] }
      }
    }
    let first = try run()
    let second = try run()
    XCTAssertEqual(first.count, second.count)
    for (a, b) in zip(first, second) {
      XCTAssertEqual(a.map(\.bitPattern), b.map(\.bitPattern))
    }
  }

  /// Central differences of the input gradient through whole blocks (the input gradients
  /// of both convolution paths, BatchNorm with batch statistics, the residual add and the
  /// ReLUs); the weight gradients are checked against PyTorch above. Running statistics
  /// move with every forward, which the result does not depend on in train mode.
  func testBlockInputGradcheck() throws {
    RunContext.current.reseed(5)
    for m in [try basicBlock(3, 4, stride: 2), Sequential(try convBN(3, 5, 3, stride: 1))] {
      let x = try Tensor.randn([2, 3, 7, 6], generator: Generator(seed: 6, stream: "x"))
      let (ok, maxError) = try gradcheck({ try m($0[0]) }, inputs: [x])
      XCTAssertTrue(ok, "max error \(maxError)")
    }
  }
}
