import MoonlabNN
import MoonlabTensor
import XCTest

/// End-to-end training with a plain SGD loop over `parameters()` (issue 4, item 6).
final class TrainingTests: XCTestCase {
  func sgdStep(_ m: Module, lr: Float) {
    for p in m.parameters() {
      guard let g = p.grad else { continue }
      for i in 0..<p.count { p.data[i] -= lr * g.data[i] }
    }
  }

  func accuracy(_ logits: Tensor, _ labels: Tensor) -> Float {
    let (n, c) = (logits.shape[0], logits.shape[1])
    var right = 0
    for i in 0..<n {
      let row = Array(logits.toArray()[i * c..<(i + 1) * c])
      if row.firstIndex(of: row.max() ?? 0) == Int(labels.data[i]) { right += 1 }
    }
    return Float(right) / Float(n)
  }

  /// LeNet-CIFAR with SGD on random images drives the loss down (few samples: tests run
  /// in debug builds).
  func testLeNetLossGoesDownOnRandomData() throws {
    RunContext.current.reseed(3)
    let m = try Models.lenet()
    let gen = Generator(seed: 3, stream: "data")
    let x = try Tensor.randn([8, 3, 32, 32], generator: gen)
    let y = try Tensor(shape: [8], values: (0..<8).map { _ in Float(gen.below(10)) })
    var losses: [Float] = []
    for _ in 0..<6 {
      m.zeroGrad()
      let l = try CrossEntropyLoss()(m(x), y)
      try l.backward()
      sgdStep(m, lr: 0.05)
      losses.append(try l.item())
    }
    XCTAssertLessThan(losses.last ?? .infinity, losses[0] - 0.05, "\(losses)")
  }

  /// A small conv net (Conv, BatchNorm, pooling, Linear) memorizes 64 random samples.
  func testOverfits64SamplesToFullAccuracy() throws {
    RunContext.current.reseed(4)
    let m = Sequential([
      try Conv2d(3, 8, kernelSize: 3, padding: 1), try BatchNorm2d(8), ReLU(), try MaxPool2d(2),
      Flatten(),
      try Linear(128, 10),
    ])
    let gen = Generator(seed: 4, stream: "data")
    let x = try Tensor.randn([64, 3, 8, 8], generator: gen)
    let y = try Tensor(shape: [64], values: (0..<64).map { _ in Float(gen.below(10)) })
    var step = 0
    while step < 300 {
      m.zeroGrad()
      try CrossEntropyLoss()(m(x), y).backward()
      sgdStep(m, lr: 0.1)
      step += 1
      if step % 10 == 0, try accuracy(m(x), y) == 1 { break }
    }
    m.eval()
    XCTAssertEqual(try accuracy(Autograd.noGrad { try m(x) }, y), 1, "after \(step) steps")
  }
}
