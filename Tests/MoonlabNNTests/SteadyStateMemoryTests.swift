import MoonlabNN
import XCTest

@testable import MoonlabTensor

/// A training step makes the same tensor sizes every step, so once warm it is served by
/// the storage pool and takes nothing new from the system (docs/architecture.md, "Memory").
final class SteadyStateMemoryTests: XCTestCase {
  func testSteadyTrainingStepsMapNoNewBlocks() throws {
    RunContext.current.reseed(5)
    let model = Sequential([
      try Conv2d(3, 8, kernelSize: 3, padding: 1), try BatchNorm2d(8), ReLU(), try MaxPool2d(2),
      Flatten(), try Linear(8 * 16 * 16, 10),
    ])
    let gen = Generator(seed: 5, stream: "data")
    let x = try Tensor.randn([32, 3, 32, 32], generator: gen)
    let y = try Tensor(shape: [32], values: (0..<32).map { _ in Float(gen.below(10)) })
    let sgd = try SGD(model.parameters(), lr: 0.01, momentum: 0.9)
    func step() throws {
      sgd.zeroGrad()
      try CrossEntropyLoss()(model(x), y).backward()
      try sgd.step()
    }
    for _ in 0..<2 { try step() }
    let mapped = StoragePool.mappedBlocks
    let footprint = TensorMemory.liveBytes + TensorMemory.pooledBytes
    for _ in 0..<5 { try step() }
    XCTAssertEqual(StoragePool.mappedBlocks, mapped, "blocks taken from the system in steady state")
    XCTAssertEqual(TensorMemory.liveBytes + TensorMemory.pooledBytes, footprint)
  }
}
