import MoonlabNN
import XCTest

@testable import MoonlabTensor

/// A training step makes the same tensor sizes every step, so once warm it is served by
/// the storage pool and takes no tensor memory from the system, small or large
/// (docs/architecture.md, "Memory"). The pool counts every block it asks malloc or mmap
/// for; these tests read that count around steady-state steps of the networks the issue
/// names: the MLP of the batch-size experiment and LeNet, plus a conv + BatchNorm net.
final class SteadyStateAllocationTests: XCTestCase {
  /// Runs two warm-up steps, then five more, and checks the five took nothing from the
  /// system and left live plus pooled bytes where they were.
  private func assertSteadyState(
    _ model: Module, _ loss: Loss, _ x: Tensor, _ y: Tensor, momentum: Double = 0.9,
    file: StaticString = #filePath, line: UInt = #line
  ) throws {
    let sgd = try SGD(model.parameters(), lr: 0.01, momentum: momentum, weightDecay: 5e-4)
    func step() throws {
      sgd.zeroGrad()
      try loss(model(x), y).backward()
      try sgd.step()
    }
    for _ in 0..<2 { try step() }
    let taken = TensorMemory.systemAllocations
    let footprint = TensorMemory.liveBytes + TensorMemory.pooledBytes
    for _ in 0..<5 { try step() }
    XCTAssertEqual(
      TensorMemory.systemAllocations - taken, 0,
      "tensor blocks taken from the system in steady state",
      file: file, line: line)
    XCTAssertEqual(
      TensorMemory.liveBytes + TensorMemory.pooledBytes, footprint, file: file, line: line)
  }

  /// MLP 784-100(tanh)-100(tanh)-10(sigmoid), BCE against one-hot targets, plain SGD:
  /// experiments/mlp_batch_size.lua's network, at batch 1 and 16, where every activation
  /// is a small block.
  func testMLPStepsTakeNoTensorMemory() throws {
    for batch in [1, 16] {
      RunContext.current.reseed(3)
      let model = Sequential([
        try Linear(784, 100), Tanh(), try Linear(100, 100), Tanh(), try Linear(100, 10), Sigmoid(),
      ])
      let gen = Generator(seed: 3, stream: "data")
      let x = try Tensor.rand([batch, 784], generator: gen)
      let y = try Tensor(
        shape: [batch, 10], values: (0..<batch * 10).map { $0 % 10 == $0 / 10 % 10 ? 1 : 0 })
      try assertSteadyState(model, BCELoss(), x, y, momentum: 0)
    }
  }

  /// LeNet-5 on CIFAR-sized images, cross-entropy, SGD with momentum and weight decay.
  func testLeNetStepsTakeNoTensorMemory() throws {
    RunContext.current.reseed(4)
    let model = Sequential([
      try Conv2d(3, 6, kernelSize: 5), ReLU(), try MaxPool2d(2),
      try Conv2d(6, 16, kernelSize: 5), ReLU(), try MaxPool2d(2),
      Flatten(), try Linear(16 * 5 * 5, 120), ReLU(), try Linear(120, 84), ReLU(),
      try Linear(84, 10),
    ])
    let gen = Generator(seed: 4, stream: "data")
    let x = try Tensor.randn([32, 3, 32, 32], generator: gen)
    let y = try Tensor(shape: [32], values: (0..<32).map { _ in Float(gen.below(10)) })
    try assertSteadyState(model, CrossEntropyLoss(), x, y)
  }

  func testConvBatchNormStepsTakeNoTensorMemory() throws {
    RunContext.current.reseed(5)
    let model = Sequential([
      try Conv2d(3, 8, kernelSize: 3, padding: 1), try BatchNorm2d(8), ReLU(), try MaxPool2d(2),
      Flatten(), try Linear(8 * 16 * 16, 10),
    ])
    let gen = Generator(seed: 5, stream: "data")
    let x = try Tensor.randn([32, 3, 32, 32], generator: gen)
    let y = try Tensor(shape: [32], values: (0..<32).map { _ in Float(gen.below(10)) })
    try assertSteadyState(model, CrossEntropyLoss(), x, y)
  }

  /// A freed small block serves the next tensor of its size class, zeroed on request.
  func testSmallBlocksAreReused() throws {
    var first: Tensor? = try Tensor.full([100], 7)
    let address = first.map { UnsafeMutableRawPointer($0.data) }
    first = nil
    let taken = TensorMemory.systemAllocations
    let second = try Tensor.zeros([97])
    XCTAssertEqual(UnsafeMutableRawPointer(second.data), address)
    XCTAssertEqual(TensorMemory.systemAllocations, taken)
    XCTAssertEqual(second.sum().toArray(), [0])
  }
}
